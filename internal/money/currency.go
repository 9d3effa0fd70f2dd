package money

import "github.com/poise-payments/poise/internal/apperr"

// Currency is an ISO 4217 currency: its alphabetic code and its exponent,
// the number of decimal places of its minor unit (2 for USD cents, 0 for
// JPY, 3 for BHD fils). Currencies compare with ==.
//
// Get one from LookupCurrency; a Currency built by hand with a code or
// exponent that ISO 4217 does not give is a bug, and the functions of this
// package refuse it.
type Currency struct {
	Code     string
	Exponent int
}

const (
	// currencyCodeLength: ISO 4217 alphabetic codes are three letters.
	currencyCodeLength = 3
	// maxExponent is the largest minor-unit exponent in ISO 4217 (CLF and
	// UYW, both 4). It also bounds the zero padding that parsing adds.
	maxExponent = 4
)

// LookupCurrency returns the active ISO 4217 currency with the given
// alphabetic code. Letter case is ignored on input ("usd" finds USD); the
// returned Code is upper case.
func LookupCurrency(code string) (Currency, error) {
	if len(code) != currencyCodeLength {
		return Currency{}, apperr.New(apperr.Invalid, "currency code %s is not three letters", quoteInput(code))
	}
	var upper [currencyCodeLength]byte
	for i := range currencyCodeLength {
		b := code[i]
		// ASCII only: strings.ToUpper would map non-ASCII letters that
		// have no business in a currency code.
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		upper[i] = b
	}
	exponent, ok := exponentByCode[string(upper[:])]
	if !ok {
		return Currency{}, apperr.New(apperr.Invalid, "unknown currency %s", quoteInput(code))
	}
	return Currency{Code: string(upper[:]), Exponent: exponent}, nil
}

// String returns the currency code.
func (c Currency) String() string { return c.Code }

// check refuses a Currency that LookupCurrency could not have returned. It
// does not consult the table, so that it stays cheap on every parse; it only
// guarantees what the arithmetic relies on.
func (c Currency) check() error {
	if len(c.Code) != currencyCodeLength || c.Exponent < 0 || c.Exponent > maxExponent {
		return apperr.New(apperr.Internal, "currency %q with exponent %d did not come from LookupCurrency", c.Code, c.Exponent)
	}
	return nil
}
