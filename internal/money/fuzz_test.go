package money

import (
	"math"
	"math/big"
	"strconv"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
)

// exponentClasses has one currency for each exponent ISO 4217 uses.
var exponentClasses = []string{"JPY", "USD", "BHD", "CLF"}

// FuzzParseDecimal checks that formatting then parsing any amount gives it
// back, and that any text ParseDecimal accepts means the number it reads as
// an exact rational, and survives a second round trip.
func FuzzParseDecimal(f *testing.F) {
	f.Add(int64(1234), uint8(1), "12.34")
	f.Add(int64(0), uint8(2), "0.000")
	f.Add(int64(-5), uint8(1), "-0.05")
	f.Add(int64(math.MaxInt64), uint8(3), "922337203685477.5807")
	f.Add(int64(math.MinInt64), uint8(0), "-9223372036854775808")
	f.Add(int64(1), uint8(1), "+1")
	f.Add(int64(-1), uint8(2), ".5")
	f.Add(int64(7), uint8(0), "1e3")
	f.Fuzz(func(t *testing.T, minor int64, class uint8, text string) {
		c := mustCurrency(t, exponentClasses[int(class)%len(exponentClasses)])

		a := Amount{Minor: minor, Currency: c}
		got, err := ParseDecimal(a.Decimal(), c)
		if err != nil || got != a {
			t.Fatalf("ParseDecimal(%q) = %+v, %v; want %+v", a.Decimal(), got, err, a)
		}
		got, err = ParseMinor(strconv.FormatInt(minor, 10), c)
		if err != nil || got != a {
			t.Fatalf("ParseMinor(%d) = %+v, %v; want %+v", minor, got, err, a)
		}

		parsed, err := ParseDecimal(text, c)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("ParseDecimal(%q): %v; want an invalid error", text, err)
			}
			return
		}
		value, ok := new(big.Rat).SetString(text)
		if !ok {
			t.Fatalf("ParseDecimal accepted %q, which is not a number", text)
		}
		value.Mul(value, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Exponent)), nil)))
		if !value.IsInt() || !value.Num().IsInt64() || value.Num().Int64() != parsed.Minor {
			t.Fatalf("ParseDecimal(%q, %s) = %d minor units, but the text is %s of them", text, c, parsed.Minor, value.RatString())
		}
		if again, err := ParseDecimal(parsed.Decimal(), c); err != nil || again != parsed {
			t.Fatalf("ParseDecimal(%q) = %+v, %v; want %+v", parsed.Decimal(), again, err, parsed)
		}
	})
}

// FuzzMulDivRound checks the one rounding function against big integers.
func FuzzMulDivRound(f *testing.F) {
	f.Add(int64(12345), int64(1), int64(10))
	f.Add(int64(-12345), int64(1), int64(10))
	f.Add(int64(3), int64(6148914691236517205), int64(2))
	f.Add(int64(math.MinInt64), int64(-1), int64(1))
	f.Fuzz(func(t *testing.T, a, b, den int64) {
		if den <= 0 {
			return
		}
		checkMulDivRound(t, a, b, den)
	})
}
