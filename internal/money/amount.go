package money

import (
	"strconv"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
)

// Amount is a count of minor units of one currency: Amount{1234, USD} is
// $12.34, Amount{1234, JPY} is ¥1234. The zero Minor is zero money; there is
// no negative zero.
type Amount struct {
	Minor    int64
	Currency Currency
}

// maxAmountTextLength bounds the text ParseMinor and ParseDecimal read. The
// longest amount without leading zeros, "-9223372036854775808" or its
// decimal form with a point, is 21 bytes; the rest leaves room for leading
// zeros that some spreadsheets write, while keeping the work and the error
// messages of hostile input small.
const maxAmountTextLength = 64

// ParseMinor reads an integer count of minor units, such as "1234" or "-5".
// The grammar is an optional "-" and one or more ASCII digits; the value
// must fit in an int64.
func ParseMinor(s string, c Currency) (Amount, error) {
	if err := checkAmountText(s, c); err != nil {
		return Amount{}, err
	}
	digits, negative := strings.CutPrefix(s, "-")
	if !isDigits(digits) {
		return Amount{}, apperr.New(apperr.Invalid, "amount %s is not a whole number of minor units like 1234", quoteInput(s))
	}
	return amountFromDigits(s, c, negative, digits)
}

// ParseDecimal reads an amount written in major units, such as "12.34",
// "-0.5", "12" or, for BHD, "0.000". The grammar is an optional "-", one or
// more ASCII digits, and optionally "." followed by one or more digits.
//
// A fraction with more digits than the currency's exponent is an error, even
// when the extra digits are zeros ("12.340" for USD, "5.0" for JPY): the
// caller meant a precision the currency does not have, and rounding it away
// here would hide that.
func ParseDecimal(s string, c Currency) (Amount, error) {
	if err := checkAmountText(s, c); err != nil {
		return Amount{}, err
	}
	body, negative := strings.CutPrefix(s, "-")
	whole, fraction, hasPoint := strings.Cut(body, ".")
	if !isDigits(whole) || (hasPoint && !isDigits(fraction)) {
		return Amount{}, apperr.New(apperr.Invalid, "amount %s is not a decimal number like 12.34", quoteInput(s))
	}
	if len(fraction) > c.Exponent {
		return Amount{}, apperr.New(apperr.Invalid, "amount %s has %d decimal places; %s has %d", quoteInput(s), len(fraction), c.Code, c.Exponent)
	}
	// Minor units are the digits of both parts, padded with zeros up to
	// the exponent: "12.3" USD is 1230 cents.
	return amountFromDigits(s, c, negative, whole, fraction, zeros[:c.Exponent-len(fraction)])
}

// checkAmountText does the checks both parsers start with.
func checkAmountText(s string, c Currency) error {
	if err := c.check(); err != nil {
		return err
	}
	if s == "" {
		return apperr.New(apperr.Invalid, "amount is empty")
	}
	if len(s) > maxAmountTextLength {
		return apperr.New(apperr.Invalid, "amount is %d characters long; at most %d are allowed", len(s), maxAmountTextLength)
	}
	return nil
}

// amountFromDigits builds the amount whose minor units are the decimal
// digits of parts, one after the other. s is the original text, for the
// error message.
func amountFromDigits(s string, c Currency, negative bool, parts ...string) (Amount, error) {
	// Count in magnitudes up to |MinInt64| so that the most negative amount
	// parses; signed then refuses that magnitude for a positive amount.
	var mag uint64
	ok := true
	for _, digits := range parts {
		if mag, ok = appendDigits(mag, digits, minInt64Magnitude); !ok {
			break
		}
	}
	var minor int64
	if ok {
		minor, ok = signed(mag, negative)
	}
	if !ok {
		return Amount{}, overflowError("%s %s does not fit in 64 bits of minor units", quoteInput(s), c.Code)
	}
	return Amount{Minor: minor, Currency: c}, nil
}

// Decimal returns the amount in major units with exactly as many decimal
// places as the currency has: "12.34", "-0.05", "1000" for JPY, "0.000" for
// BHD. ParseDecimal reads it back to the same amount.
func (a Amount) Decimal() string {
	// A negative exponent only comes from a hand-made Currency; clamping it
	// keeps String safe to call in a log line that reports that very bug.
	exponent := max(a.Currency.Exponent, 0)
	digits := strconv.FormatUint(magnitude(a.Minor), 10)
	if len(digits) <= exponent {
		// Leading zeros so that there is one digit before the point.
		digits = strings.Repeat("0", exponent+1-len(digits)) + digits
	}
	var b strings.Builder
	b.Grow(len(digits) + 2)
	if a.Minor < 0 {
		b.WriteByte('-')
	}
	point := len(digits) - exponent
	b.WriteString(digits[:point])
	if exponent > 0 {
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	return b.String()
}

// String returns the amount for people and logs, such as "12.34 USD".
func (a Amount) String() string { return a.Decimal() + " " + a.Currency.Code }

// Add returns a+b. Both must be in the same currency.
func (a Amount) Add(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, mismatchError("add", a.Currency, b.Currency)
	}
	sum, err := AddInt64(a.Minor, b.Minor)
	if err != nil {
		return Amount{}, err
	}
	return Amount{Minor: sum, Currency: a.Currency}, nil
}

// Sub returns a-b. Both must be in the same currency.
func (a Amount) Sub(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, mismatchError("subtract", a.Currency, b.Currency)
	}
	difference, err := SubInt64(a.Minor, b.Minor)
	if err != nil {
		return Amount{}, err
	}
	return Amount{Minor: difference, Currency: a.Currency}, nil
}

// Neg returns -a. It fails only for the most negative int64, whose
// negation does not fit.
func (a Amount) Neg() (Amount, error) {
	negated, err := NegInt64(a.Minor)
	if err != nil {
		return Amount{}, err
	}
	return Amount{Minor: negated, Currency: a.Currency}, nil
}

// MulInt returns a×n, such as a unit price times a quantity.
func (a Amount) MulInt(n int64) (Amount, error) {
	product, err := MulInt64(a.Minor, n)
	if err != nil {
		return Amount{}, err
	}
	return Amount{Minor: product, Currency: a.Currency}, nil
}
