package payments

import (
	"context"
	"fmt"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/money"
)

// maxUploadLines bounds one adjustments file: a month of daily fees for a
// few hundred merchants fits many times over, and the whole file is
// applied in one transaction.
const maxUploadLines = 10_000

// UploadLine is one parsed line of an adjustments file.
type UploadLine struct {
	Line int
	In   AdjustmentInput
	// ExternalMerchantID names the merchant, as the operator knows it.
	ExternalMerchantID string
}

// LineError reports a bad line of an adjustments file.
type LineError struct {
	Line    int
	Message string
}

// UploadError refuses a whole file and lists every bad line.
type UploadError struct{ Lines []LineError }

func (e *UploadError) Error() string {
	return fmt.Sprintf("%d bad lines in the adjustments file", len(e.Lines))
}

// Unwrap makes the refusal an invalid-input error.
func (e *UploadError) Unwrap() error {
	return apperr.New(apperr.Invalid, "the adjustments file has %d bad lines; nothing was applied", len(e.Lines))
}

// ParseAdjustments reads a TSV adjustments file: credit amount, debit
// amount, external ID, external merchant ID, balance name (blank: the
// default balance). Amounts are decimal ("12.34"); exactly one of credit
// and debit is given per line. A first line whose amounts are not numbers
// is taken as a header.
func ParseAdjustments(tsv, source string) ([]UploadLine, error) {
	usd, err := money.LookupCurrency(Currency)
	if err != nil {
		return nil, err
	}
	var lines []UploadLine
	var bad []LineError
	rows := strings.Split(strings.ReplaceAll(tsv, "\r\n", "\n"), "\n")
	if len(rows) > maxUploadLines+1 {
		return nil, apperr.New(apperr.Invalid, "an adjustments file may have at most %d lines", maxUploadLines)
	}
	for i, row := range rows {
		n := i + 1
		if strings.TrimSpace(row) == "" {
			continue
		}
		f := strings.Split(row, "\t")
		for len(f) < 5 {
			f = append(f, "")
		}
		credit, debit := strings.TrimSpace(f[0]), strings.TrimSpace(f[1])
		parse := func(s string) (int64, error) {
			if s == "" {
				return 0, nil
			}
			a, err := money.ParseDecimal(s, usd)
			return a.Minor, err
		}
		c, cerr := parse(credit)
		d, derr := parse(debit)
		if i == 0 && (cerr != nil || derr != nil) {
			continue // a header
		}
		line := UploadLine{Line: n, ExternalMerchantID: strings.TrimSpace(f[3]), In: AdjustmentInput{
			ExternalID: strings.TrimSpace(f[2]), BalanceName: strings.TrimSpace(f[4]), ExternalSource: source}}
		switch {
		case cerr != nil || derr != nil:
			bad = append(bad, LineError{n, "amounts must be decimal numbers such as 12.34"})
		case (c == 0) == (d == 0):
			bad = append(bad, LineError{n, "give exactly one of the credit and the debit amount"})
		case c < 0 || d < 0:
			bad = append(bad, LineError{n, "amounts are written without a sign"})
		case line.In.ExternalID == "":
			bad = append(bad, LineError{n, "the external ID is required"})
		case line.ExternalMerchantID == "":
			bad = append(bad, LineError{n, "the external merchant ID is required"})
		default:
			line.In.AmountMinor = c - d
			lines = append(lines, line)
		}
	}
	if len(bad) > 0 {
		return nil, &UploadError{Lines: bad}
	}
	if len(lines) == 0 {
		return nil, apperr.New(apperr.Invalid, "the adjustments file has no lines")
	}
	return lines, nil
}

// ApplyAdjustments applies a parsed file all or nothing: every line in one
// transaction, or none when any line fails (its merchant unknown, say).
// Lines whose external ID was applied before are skipped, so uploading a
// file again changes nothing.
func (s *Service) ApplyAdjustments(ctx context.Context, marketplace string, lines []UploadLine) ([]Resource, error) {
	merchants := map[string]string{}
	all, _, err := s.store.ListResources(ctx, ListQuery{Marketplace: marketplace, Type: "merchants", Limit: maxUploadLines})
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if ext := Str(m.Fields["external_merchant_id"]); ext != "" {
			merchants[ext] = m.ID
		}
	}
	var bad []LineError
	for _, l := range lines {
		if merchants[l.ExternalMerchantID] == "" {
			bad = append(bad, LineError{l.Line, fmt.Sprintf("no merchant has the external ID %q", l.ExternalMerchantID)})
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
		lines[i].In = in
	}
	v, err := s.Write(WithoutIdempotency(ctx), marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		out := make([]Resource, 0, len(lines))
		for _, l := range lines {
			adj, err := w.adjust(ctx, marketplace, merchants[l.ExternalMerchantID], l.In)
			if err != nil {
				return nil, &UploadError{Lines: []LineError{{l.Line, apperr.MessageOf(err)}}}
			}
			out = append(out, adj)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]Resource), nil
}
