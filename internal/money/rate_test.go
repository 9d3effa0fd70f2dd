package money

import (
	"math"
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in          string
		wantDecimal string
		wantErr     string
	}{
		{"2.9", "2.9", ""},
		{"2.90", "2.9", ""},
		{"2.9%", "2.9", ""},
		{"0.25", "0.25", ""},
		{"10", "10", ""},
		{"10%", "10", ""},
		{"0", "0", ""},
		{"0.0", "0", ""},
		{"007", "7", ""},
		{"100", "100", ""},
		{"100.000000", "100", ""},
		{"0.000001", "0.000001", ""},
		{"99.999999", "99.999999", ""},
		{"1.234567", "1.234567", ""},
		{"100.000001", "", "above 100%"},
		{"101", "", "above 100%"},
		{"250", "", "above 100%"}, // basis points written as a percent
		{"99999999999999999999999999", "", "above 100%"},
		{"2.9000001", "", "too many decimals"},
		{"2.9000000001", "", "too many decimals"},
		{"-1", "", "syntax"},
		{"+1", "", "syntax"},
		{".5", "", "syntax"},
		{"5.", "", "syntax"},
		{"1e2", "", "syntax"},
		{"NaN", "", "syntax"},
		{"2,9", "", "syntax"},
		{" 2.9", "", "syntax"},
		{"2.9 %", "", "syntax"},
		{"2.9%%", "", "syntax"},
		{"%2.9", "", "syntax"},
		{"%", "", "syntax"},
		{"", "", "empty"},
		{strings.Repeat("0", 40) + "1", "", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRate(tt.in)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			if got := r.Decimal(); got != tt.wantDecimal {
				t.Fatalf("ParseRate(%q).Decimal() = %q, want %q", tt.in, got, tt.wantDecimal)
			}
			if got := r.String(); got != tt.wantDecimal+"%" {
				t.Fatalf("ParseRate(%q).String() = %q, want %q", tt.in, got, tt.wantDecimal+"%")
			}
		})
	}
}

func TestRateFromBasisPoints(t *testing.T) {
	tests := []struct {
		bp          int64
		wantDecimal string
	}{
		{0, "0"},
		{1, "0.01"},
		{25, "0.25"},
		{290, "2.9"},
		{1000, "10"},
		{MaxRateBasisPoints, "100"},
	}
	for _, tt := range tests {
		r := RateFromBasisPoints(tt.bp)
		if got := r.Decimal(); got != tt.wantDecimal {
			t.Errorf("RateFromBasisPoints(%d).Decimal() = %q, want %q", tt.bp, got, tt.wantDecimal)
		}
		// The same rate written either way is the same value.
		if parsed, err := ParseRate(tt.wantDecimal); err != nil || parsed != r {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", tt.wantDecimal, parsed, err, r)
		}
	}
	for _, bp := range []int64{-1, MaxRateBasisPoints + 1, math.MaxInt64, math.MinInt64} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RateFromBasisPoints(%d) did not panic", bp)
				}
			}()
			RateFromBasisPoints(bp)
		}()
	}
}

func TestRateDecimalThenParseGivesTheSameRate(t *testing.T) {
	for units := int64(0); units <= maxRateUnits; units += 999_983 {
		checkRateRoundTrip(t, Rate{units: units})
	}
	for _, units := range []int64{1, 10, 100_000, 999_999, 1_000_001, maxRateUnits - 1, maxRateUnits} {
		checkRateRoundTrip(t, Rate{units: units})
	}
}

func checkRateRoundTrip(t *testing.T, r Rate) {
	t.Helper()
	for _, text := range []string{r.Decimal(), r.String()} {
		if got, err := ParseRate(text); err != nil || got != r {
			t.Fatalf("ParseRate(%q) = %+v, %v; want %+v", text, got, err, r)
		}
	}
}

func TestFee(t *testing.T) {
	tests := []struct {
		name        string
		amountMinor int64
		rate        string
		fixedMinor  int64
		want        int64
		wantErr     string
	}{
		{"2.9% + 30c of $100", 10000, "2.9", 30, 320, ""},
		{"2.9% + 30c of $10.50: 30.45c rounds down", 1050, "2.9", 30, 60, ""},
		{"2.9% of $15.50: 44.95c rounds up", 1550, "2.9", 0, 45, ""},
		{"1% of 50c: exactly half rounds up", 50, "1", 0, 1, ""},
		{"1% of 49c", 49, "1", 0, 0, ""},
		{"1% of 150c: 1.5 rounds to 2", 150, "1", 0, 2, ""},
		{"1% of 250c: 2.5 rounds to 3, not to even 2", 250, "1", 0, 3, ""},
		{"refund of 250c: -2.5 rounds to -3", -250, "1", 0, -3, ""},
		{"refund with fixed part reversed", -1050, "2.9", -30, -60, ""},
		{"2.5% of $10.10: 25.25c", 1010, "2.5", 0, 25, ""},
		{"2.5% of $10.30: 25.75c", 1030, "2.5", 0, 26, ""},
		{"0.25% of 12.345 BHD: 30.8625 fils", 12345, "0.25", 0, 31, ""},
		{"3.6% of 999 JPY: 35.964 yen", 999, "3.6", 0, 36, ""},
		{"1.5% + 0.0100 of 12.3456 CLF", 123456, "1.5", 100, 1952, ""}, // 1851.84 + 100
		{"finest rate: 0.000001% of 50,000,000", 50_000_000, "0.000001", 0, 1, ""},
		{"finest rate below half", 49_999_999, "0.000001", 0, 0, ""},
		{"0% with a fixed part", 1000, "0", 30, 30, ""},
		{"zero amount pays the fixed part", 0, "2.9", 30, 30, ""},
		{"100% of max", math.MaxInt64, "100", 0, math.MaxInt64, ""},
		{"100% of min", math.MinInt64, "100", 0, math.MinInt64, ""},
		{"99.999999% of max", math.MaxInt64, "99.999999", 0, 9223371944621055438, ""}, // max - 92233720368.55
		{"fixed part overflows", math.MaxInt64, "100", 1, 0, overflow},
		{"fixed part underflows", math.MinInt64, "100", -1, 0, overflow},
		{"fixed part alone at max", 0, "50", math.MaxInt64, math.MaxInt64, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRate(tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Fee(tt.amountMinor, r, tt.fixedMinor)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr == "" && got != tt.want {
				t.Fatalf("Fee(%d, %s, %d) = %d, want %d", tt.amountMinor, r, tt.fixedMinor, got, tt.want)
			}
		})
	}
}

func TestFeeWithBasisPointsEqualsFeeWithPercent(t *testing.T) {
	for _, bp := range []int64{0, 1, 25, 175, 290, 349, 1000, MaxRateBasisPoints} {
		byBasisPoints := RateFromBasisPoints(bp)
		byPercent, err := ParseRate(byBasisPoints.Decimal())
		if err != nil {
			t.Fatal(err)
		}
		for _, amount := range []int64{1, 99, 1050, 123_457, -123_457, 1 << 40} {
			want, _ := referenceMulDivRound(amount, bp, 10_000)
			want += 30
			for _, r := range []Rate{byBasisPoints, byPercent} {
				if got, err := Fee(amount, r, 30); err != nil || got != want {
					t.Errorf("Fee(%d, %s, 30) = %d, %v; want %d", amount, r, got, err, want)
				}
			}
		}
	}
}

// A refund reverses the fee of the sale to the last minor unit, so the
// sale and its refund net to zero in every account.
func TestFeeOfRefundIsNegativeFeeOfSale(t *testing.T) {
	for _, rate := range []string{"2.9", "0.25", "1", "3.49", "0.000001", "100"} {
		r, err := ParseRate(rate)
		if err != nil {
			t.Fatal(err)
		}
		for amount := int64(0); amount < 20_000; amount += 7 {
			sale, err := Fee(amount, r, 30)
			if err != nil {
				t.Fatal(err)
			}
			refund, err := Fee(-amount, r, -30)
			if err != nil {
				t.Fatal(err)
			}
			if refund != -sale {
				t.Fatalf("rate %s, amount %d: refund fee %d, sale fee %d", rate, amount, refund, sale)
			}
		}
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		amountMinor int64
		rate        string
		want        int64
	}{
		{12345, "10", 1235}, // 1234.5
		{-12345, "10", -1235},
		{12344, "10", 1234},
		{10000, "5", 500},
		{999, "33.333333", 333}, // 332.99999667
		{1, "50", 1},            // 0.5
		{-1, "50", -1},
		{1, "49.999999", 0},
		{math.MaxInt64, "50", 4611686018427387904}, // 2^62 - 0.5
		{math.MinInt64, "50", math.MinInt64 / 2},
		{0, "100", 0},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.rate)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Percent(tt.amountMinor, r); err != nil || got != tt.want {
			t.Errorf("Percent(%d, %s) = %d, %v; want %d", tt.amountMinor, r, got, err, tt.want)
		}
	}
}
