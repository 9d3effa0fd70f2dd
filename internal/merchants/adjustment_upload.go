package merchants

import (
	"context"
	"crypto/subtle"
	"fmt"
	"github.com/poise-payments/poise/internal/payments"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/money"
)

// UploadLine is one parsed line of an adjustments file.
type UploadLine struct {
	Line int
	In   AdjustmentInput
	// amounts, when set, is the line as written: its amount is read in
	// the currency of the balance it reaches (see ParseAdjustmentsFile).
	amounts *balances.AdjustmentLine
	// ExternalMerchantID names the merchant, as the operator knows it.
	ExternalMerchantID string
}

// LineError reports a bad line of an adjustments file.
type LineError = balances.LineError

// UploadError refuses a whole file and lists every bad line.
type UploadError = balances.UploadError

// ParseAdjustments reads a TSV adjustments file (see
// balances.ParseAdjustments) into adjustments from source.
func ParseAdjustments(tsv, source string) ([]UploadLine, error) {
	usd, err := money.LookupCurrency(payments.Currency)
	if err != nil {
		return nil, err
	}
	parsed, err := balances.ParseAdjustments(tsv, usd)
	if err != nil {
		return nil, err
	}
	lines := make([]UploadLine, len(parsed))
	for i, l := range parsed {
		lines[i] = UploadLine{Line: l.Line, ExternalMerchantID: l.ExternalMerchantID, In: AdjustmentInput{
			AmountMinor: l.AmountMinor, ExternalID: l.ExternalID, BalanceName: l.BalanceName, ExternalSource: source}}
	}
	return lines, nil
}

// ParseAdjustmentsFile reads a TSV adjustments file whose amounts are
// written in the currency of the balance each line reaches (USD 10.45,
// JPY 1045, KWD 1.045): they are checked as decimals here, and read in
// that currency when the file is applied.
func ParseAdjustmentsFile(tsv, source string) ([]UploadLine, error) {
	// The widest minor unit of ISO 4217 (CLF, 4 decimals) reads every
	// amount of any currency; the balance's own is applied later.
	widest, err := money.LookupCurrency("CLF")
	if err != nil {
		return nil, err
	}
	parsed, err := balances.ParseAdjustments(tsv, widest)
	if err != nil {
		return nil, err
	}
	lines := make([]UploadLine, len(parsed))
	for i := range parsed {
		l := parsed[i]
		lines[i] = UploadLine{Line: l.Line, ExternalMerchantID: l.ExternalMerchantID, amounts: &parsed[i], In: AdjustmentInput{
			ExternalID: l.ExternalID, BalanceName: l.BalanceName, ExternalSource: source}}
	}
	return lines, nil
}

// ApplyAdjustments applies a parsed file all or nothing: every line in one
// transaction, or none when any line fails (its merchant unknown, say).
// Lines whose external ID was applied before are skipped, so uploading a
// file again changes nothing.
func (s *Service) ApplyAdjustments(ctx context.Context, marketplace string, lines []UploadLine) ([]payments.Resource, error) {
	return s.applyAdjustments(ctx, marketplace, lines, nil)
}

// ApplyManagerAdjustments applies a parsed file uploaded by a manager,
// signed with its login and control key (see ManagerByKey): like
// ApplyAdjustments, but each line must name a merchant the manager
// oversees.
func (s *Service) ApplyManagerAdjustments(ctx context.Context, manager payments.Resource, lines []UploadLine) ([]payments.Resource, error) {
	if manager.Type != "managers" {
		return nil, apperr.New(apperr.Forbidden, "only a manager uploads adjustments with its login")
	}
	mine := map[string]bool{}
	for _, v := range manager.Fields["merchants"].([]any) {
		mine[payments.Str(v)] = true
	}
	return s.applyAdjustments(ctx, manager.Marketplace, lines, mine)
}

// ManagerByKey finds the manager a login names and checks its control
// key, as the seed's upload form sends them.
func (s *Service) ManagerByKey(ctx context.Context, login, controlKey string) (payments.Resource, error) {
	refused := apperr.New(apperr.Unauthorized, "the manager login and control key do not match")
	p, err := s.Party(ctx, login)
	if apperr.Is(err, apperr.NotFound) {
		return payments.Resource{}, refused
	}
	if err != nil {
		return payments.Resource{}, err
	}
	key, err := s.vault.Open(payments.Str(p.Private["control_key"]))
	if err != nil {
		return payments.Resource{}, err
	}
	if p.Type != "managers" || subtle.ConstantTimeCompare([]byte(key), []byte(controlKey)) != 1 {
		return payments.Resource{}, refused
	}
	return p, nil
}

// applyAdjustments applies lines, each naming one of the allowed merchants
// (nil: any of the marketplace's).
func (s *Service) applyAdjustments(ctx context.Context, marketplace string, lines []UploadLine, allowed map[string]bool) ([]payments.Resource, error) {
	merchants := map[string]string{}
	all, _, err := s.store.ListResources(ctx, payments.ListQuery{Marketplace: marketplace, Type: "merchants", Limit: balances.MaxUploadLines})
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if ext := payments.Str(m.Fields["external_merchant_id"]); ext != "" {
			merchants[ext] = m.ID
		}
	}
	var bad []LineError
	for _, l := range lines {
		switch id := merchants[l.ExternalMerchantID]; {
		case id == "":
			bad = append(bad, LineError{Line: l.Line, Message: fmt.Sprintf("no merchant has the external ID %q", l.ExternalMerchantID)})
		case allowed != nil && !allowed[id]:
			bad = append(bad, LineError{Line: l.Line, Message: fmt.Sprintf("the merchant with the external ID %q is not one this manager oversees", l.ExternalMerchantID)})
		}
	}
	if len(bad) > 0 {
		return nil, &UploadError{Lines: bad}
	}
	for i, l := range lines {
		in, err := s.withBalances(ctx, marketplace, merchants[l.ExternalMerchantID], l.In)
		if err != nil {
			return nil, err
		}
		if l.amounts != nil {
			// The amount as written, in the currency of its balance.
			balance := in.BalanceName
			if balance == "" {
				balance = in.defaultBalance
			}
			code, ok := in.balanceCurrency[balance]
			if !ok {
				bad = append(bad, LineError{Line: l.Line, Message: fmt.Sprintf("the merchant has no balance named %q", balance)})
				continue
			}
			cur, err := money.LookupCurrency(code)
			if err != nil {
				return nil, err
			}
			if in.AmountMinor, err = l.amounts.AmountIn(cur); err != nil {
				bad = append(bad, LineError{Line: l.Line, Message: apperr.MessageOf(err)})
				continue
			}
		}
		lines[i].In = in
	}
	if len(bad) > 0 {
		return nil, &UploadError{Lines: bad}
	}
	v, err := s.write(payments.WithoutIdempotency(ctx), marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		out := make([]payments.Resource, 0, len(lines))
		for _, l := range lines {
			adj, err := w.adjust(ctx, marketplace, merchants[l.ExternalMerchantID], l.In)
			if err != nil {
				return nil, &UploadError{Lines: []LineError{{Line: l.Line, Message: apperr.MessageOf(err)}}}
			}
			out = append(out, adj)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]payments.Resource), nil
}
