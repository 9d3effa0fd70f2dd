package balanced

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
)

// The operator's own transactions: POST /operator_transactions records one
// ({"operator_transactions": [{...}]}) or a list of up to
// merchants.MaxTransactionsPerCall, all or nothing; POST
// /operator_transactions/imports records archived TSV or CSV files, each
// all or nothing. The operator's ID of each transaction (external_id)
// makes recording idempotent.

// maxOperatorCallBytes bounds a list of transactions sent as JSON: a
// thousand transactions of a few hundred bytes each.
const maxOperatorCallBytes = 1 << 20

func (a *API) recordOperatorTransactions(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	v, err := decodeJSON(c.body)
	if err != nil {
		return err
	}
	if err := checkStrings(v, ""); err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return apperr.WithReason(apperr.Invalid, "request", "the body must be a JSON object, not %s", jsonKind(v))
	}
	var items []any
	switch x := obj["operator_transactions"].(type) {
	case []any:
		items = x
	case map[string]any:
		items = []any{x}
	case nil:
		items = []any{obj}
	default:
		return fieldError("operator_transactions", "must be a list of objects")
	}
	if len(items) == 0 || len(items) > merchants.MaxTransactionsPerCall {
		return fieldError("operator_transactions", "must list 1 to %d transactions (import a file for more)", merchants.MaxTransactionsPerCall)
	}
	ins := make([]merchants.TransactionInput, len(items))
	for i, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return fieldError("operator_transactions", "item %d must be an object, not %s", i+1, jsonKind(item))
		}
		in, err := operatorInput(fields(m))
		if err != nil {
			if len(items) > 1 {
				return apperr.WithReason(apperr.CodeOf(err), "request", "item %d: %s", i+1, apperr.MessageOf(err))
			}
			return err
		}
		in.Line = i + 1
		ins[i] = in
	}
	var out []merchants.OperatorTransaction
	if len(ins) == 1 {
		o, err := a.merchants.RecordTransaction(c.ctx, c.mp(), ins[0])
		if err != nil {
			return err
		}
		out = []merchants.OperatorTransaction{o}
	} else if out, err = a.merchants.RecordTransactions(c.ctx, c.mp(), ins); err != nil {
		var te *balances.TransactionsError
		if errors.As(err, &te) {
			return apperr.WithReason(apperr.Invalid, "request", "nothing was recorded: %d bad transactions, the first item %d: %s",
				len(te.Lines), te.Lines[0].Line, te.Lines[0].Message)
		}
		return err
	}
	status := http.StatusOK
	reps := make([]any, len(out))
	for i, o := range out {
		reps[i] = operatorRepresentation(o)
		if !o.Replayed {
			status = http.StatusCreated
		}
	}
	a.write(c, status, map[string]any{"operator_transactions": reps, "links": map[string]any{}})
	return nil
}

// operatorInput reads one transaction of a call: amount in minor units
// of its currency, occurred_at an RFC 3339 time.
func operatorInput(f fields) (merchants.TransactionInput, error) {
	keys := []string{"external_id", "type", "currency", "merchant", "endpoint", "gate", "processor", "card_mapping", "occurred_at"}
	if err := f.scalars(keys...); err != nil {
		return merchants.TransactionInput{}, err
	}
	for k := range f {
		known := k == "amount"
		for _, name := range keys {
			known = known || k == name
		}
		if !known {
			return merchants.TransactionInput{}, fieldError(k, "is not a field of an operator transaction")
		}
	}
	in := merchants.TransactionInput{ExternalID: f.str("external_id"), Type: f.str("type"), Currency: f.str("currency"),
		Merchant: f.str("merchant"), Endpoint: f.str("endpoint"), Gate: f.str("gate"), Processor: f.str("processor"),
		CardMapping: f.str("card_mapping")}
	n, given, err := f.integer("amount")
	if err != nil {
		return in, err
	}
	if !given {
		return in, fieldError("amount", "is required, in minor units of the currency")
	}
	in.AmountMinor = n
	if in.OccurredAt, err = time.Parse(time.RFC3339Nano, f.str("occurred_at")); err != nil {
		return in, fieldError("occurred_at", "must be an RFC 3339 time, when the transaction happened")
	}
	return in, nil
}

// operatorRepresentation is a recorded transaction as the API shows it.
func operatorRepresentation(o merchants.OperatorTransaction) map[string]any {
	rep := map[string]any{
		"id": o.ID, "href": "/operator_transactions/" + o.ID, "external_id": o.ExternalID, "type": o.Type,
		"amount": o.AmountMinor, "currency": o.Currency, "merchant": o.Merchant, "endpoint": o.Endpoint, "gate": o.Gate,
		"processor": o.Processor, "card_mapping": nilIfBlank(o.CardMapping),
		"occurred_at": o.OccurredAt.UTC().Format(timeFormat), "created_at": o.RecordedAt.UTC().Format(timeFormat),
		"balance_entry": o.EntryID, "links": map[string]any{},
	}
	if cur, err := money.LookupCurrency(o.Currency); err == nil {
		rep["amount_decimal"] = money.Amount{Minor: o.AmountMinor, Currency: cur}.Decimal()
	}
	return rep
}

func nilIfBlank(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (a *API) getOperatorTransaction(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	o, err := a.merchants.OperatorTransaction(c.ctx, c.mp(), c.params["id"])
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"operator_transactions": []any{operatorRepresentation(o)}, "links": map[string]any{}})
	return nil
}

// importOperatorTransactions records archived transaction files (zip or
// gzip of TSV or CSV, see balances.ParseTransactions), each whole or
// not at all; a refused file lists its bad lines. A file imported again
// changes nothing.
func (a *API) importOperatorTransactions(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	files, err := balances.UnpackUpTo(c.body, balances.MaxImportUnpackedBytes)
	if err != nil {
		return err
	}
	results := []any{}
	status := http.StatusCreated
	for _, f := range files {
		res := map[string]any{"file": f.Name}
		out, err := a.importFile(c, f.Data)
		var te *balances.TransactionsError
		switch {
		case errors.As(err, &te):
			status = http.StatusBadRequest
			bad := make([]any, len(te.Lines))
			for i, l := range te.Lines {
				bad[i] = map[string]any{"line": l.Line, "message": l.Message}
			}
			res["status"], res["errors"] = "refused", bad
			res["message"] = fmt.Sprintf("nothing was recorded: line %d: %s", te.Lines[0].Line, te.Lines[0].Message)
		case apperr.CodeOf(err) == apperr.Invalid:
			status = http.StatusBadRequest
			res["status"], res["errors"] = "refused", []any{map[string]any{"line": 0, "message": apperr.MessageOf(err)}}
			res["message"] = apperr.MessageOf(err)
		case err != nil:
			return err
		default:
			recorded, replayed := 0, 0
			for _, o := range out {
				if o.Replayed {
					replayed++
				} else {
					recorded++
				}
			}
			res["status"], res["recorded"], res["already_recorded"] = "recorded", recorded, replayed
		}
		results = append(results, res)
	}
	a.write(c, status, map[string]any{"imports": results, "links": map[string]any{}})
	return nil
}

func (a *API) importFile(c *call, data []byte) ([]merchants.OperatorTransaction, error) {
	lines, err := balances.ParseTransactions(string(data))
	if err != nil {
		return nil, err
	}
	return a.merchants.RecordTransactions(c.ctx, c.mp(), lines)
}

// createGate configures one of the operator's gates ({"name", "processor"}).
func (a *API) createGate(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	f, err := c.fields("gates")
	if err != nil {
		return err
	}
	if err := f.scalars("name", "processor"); err != nil {
		return err
	}
	r, err := a.merchants.CreateGate(c.ctx, c.mp(), merchants.GateInput{Name: f.str("name"), Processor: f.str("processor")})
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, r)
}

// createGateGroup configures a group of gates ({"name", "gates": [names]}).
func (a *API) createGateGroup(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	f, err := c.fields("gate_groups")
	if err != nil {
		return err
	}
	if err := f.scalars("name"); err != nil {
		return err
	}
	gates, err := f.nameList("gates")
	if err != nil {
		return err
	}
	r, err := a.merchants.CreateGateGroup(c.ctx, c.mp(), f.str("name"), gates)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, r)
}

// updateGateGroup replaces a group's gates ({"gates": [names]}).
func (a *API) updateGateGroup(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	f, err := c.fields("gate_groups")
	if err != nil {
		return err
	}
	gates, err := f.nameList("gates")
	if err != nil {
		return err
	}
	r, err := a.merchants.SetGateGroupGates(c.ctx, c.mp(), c.params["id"], gates)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, r)
}

// nameList reads a list of names (not references).
func (f fields) nameList(k string) ([]string, error) {
	v, ok := f[k]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fieldError(k, "must be a list of names, not %s", jsonKind(v))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fieldError(k, "must be a list of names, not of %s", jsonKind(e))
		}
		out = append(out, s)
	}
	return out, nil
}
