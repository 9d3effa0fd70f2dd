package balances

import (
	"fmt"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/money"
)

// MaxUploadLines bounds one adjustments file: a month of daily fees for a
// few hundred merchants fits many times over, and the whole file is
// applied in one transaction.
const MaxUploadLines = 10_000

// AdjustmentLine is one parsed line of an adjustments file.
type AdjustmentLine struct {
	Line int
	// AmountMinor is signed: a credit is positive, a debit negative.
	AmountMinor int64
	ExternalID  string
	// ExternalMerchantID names the merchant, as the operator knows it.
	ExternalMerchantID string
	// BalanceName is blank for the default balance.
	BalanceName string
	// CreditText and DebitText are the amounts as written, for reading
	// them again in the currency of the balance they reach.
	CreditText, DebitText string
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
// default balance). Amounts are decimal ("12.34") in currency cur; exactly
// one of credit and debit is given per line. A first line whose amounts
// are not numbers is taken as a header.
func ParseAdjustments(tsv string, cur money.Currency) ([]AdjustmentLine, error) {
	var lines []AdjustmentLine
	var bad []LineError
	rows := strings.Split(strings.ReplaceAll(tsv, "\r\n", "\n"), "\n")
	if len(rows) > MaxUploadLines+1 {
		return nil, apperr.New(apperr.Invalid, "an adjustments file may have at most %d lines", MaxUploadLines)
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
			a, err := money.ParseDecimal(s, cur)
			return a.Minor, err
		}
		c, cerr := parse(credit)
		d, derr := parse(debit)
		if i == 0 && (cerr != nil || derr != nil) {
			continue // a header
		}
		line := AdjustmentLine{Line: n, ExternalMerchantID: strings.TrimSpace(f[3]), ExternalID: strings.TrimSpace(f[2]), BalanceName: strings.TrimSpace(f[4]),
			CreditText: credit, DebitText: debit}
		switch {
		case cerr != nil || derr != nil:
			bad = append(bad, LineError{n, "amounts must be decimal numbers such as 12.34"})
		case (c == 0) == (d == 0):
			bad = append(bad, LineError{n, "give exactly one of the credit and the debit amount"})
		case c < 0 || d < 0:
			bad = append(bad, LineError{n, "amounts are written without a sign"})
		case line.ExternalID == "":
			bad = append(bad, LineError{n, "the external ID is required"})
		case line.ExternalMerchantID == "":
			bad = append(bad, LineError{n, "the external merchant ID is required"})
		default:
			line.AmountMinor = c - d
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

// AmountIn reads a line's amount in a currency: the credit less the debit,
// as written, in that currency's minor units.
func (l AdjustmentLine) AmountIn(cur money.Currency) (int64, error) {
	var minor int64
	for sign, text := range map[int64]string{1: l.CreditText, -1: l.DebitText} {
		if text == "" {
			continue
		}
		a, err := money.ParseDecimal(text, cur)
		if err != nil {
			return 0, apperr.New(apperr.Invalid, "amount %s is not an amount of %s (%d decimals)", text, cur.Code, cur.Exponent)
		}
		minor += sign * a.Minor
	}
	return minor, nil
}
