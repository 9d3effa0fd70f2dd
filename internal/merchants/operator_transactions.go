package merchants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// A payment operator processes cards on its own gates, outside Poise, and
// records each transaction here so that its merchants' balances count it.
// A recorded transaction is one entry of the balance feed, posted through
// the rules exactly like the entry of a Balanced payment; nothing moves in
// the Balanced escrow, since the money never passed through it.

// OperatorTransaction is one of the operator's transactions as recorded.
type OperatorTransaction struct {
	ID, Marketplace string
	// ExternalID is the operator's ID of it: recording the same ID again
	// changes nothing.
	ExternalID string
	// EntryID is its entry in the balance feed.
	EntryID string
	// Merchant is the merchant's ID.
	Merchant string
	Type     string
	// AmountMinor is never negative: the type's rule adds or deducts it.
	AmountMinor                                      int64
	Currency, Endpoint, Gate, Processor, CardMapping string
	OccurredAt, RecordedAt                           time.Time
	// Fingerprint digests what was sent (see fingerprint).
	Fingerprint string
	// Replayed is true when the call found it recorded already.
	Replayed bool
}

// OperatorTx records operator transactions inside an operation.
type OperatorTx interface {
	InsertOperatorTransactions(ctx context.Context, rows []OperatorTransaction) error
	// InsertFeedEntries and InsertBalanceEffects write many rows at once.
	InsertFeedEntries(ctx context.Context, rows []payments.FeedEntry) error
	InsertBalanceEffects(ctx context.Context, rows []BalanceEffect) error
	// OperatorTransactionsByExternalID reads the recorded transactions of
	// a marketplace among externalIDs, by external ID.
	OperatorTransactionsByExternalID(ctx context.Context, marketplace string, externalIDs []string) (map[string]OperatorTransaction, error)
}

// OperatorReads reads recorded operator transactions.
type OperatorReads interface {
	// OperatorTransactionsByID reads the recorded transactions of a
	// marketplace among ids, by ID.
	OperatorTransactionsByID(ctx context.Context, marketplace string, ids []string) (map[string]OperatorTransaction, error)
	// AnalyzeOperatorTransactions refreshes the store's statistics of
	// recorded transactions after a large import.
	AnalyzeOperatorTransactions(ctx context.Context) error
	OperatorTransaction(ctx context.Context, marketplace, id string) (OperatorTransaction, error)
}

// TransactionInput is one transaction as the operator sends it, from a
// file or from the API.
type TransactionInput = balances.TransactionLine

// Limits of recording.
const (
	// MaxTransactionsPerCall bounds the transactions of one API call; a
	// file import takes up to balances.MaxImportLines.
	MaxTransactionsPerCall = 1000
	// maxOperatorAmountMinor bounds one transaction: 10^12 minor units is
	// ten billion dollars, and the sum of a whole import stays far from
	// overflowing an int64.
	maxOperatorAmountMinor = 1_000_000_000_000
	// maxAttributeLen bounds IDs and names sent with a transaction.
	maxAttributeLen = 255
)

// RecordTransaction records one of the operator's transactions and posts
// it into the balances it reaches. The same external ID sent again with
// the same content answers the transaction recorded first, marked
// Replayed; with other content it is refused.
func (s *Service) RecordTransaction(ctx context.Context, marketplace string, in TransactionInput) (OperatorTransaction, error) {
	in.Line = 1
	out, bad, err := s.record(ctx, marketplace, []TransactionInput{in})
	if err != nil {
		return OperatorTransaction{}, err
	}
	if len(bad) > 0 {
		return OperatorTransaction{}, apperr.New(bad[0].code, "%s", bad[0].Message)
	}
	return out[0], nil
}

// RecordTransactions records the operator's transactions all or nothing:
// every one in one database transaction, posted in the order given, or
// none when any is refused, with a *balances.TransactionsError naming
// every bad line (by Line). Those recorded before under the same external
// ID and content are answered as they were (Replayed), so sending a list
// or a file again changes nothing.
func (s *Service) RecordTransactions(ctx context.Context, marketplace string, ins []TransactionInput) ([]OperatorTransaction, error) {
	out, bad, err := s.record(ctx, marketplace, ins)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		te := &balances.TransactionsError{}
		for _, b := range bad {
			te.Lines = append(te.Lines, b.LineError)
		}
		return nil, te
	}
	return out, nil
}

// lineFailure is a refused transaction: its line, and the kind of error
// it would be alone.
type lineFailure struct {
	balances.LineError
	code apperr.Code
}

// resolvedTxn is a transaction with its references resolved.
type resolvedTxn struct {
	in       TransactionInput
	merchant payments.Resource
	fp       string
}

// record checks every transaction, then records and posts them in one
// operation; a refused line refuses them all.
func (s *Service) record(ctx context.Context, marketplace string, ins []TransactionInput) ([]OperatorTransaction, []lineFailure, error) {
	if len(ins) == 0 {
		return nil, nil, apperr.New(apperr.Invalid, "no transactions to record")
	}
	if len(ins) > balances.MaxImportLines {
		return nil, nil, apperr.New(apperr.Invalid, "at most %d transactions may be recorded at once", balances.MaxImportLines)
	}
	refs, err := s.operatorRefs(ctx, marketplace)
	if err != nil {
		return nil, nil, err
	}
	var bad []lineFailure
	fail := func(line int, code apperr.Code, format string, args ...any) {
		if len(bad) < maxLineFailures {
			bad = append(bad, lineFailure{balances.LineError{Line: line, Message: fmt.Sprintf(format, args...)}, code})
		}
	}
	resolved := make([]resolvedTxn, 0, len(ins))
	seen := make(map[string]int, len(ins))
	for _, in := range ins {
		r, code, msg := refs.resolve(in)
		if msg != "" {
			fail(in.Line, code, "%s", msg)
			continue
		}
		if first, dup := seen[in.ExternalID]; dup {
			fail(in.Line, apperr.Invalid, "the external ID %q is given twice, first on line %d", in.ExternalID, first)
			continue
		}
		seen[in.ExternalID] = in.Line
		resolved = append(resolved, r)
	}
	if len(bad) > 0 {
		return nil, bad, nil
	}
	var out []OperatorTransaction
	_, err = s.write(payments.WithoutIdempotency(ctx), marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		out, bad = nil, nil
		ids := make([]string, len(resolved))
		for i, r := range resolved {
			ids[i] = r.in.ExternalID
		}
		known, err := w.tx.OperatorTransactionsByExternalID(ctx, marketplace, ids)
		if err != nil {
			return nil, err
		}
		now := w.Now()
		for _, r := range resolved {
			prev, ok := known[r.in.ExternalID]
			switch {
			case ok && prev.Fingerprint != r.fp:
				fail(r.in.Line, apperr.Conflict, "the transaction %q was recorded before (%s) with other content", r.in.ExternalID, prev.ID)
			case !ok && r.in.OccurredAt.After(now):
				fail(r.in.Line, apperr.Invalid, "occurred_at %s is after the marketplace's time %s", r.in.OccurredAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
			}
		}
		if len(bad) > 0 {
			return nil, nil
		}
		w.gather()
		groups := map[string][]postGroup{}
		var rows []OperatorTransaction
		var entries []payments.FeedEntry
		out = make([]OperatorTransaction, 0, len(resolved))
		for _, r := range resolved {
			if prev, ok := known[r.in.ExternalID]; ok {
				prev.Replayed = true
				out = append(out, prev)
				continue
			}
			customer := r.merchant.Link("customer")
			g, ok := groups[customer]
			if !ok {
				if g, err = w.postGroups(ctx, marketplace, customer); err != nil {
					return nil, err
				}
				groups[customer] = g
			}
			o := OperatorTransaction{ID: w.NewID(operatorTxnPrefix), Marketplace: marketplace, ExternalID: r.in.ExternalID, EntryID: w.NewID("BT"),
				Merchant: r.merchant.ID, Type: r.in.Type, AmountMinor: r.in.AmountMinor, Currency: r.in.Currency, Endpoint: r.in.Endpoint,
				Gate: r.in.Gate, Processor: r.in.Processor, CardMapping: r.in.CardMapping, OccurredAt: r.in.OccurredAt, RecordedAt: now,
				Fingerprint: r.fp}
			e := payments.FeedEntry{ID: o.EntryID, Marketplace: marketplace, Merchant: customer, Type: o.Type, AmountMinor: o.AmountMinor,
				Currency: o.Currency, Gate: o.Gate, SourceID: o.ID, OccurredAt: o.OccurredAt, Endpoint: o.Endpoint}
			entries = append(entries, e)
			source := payments.Resource{ID: o.ID, Marketplace: marketplace, Type: "operator_transactions", Status: "succeeded"}
			if err := w.postInto(ctx, g, e, txnAttrs{processor: o.Processor, cardMapping: o.CardMapping}, source); err != nil {
				var ae *apperr.Error
				if errors.As(err, &ae) {
					fail(r.in.Line, apperr.CodeOf(err), "%s", apperr.MessageOf(err))
					return nil, errRefused
				}
				return nil, err
			}
			rows = append(rows, o)
			out = append(out, o)
		}
		if err := w.tx.InsertFeedEntries(ctx, entries); err != nil {
			return nil, err
		}
		if err := w.flushGathered(ctx, marketplace); err != nil {
			return nil, err
		}
		if err := w.tx.InsertOperatorTransactions(ctx, rows); errors.Is(err, ledger.ErrDuplicate) {
			// Another call recorded one of these IDs since they were
			// looked up: sending again answers it as recorded.
			return nil, apperr.New(apperr.Conflict, "some of these transactions were recorded by another call at the same time; send them again")
		} else if err != nil {
			return nil, err
		}
		return nil, nil
	})
	if errors.Is(err, errRefused) {
		return nil, bad, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if len(bad) > 0 {
		return nil, bad, nil
	}
	if recorded := countNew(out); recorded >= analyzeAfterRows {
		// Best effort: stale statistics slow lookups, they break nothing.
		_ = s.store.AnalyzeOperatorTransactions(ctx)
	}
	return out, nil, nil
}

// analyzeAfterRows is the size of an import after which the store
// refreshes its statistics of recorded transactions: the next import of
// the same IDs looks them up by index, not by a scan planned for a small
// table.
const analyzeAfterRows = 10_000

func countNew(out []OperatorTransaction) int {
	n := 0
	for _, o := range out {
		if !o.Replayed {
			n++
		}
	}
	return n
}

// operatorTxnPrefix begins the ID of every operator transaction.
const operatorTxnPrefix = "OT"

// errRefused rolls back an operation that refused a line it had begun to
// post.
var errRefused = errors.New("merchants: a transaction was refused")

// maxLineFailures bounds the bad lines one refusal lists.
const maxLineFailures = 100

// operatorRefs are what transactions name, read once before recording:
// the marketplace's merchants (by ID and external ID), their endpoints,
// and its gates.
type operatorRefs struct {
	merchants map[string]payments.Resource
	// endpoints maps an endpoint ID to its merchant and currency;
	// defaults maps merchant+currency to its default endpoint.
	endpoints map[string][2]string
	defaults  map[string]string
	gates     map[string]Gate
}

// maxMerchantsPerImport bounds the merchants one import may name: their
// endpoints are read up front.
const maxMerchantsPerImport = 10_000

func (s *Service) operatorRefs(ctx context.Context, marketplace string) (operatorRefs, error) {
	refs := operatorRefs{merchants: map[string]payments.Resource{}, endpoints: map[string][2]string{}, defaults: map[string]string{}}
	var err error
	if refs.gates, err = s.Gates(ctx, marketplace); err != nil {
		return refs, err
	}
	all, _, err := s.store.ListResources(ctx, payments.ListQuery{Marketplace: marketplace, Type: "merchants", Limit: maxMerchantsPerImport})
	if err != nil {
		return refs, err
	}
	for _, m := range all {
		refs.merchants[m.ID] = m
		if ext := payments.Str(m.Fields["external_merchant_id"]); ext != "" {
			refs.merchants[ext] = m
		}
	}
	eps, _, err := s.store.ListResources(ctx, payments.ListQuery{Marketplace: marketplace, Type: "endpoints", Limit: maxMerchantsPerImport * 10})
	if err != nil {
		return refs, err
	}
	for _, ep := range eps {
		cur := payments.Str(ep.Fields["currency"])
		refs.endpoints[ep.ID] = [2]string{ep.Link("merchant"), cur}
		if payments.Bool(ep.Fields["default"]) {
			refs.defaults[ep.Link("merchant")+"\x00"+cur] = ep.ID
		}
	}
	return refs, nil
}

// resolve checks one transaction and resolves its merchant, endpoint and
// processor; msg says what is wrong, code what kind of error it is.
func (refs operatorRefs) resolve(in TransactionInput) (r resolvedTxn, code apperr.Code, msg string) {
	typ, ok := balances.CanonicalType(in.Type)
	if !ok {
		return r, apperr.Invalid, fmt.Sprintf("%q is not a transaction type of the balance rules table", in.Type)
	}
	in.Type = typ
	cur, err := money.LookupCurrency(in.Currency)
	if err != nil {
		return r, apperr.Invalid, apperr.MessageOf(err)
	}
	in.Currency = cur.Code
	for name, v := range map[string]string{"external_id": in.ExternalID, "merchant": in.Merchant, "endpoint": in.Endpoint,
		"gate": in.Gate, "processor": in.Processor, "card_mapping": in.CardMapping} {
		if len(v) > maxAttributeLen || strings.ContainsRune(v, 0) {
			return r, apperr.Invalid, fmt.Sprintf("%s is longer than %d characters or holds a NUL", name, maxAttributeLen)
		}
	}
	switch {
	case in.ExternalID == "":
		return r, apperr.Invalid, "external_id, the operator's ID of the transaction, is required"
	case in.AmountMinor < 0 || in.AmountMinor > maxOperatorAmountMinor:
		return r, apperr.Invalid, fmt.Sprintf("amount must be from 0 to %d minor units, without a sign: the type's rule adds or deducts", int64(maxOperatorAmountMinor))
	case in.OccurredAt.IsZero():
		return r, apperr.Invalid, "occurred_at, when the transaction happened, is required"
	case in.Gate == "":
		return r, apperr.Invalid, "gate, the gate that processed the transaction, is required"
	case balances.CardMappingType(typ) && in.CardMapping == "":
		return r, apperr.Invalid, fmt.Sprintf("a %s names its card mapping (card_mapping)", typ)
	}
	m, ok := refs.merchants[in.Merchant]
	if !ok {
		return r, apperr.NotFound, fmt.Sprintf("no merchant has the ID or external ID %q", in.Merchant)
	}
	g, ok := refs.gates[in.Gate]
	if !ok {
		return r, apperr.NotFound, fmt.Sprintf("no gate named %q: configure it first (built-in: card, ach, adjustment)", in.Gate)
	}
	if in.Gate == balances.Adjustment || typ == balances.Adjustment {
		return r, apperr.Invalid, "adjustments are made with the adjustments API, not recorded as transactions"
	}
	if in.Processor != "" && in.Processor != g.Processor {
		return r, apperr.Invalid, fmt.Sprintf("gate %q belongs to processor %q, not %q", g.Name, g.Processor, in.Processor)
	}
	in.Processor = g.Processor
	if in.Endpoint == "" {
		if in.Endpoint = refs.defaults[m.ID+"\x00"+cur.Code]; in.Endpoint == "" {
			return r, apperr.Invalid, fmt.Sprintf("merchant %s has no default %s endpoint: name one of its %s endpoints", m.ID, cur.Code, cur.Code)
		}
	} else if ep, ok := refs.endpoints[in.Endpoint]; !ok || ep[0] != m.ID {
		return r, apperr.NotFound, fmt.Sprintf("merchant %s has no endpoint %s", m.ID, in.Endpoint)
	} else if ep[1] != cur.Code {
		return r, apperr.Invalid, fmt.Sprintf("endpoint %s takes %s, not %s", in.Endpoint, ep[1], cur.Code)
	}
	return resolvedTxn{in: in, merchant: m, fp: fingerprint(in, m.ID)}, "", ""
}

// fingerprint digests what identifies a transaction's content, resolved:
// the same transaction sent again has the same one.
func fingerprint(in TransactionInput, merchantID string) string {
	h := sha256.New()
	for _, v := range []string{in.Type, strconv.FormatInt(in.AmountMinor, 10), in.Currency, merchantID, in.Endpoint, in.Gate,
		in.Processor, in.CardMapping, strconv.FormatInt(in.OccurredAt.UnixMicro(), 10)} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// OperatorTransaction reads one recorded transaction.
func (s *Service) OperatorTransaction(ctx context.Context, marketplace, id string) (OperatorTransaction, error) {
	o, err := s.store.OperatorTransaction(ctx, marketplace, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return o, apperr.New(apperr.NotFound, "no operator transaction with id %s", id)
	}
	return o, err
}
