package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// formatMinor shows an amount of cents as dollars: 123456 → "$1,234.56".
func formatMinor(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return fmt.Sprintf("%s$%s.%02d", sign, b.String(), cents%100)
}

// maxAmountDigits bounds the whole dollars a form may name: MaxAmountMinor
// is eight digits of dollars, and more digits could overflow before the
// bound is checked.
const maxAmountDigits = 8

// parseAmountMinor reads a form's dollar amount ("12", "12.5", "12.34")
// into cents, with integer arithmetic only.
func parseAmountMinor(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	bad := apperr.WithReason(apperr.Invalid, "invalid-amount", "the amount must be dollars and cents, such as 12.34")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > maxAmountDigits || (hasFrac && (len(frac) == 0 || len(frac) > 2)) {
		return 0, bad
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, bad
			}
		}
	}
	dollars, _ := strconv.ParseInt(whole, 10, 64)
	var cents int64
	if hasFrac {
		cents, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			cents *= 10
		}
	}
	amount := dollars*100 + cents
	if amount < 1 || amount > payments.MaxAmountMinor {
		return 0, apperr.WithReason(apperr.Invalid, "invalid-amount", "the amount must be between $0.01 and %s", formatMinor(payments.MaxAmountMinor))
	}
	return amount, nil
}

// lastFour shows only the last four characters of a card or account
// number, whatever form it arrives in (the API's stored numbers are
// masked already; this never widens what a page shows).
func lastFour(number string) string {
	if len(number) <= 4 {
		return number
	}
	return "•••• " + number[len(number)-4:]
}

// timeLayout is how pages show instants: UTC, to the second.
const timeLayout = "2006-01-02 15:04:05 UTC"

var templateFuncs = template.FuncMap{
	"money":    formatMinor,
	"ageLabel": ageLabel,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(timeLayout)
	},
	"lastFour": lastFour,
	// day and clock show an instant in the marketplace's days (zone).
	"day": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(zone).Format(dateLayout)
	},
	"clock": func(t time.Time) string { return t.In(zone).Format("15:04 MST") },
	// dollars is an amount's size as a form's field takes it: 1234.5 → "12.34".
	"dollars": func(cents int64) string {
		usd, _ := money.LookupCurrency(payments.Currency) // in the table by construction
		return strings.TrimPrefix(money.Amount{Minor: cents, Currency: usd}.Decimal(), "-")
	},
	"str":   payments.Str,
	"cents": payments.Int,
}
