package merchants

import (
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// Whatever text an adjustments file holds, the parser returns lines or a
// request error, never panics, and every line it returns is what its row
// says: one of credit and debit, signed into the amount, with the IDs.
func FuzzParseAdjustments(f *testing.F) {
	for _, s := range []string{
		"credit\tdebit\texternal id\tmerchant\tbalance\n12.34\t\tX1\tM1\t\n\t0.50\tX2\tM1\tMain USD\n",
		"1.00\t\tX1\tM1\n",
		"1.00\t2.00\tX1\tM1\n",
		"-1.00\t\tX1\tM1\n",
		"1.001\t\tX1\tM1\n",
		"\r\n\r\n1\t\tX\tM\r\n",
		"99999999999999999999\t\tX\tM\n",
		"1.00\t\t\tM1\n",
	} {
		f.Add(s)
	}
	usd, err := money.LookupCurrency(payments.Currency)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tsv string) {
		lines, err := ParseAdjustments(tsv, "fuzz")
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("%q: %v is not a request error", tsv, err)
			}
			return
		}
		rows := strings.Split(strings.ReplaceAll(tsv, "\r\n", "\n"), "\n")
		if len(lines) == 0 || len(lines) > balances.MaxUploadLines {
			t.Fatalf("%q: %d lines", tsv, len(lines))
		}
		prev := 0
		for _, l := range lines {
			if l.Line <= prev || l.Line > len(rows) {
				t.Fatalf("%q: line number %d after %d of %d rows", tsv, l.Line, prev, len(rows))
			}
			prev = l.Line
			cols := append(strings.Split(rows[l.Line-1], "\t"), "", "", "", "", "")
			amount := func(s string) int64 {
				s = strings.TrimSpace(s)
				if s == "" {
					return 0
				}
				a, err := money.ParseDecimal(s, usd)
				if err != nil {
					t.Fatalf("%q: line %d has amount %q, which does not parse: %v", tsv, l.Line, s, err)
				}
				return a.Minor
			}
			credit, debit := amount(cols[0]), amount(cols[1])
			if (credit == 0) == (debit == 0) || credit < 0 || debit < 0 || l.In.AmountMinor != credit-debit {
				t.Fatalf("%q: line %d: amount %d from credit %d and debit %d", tsv, l.Line, l.In.AmountMinor, credit, debit)
			}
			if l.In.ExternalID == "" || l.In.ExternalID != strings.TrimSpace(cols[2]) ||
				l.ExternalMerchantID == "" || l.ExternalMerchantID != strings.TrimSpace(cols[3]) ||
				l.In.BalanceName != strings.TrimSpace(cols[4]) || l.In.ExternalSource != "fuzz" {
				t.Fatalf("%q: line %d read as %+v", tsv, l.Line, l)
			}
		}
	})
}
