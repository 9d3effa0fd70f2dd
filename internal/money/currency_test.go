package money

import (
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
)

// mustCurrency is LookupCurrency for codes a test knows exist.
func mustCurrency(t testing.TB, code string) Currency {
	t.Helper()
	c, err := LookupCurrency(code)
	if err != nil {
		t.Fatalf("LookupCurrency(%q): %v", code, err)
	}
	return c
}

func TestLookupCurrencyFindsEachExponentClass(t *testing.T) {
	tests := []struct {
		code         string
		wantCode     string
		wantExponent int
	}{
		{"USD", "USD", 2},
		{"EUR", "EUR", 2},
		{"usd", "USD", 2},
		{"eUr", "EUR", 2},
		{"JPY", "JPY", 0},
		{"KRW", "KRW", 0},
		{"xof", "XOF", 0},
		{"BHD", "BHD", 3},
		{"KWD", "KWD", 3},
		{"JOD", "JOD", 3},
		{"OMR", "OMR", 3},
		{"TND", "TND", 3},
		{"IQD", "IQD", 3},
		{"LYD", "LYD", 3},
		{"CLF", "CLF", 4},
		{"uyw", "UYW", 4},
		{"XCG", "XCG", 2},
		{"ZWG", "ZWG", 2},
		{"SLE", "SLE", 2},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c, err := LookupCurrency(tt.code)
			if err != nil {
				t.Fatalf("LookupCurrency(%q): %v", tt.code, err)
			}
			if want := (Currency{Code: tt.wantCode, Exponent: tt.wantExponent}); c != want {
				t.Fatalf("LookupCurrency(%q) = %+v, want %+v", tt.code, c, want)
			}
			if c.String() != tt.wantCode {
				t.Fatalf("String() = %q, want %q", c.String(), tt.wantCode)
			}
		})
	}
}

func TestLookupCurrencyRefusesWhatIsNotActiveMoney(t *testing.T) {
	for _, code := range []string{
		"", "US", "USDX", " USD", "US ", "U$D", "123",
		"XXX", "XTS", "XAU", "XDR", // no minor unit
		"HRK", "ZWL", "ANG", "BGN", // withdrawn
		"ÜSD", "usd\x00", "ＵＳＤ",
		"a very long string that is certainly not a currency code",
	} {
		if c, err := LookupCurrency(code); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("LookupCurrency(%q) = %+v, %v; want an invalid error", code, c, err)
		}
	}
}

func TestCurrencyTableIsWellFormed(t *testing.T) {
	// The table has every active code with a minor unit (see iso4217.go):
	// a sudden change in size means a code was dropped or pasted twice.
	const wantCodes = 164
	if len(exponentByCode) != wantCodes {
		t.Errorf("table has %d codes, want %d", len(exponentByCode), wantCodes)
	}
	byExponent := map[int]int{}
	for code, exponent := range exponentByCode {
		if len(code) != currencyCodeLength {
			t.Errorf("code %q is not three letters", code)
		}
		for i := range len(code) {
			if code[i] < 'A' || code[i] > 'Z' {
				t.Errorf("code %q is not upper-case ASCII", code)
			}
		}
		if exponent < 0 || exponent > maxExponent {
			t.Errorf("%s has exponent %d, outside 0..%d", code, exponent, maxExponent)
		}
		byExponent[exponent]++
	}
	// ISO 4217's exceptions to two decimal places, counted so that a typo
	// in one exponent shows up.
	want := map[int]int{0: 17, 2: 138, 3: 7, 4: 2}
	for exponent, n := range want {
		if byExponent[exponent] != n {
			t.Errorf("%d codes with exponent %d, want %d", byExponent[exponent], exponent, n)
		}
	}
}

func TestHandMadeCurrencyIsRefused(t *testing.T) {
	for _, c := range []Currency{{}, {Code: "USD", Exponent: -1}, {Code: "USD", Exponent: 5}, {Code: "US", Exponent: 2}} {
		if _, err := ParseMinor("1", c); apperr.CodeOf(err) != apperr.Internal {
			t.Errorf("ParseMinor with %+v: %v, want an internal error", c, err)
		}
		if _, err := ParseDecimal("1", c); apperr.CodeOf(err) != apperr.Internal {
			t.Errorf("ParseDecimal with %+v: %v, want an internal error", c, err)
		}
	}
}
