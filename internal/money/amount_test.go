package money

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
)

// wantErr in the tables below: "" means success; otherwise the failure is
// an apperr.Invalid error and, for "overflow", wraps ErrOverflow.
const overflow = "overflow"

func checkErr(t *testing.T, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case wantErr == "":
	case err == nil:
		t.Fatalf("no error, want %s", wantErr)
	case apperr.CodeOf(err) != apperr.Invalid:
		t.Fatalf("error %v has code %q, want %q", err, apperr.CodeOf(err), apperr.Invalid)
	case wantErr == overflow && !errors.Is(err, ErrOverflow):
		t.Fatalf("error %v does not wrap ErrOverflow", err)
	case wantErr != overflow && errors.Is(err, ErrOverflow):
		t.Fatalf("error %v is an overflow, want %s", err, wantErr)
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		currency  string
		in        string
		wantMinor int64
		wantErr   string
	}{
		// Exponent 2.
		{"USD", "12.34", 1234, ""},
		{"USD", "12.3", 1230, ""},
		{"USD", "12", 1200, ""},
		{"USD", "0", 0, ""},
		{"USD", "0.00", 0, ""},
		{"USD", "-0", 0, ""},
		{"USD", "-0.00", 0, ""},
		{"USD", "-0.5", -50, ""},
		{"USD", "-0.05", -5, ""},
		{"USD", "0.01", 1, ""},
		{"USD", "007.50", 750, ""},
		{"USD", "92233720368547758.07", math.MaxInt64, ""},
		{"USD", "-92233720368547758.08", math.MinInt64, ""},
		{"USD", "92233720368547758.08", 0, overflow},
		{"USD", "-92233720368547758.09", 0, overflow},
		{"USD", "92233720368547759", 0, overflow}, // fits as major units, not as cents
		{"USD", "99999999999999999999999999", 0, overflow},
		{"USD", "-99999999999999999999.99", 0, overflow},
		{"USD", "12.345", 0, "too many decimals"},
		{"USD", "12.340", 0, "too many decimals"},
		{"USD", "0.001", 0, "too many decimals"},
		{"USD", "+1", 0, "syntax"},
		{"USD", "+1.00", 0, "syntax"},
		{"USD", ".5", 0, "syntax"},
		{"USD", "-.5", 0, "syntax"},
		{"USD", "5.", 0, "syntax"},
		{"USD", ".", 0, "syntax"},
		{"USD", "-", 0, "syntax"},
		{"USD", "--1", 0, "syntax"},
		{"USD", "-+1", 0, "syntax"},
		{"USD", "1-", 0, "syntax"},
		{"USD", "1.2.3", 0, "syntax"},
		{"USD", "1e3", 0, "syntax"},
		{"USD", "1E-2", 0, "syntax"},
		{"USD", "0x10", 0, "syntax"},
		{"USD", "NaN", 0, "syntax"},
		{"USD", "Inf", 0, "syntax"},
		{"USD", "-Inf", 0, "syntax"},
		{"USD", " 1", 0, "syntax"},
		{"USD", "1 ", 0, "syntax"},
		{"USD", "1\n", 0, "syntax"},
		{"USD", "1,000.00", 0, "syntax"},
		{"USD", "1 000", 0, "syntax"},
		{"USD", "1_000", 0, "syntax"},
		{"USD", "1'000", 0, "syntax"},
		{"USD", "12,34", 0, "syntax"},
		{"USD", "$12", 0, "syntax"},
		{"USD", "12 USD", 0, "syntax"},
		{"USD", "١٢", 0, "syntax"}, // Arabic-Indic digits
		{"USD", "１２", 0, "syntax"}, // full-width digits
		{"USD", "", 0, "empty"},
		{"USD", strings.Repeat("0", 60) + "1.00", 100, ""},
		{"USD", strings.Repeat("0", 63) + "1", 100, ""},
		{"USD", strings.Repeat("0", 64) + "1", 0, "too long"},
		{"USD", strings.Repeat("9", 10000), 0, "too long"},
		// Exponent 0.
		{"JPY", "1000", 1000, ""},
		{"JPY", "-1", -1, ""},
		{"JPY", "9223372036854775807", math.MaxInt64, ""},
		{"JPY", "-9223372036854775808", math.MinInt64, ""},
		{"JPY", "9223372036854775808", 0, overflow},
		{"JPY", "-9223372036854775809", 0, overflow},
		{"JPY", "18446744073709551616", 0, overflow}, // 2^64: must not wrap to 0
		{"JPY", "1000.0", 0, "too many decimals"},
		{"JPY", "1000.", 0, "syntax"},
		// Exponent 3.
		{"BHD", "0.000", 0, ""},
		{"BHD", "1.5", 1500, ""},
		{"BHD", "-12.345", -12345, ""},
		{"BHD", "9223372036854775.807", math.MaxInt64, ""},
		{"BHD", "-9223372036854775.808", math.MinInt64, ""},
		{"BHD", "9223372036854775.808", 0, overflow},
		{"BHD", "1.2345", 0, "too many decimals"},
		// Exponent 4.
		{"CLF", "1.2345", 12345, ""},
		{"CLF", "0.0001", 1, ""},
		{"CLF", "-0.0001", -1, ""},
		{"UYW", "922337203685477.5807", math.MaxInt64, ""},
		{"UYW", "-922337203685477.5808", math.MinInt64, ""},
		{"UYW", "922337203685478", 0, overflow},
		{"CLF", "1.23456", 0, "too many decimals"},
	}
	for _, tt := range tests {
		t.Run(tt.currency+"/"+tt.in, func(t *testing.T) {
			c := mustCurrency(t, tt.currency)
			got, err := ParseDecimal(tt.in, c)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			if want := (Amount{Minor: tt.wantMinor, Currency: c}); got != want {
				t.Fatalf("ParseDecimal(%q) = %+v, want %+v", tt.in, got, want)
			}
		})
	}
}

func TestParseMinor(t *testing.T) {
	tests := []struct {
		in        string
		wantMinor int64
		wantErr   string
	}{
		{"1234", 1234, ""},
		{"-5", -5, ""},
		{"0", 0, ""},
		{"-0", 0, ""},
		{"00012", 12, ""},
		{"9223372036854775807", math.MaxInt64, ""},
		{"-9223372036854775808", math.MinInt64, ""},
		{"9223372036854775808", 0, overflow},
		{"-9223372036854775809", 0, overflow},
		{"99999999999999999999", 0, overflow},
		{"+5", 0, "syntax"},
		{"1.0", 0, "syntax"},
		{"12.34", 0, "syntax"},
		{"1e3", 0, "syntax"},
		{" 1", 0, "syntax"},
		{"1,000", 0, "syntax"},
		{"-", 0, "syntax"},
		{"", 0, "empty"},
		{strings.Repeat("1", 65), 0, "too long"},
	}
	usd := mustCurrency(t, "USD")
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMinor(tt.in, usd)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			if want := (Amount{Minor: tt.wantMinor, Currency: usd}); got != want {
				t.Fatalf("ParseMinor(%q) = %+v, want %+v", tt.in, got, want)
			}
		})
	}
}

func TestDecimalAndString(t *testing.T) {
	tests := []struct {
		currency    string
		minor       int64
		wantDecimal string
	}{
		{"USD", 1234, "12.34"},
		{"USD", -5, "-0.05"},
		{"USD", 5, "0.05"},
		{"USD", -50, "-0.50"},
		{"USD", 0, "0.00"},
		{"USD", 100, "1.00"},
		{"USD", math.MaxInt64, "92233720368547758.07"},
		{"USD", math.MinInt64, "-92233720368547758.08"},
		{"JPY", 1000, "1000"},
		{"JPY", 0, "0"},
		{"JPY", -1, "-1"},
		{"JPY", math.MinInt64, "-9223372036854775808"},
		{"BHD", 0, "0.000"},
		{"BHD", 12345, "12.345"},
		{"BHD", -1, "-0.001"},
		{"BHD", 1000, "1.000"},
		{"CLF", 1, "0.0001"},
		{"CLF", -12345, "-1.2345"},
		{"CLF", math.MaxInt64, "922337203685477.5807"},
		{"CLF", math.MinInt64, "-922337203685477.5808"},
	}
	for _, tt := range tests {
		t.Run(tt.currency+"/"+strconv.FormatInt(tt.minor, 10), func(t *testing.T) {
			a := Amount{Minor: tt.minor, Currency: mustCurrency(t, tt.currency)}
			if got := a.Decimal(); got != tt.wantDecimal {
				t.Fatalf("Decimal() = %q, want %q", got, tt.wantDecimal)
			}
			if got, want := a.String(), tt.wantDecimal+" "+tt.currency; got != want {
				t.Fatalf("String() = %q, want %q", got, want)
			}
		})
	}
}

func TestFormatThenParseGivesTheSameAmount(t *testing.T) {
	minors := []int64{
		0, 1, -1, 9, 10, 99, 100, 101, -999, 1000, 12345, -12345,
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
		math.MaxInt32, math.MinInt32, 1 << 53, -(1 << 53) - 1,
	}
	for _, code := range []string{"JPY", "USD", "BHD", "CLF"} {
		c := mustCurrency(t, code)
		for _, minor := range minors {
			a := Amount{Minor: minor, Currency: c}
			got, err := ParseDecimal(a.Decimal(), c)
			if err != nil || got != a {
				t.Errorf("ParseDecimal(%q) = %+v, %v; want %+v", a.Decimal(), got, err, a)
			}
			got, err = ParseMinor(strconv.FormatInt(minor, 10), c)
			if err != nil || got != a {
				t.Errorf("ParseMinor(%d) = %+v, %v; want %+v", minor, got, err, a)
			}
		}
	}
}

func TestAmountArithmetic(t *testing.T) {
	usd, eur := mustCurrency(t, "USD"), mustCurrency(t, "EUR")
	amount := func(minor int64) Amount { return Amount{Minor: minor, Currency: usd} }
	tests := []struct {
		name    string
		op      func() (Amount, error)
		want    Amount
		wantErr string
	}{
		{"add", func() (Amount, error) { return amount(1234).Add(amount(-34)) }, amount(1200), ""},
		{"add to max", func() (Amount, error) { return amount(math.MaxInt64 - 1).Add(amount(1)) }, amount(math.MaxInt64), ""},
		{"add past max", func() (Amount, error) { return amount(math.MaxInt64).Add(amount(1)) }, Amount{}, overflow},
		{"add past min", func() (Amount, error) { return amount(math.MinInt64).Add(amount(-1)) }, Amount{}, overflow},
		{"add extremes", func() (Amount, error) { return amount(math.MaxInt64).Add(amount(math.MinInt64)) }, amount(-1), ""},
		{"add across currencies", func() (Amount, error) { return amount(1).Add(Amount{Minor: 1, Currency: eur}) }, Amount{}, "mismatch"},
		{"sub", func() (Amount, error) { return amount(1000).Sub(amount(1250)) }, amount(-250), ""},
		{"sub to min", func() (Amount, error) { return amount(-1).Sub(amount(math.MaxInt64)) }, amount(math.MinInt64), ""},
		{"sub past min", func() (Amount, error) { return amount(-2).Sub(amount(math.MaxInt64)) }, Amount{}, overflow},
		{"sub min from zero", func() (Amount, error) { return amount(0).Sub(amount(math.MinInt64)) }, Amount{}, overflow},
		{"sub min from -1", func() (Amount, error) { return amount(-1).Sub(amount(math.MinInt64)) }, amount(math.MaxInt64), ""},
		{"sub across currencies", func() (Amount, error) { return amount(1).Sub(Amount{Minor: 1, Currency: eur}) }, Amount{}, "mismatch"},
		{"neg", func() (Amount, error) { return amount(5).Neg() }, amount(-5), ""},
		{"neg zero", func() (Amount, error) { return amount(0).Neg() }, amount(0), ""},
		{"neg max", func() (Amount, error) { return amount(math.MaxInt64).Neg() }, amount(-math.MaxInt64), ""},
		{"neg min", func() (Amount, error) { return amount(math.MinInt64).Neg() }, Amount{}, overflow},
		{"mul", func() (Amount, error) { return amount(199).MulInt(3) }, amount(597), ""},
		{"mul negative", func() (Amount, error) { return amount(199).MulInt(-3) }, amount(-597), ""},
		{"mul zero", func() (Amount, error) { return amount(math.MinInt64).MulInt(0) }, amount(0), ""},
		{"mul to min", func() (Amount, error) { return amount(math.MinInt64 / 2).MulInt(2) }, amount(math.MinInt64), ""},
		{"mul past max", func() (Amount, error) { return amount(math.MaxInt64/2 + 1).MulInt(2) }, Amount{}, overflow},
		{"mul min by -1", func() (Amount, error) { return amount(math.MinInt64).MulInt(-1) }, Amount{}, overflow},
		{"mul wrapping to a small number", func() (Amount, error) { return amount(1 << 32).MulInt(1<<32 + 1) }, Amount{}, overflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op()
			checkErr(t, err, tt.wantErr)
			if tt.wantErr == "mismatch" && !errors.Is(err, ErrCurrencyMismatch) {
				t.Fatalf("error %v does not wrap ErrCurrencyMismatch", err)
			}
			if tt.wantErr == "" && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
