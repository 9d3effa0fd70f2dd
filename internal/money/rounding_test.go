package money

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMulDivRoundRoundsHalvesAwayFromZero(t *testing.T) {
	tests := []struct {
		name    string
		a, b    int64
		den     int64
		want    int64
		wantErr string
	}{
		{"12.345 up to 12.35", 12345, 1, 10, 1235, ""},
		{"-12.345 down to -12.35", -12345, 1, 10, -1235, ""},
		{"sign on the other factor", 12345, -1, 10, -1235, ""},
		{"both negative", -12345, -1, 10, 1235, ""},
		{"12.344 down to 12.34", 12344, 1, 10, 1234, ""},
		{"-12.344 up to -12.34", -12344, 1, 10, -1234, ""},
		{"12.346 up to 12.35", 12346, 1, 10, 1235, ""},
		{"-12.346 down to -12.35", -12346, 1, 10, -1235, ""},
		{"0.5 up to 1", 1, 1, 2, 1, ""},
		{"-0.5 down to -1", -1, 1, 2, -1, ""},
		{"2.5 up to 3, not to even 2", 5, 1, 2, 3, ""},
		{"-2.5 down to -3", -5, 1, 2, -3, ""},
		{"1/3 down to 0", 1, 1, 3, 0, ""},
		{"2/3 up to 1", 2, 1, 3, 1, ""},
		{"-2/3 down to -1", -2, 1, 3, -1, ""},
		{"0.4999 down to 0", 4999, 1, 10000, 0, ""},
		{"0.5000 up to 1", 5000, 1, 10000, 1, ""},
		{"exact", 300, 7, 3, 700, ""},
		{"zero", 0, math.MaxInt64, 1, 0, ""},
		{"negative zero is zero", -1, 1, 3, 0, ""},
		{"product past 64 bits, quotient back in", math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64, ""},
		{"min times one", math.MinInt64, 1, 1, math.MinInt64, ""},
		{"min times -1 overflows", math.MinInt64, -1, 1, 0, overflow},
		{"max times 2 overflows", math.MaxInt64, 2, 1, 0, overflow},
		{"max times 2 over 2", math.MaxInt64, 2, 2, math.MaxInt64, ""},
		// (2^64-1)/2 = 2^63 - 0.5 rounds away from zero to 2^63: one past
		// MaxInt64, but exactly MinInt64 on the negative side.
		{"rounding up past max", 3, 6148914691236517205, 2, 0, overflow},
		{"rounding down onto min", -3, 6148914691236517205, 2, math.MinInt64, ""},
		// (2^65-1)/2 = 2^64 - 0.5: the rounded magnitude needs 65 bits.
		{"rounding past 64 bits", 31, 1190112520884487201, 2, 0, overflow},
		{"rounding past 64 bits, negative", -31, 1190112520884487201, 2, 0, overflow},
		{"quotient past 64 bits", math.MaxInt64, math.MaxInt64, 2, 0, overflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MulDivRound(tt.a, tt.b, tt.den)
			checkErr(t, err, tt.wantErr)
			if tt.wantErr == "" && got != tt.want {
				t.Fatalf("MulDivRound(%d, %d, %d) = %d, want %d", tt.a, tt.b, tt.den, got, tt.want)
			}
		})
	}
}

func TestMulDivRoundRefusesNonPositiveDenominators(t *testing.T) {
	for _, den := range []int64{0, -1, math.MinInt64} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("MulDivRound(1, 1, %d) did not panic", den)
				}
			}()
			_, _ = MulDivRound(1, 1, den)
		}()
	}
}

func TestMulDivRoundMatchesExactArithmetic(t *testing.T) {
	dens := []int64{1, 2, 3, 7, 10, 100, 10_000, rateUnitsWhole, math.MaxInt32, math.MaxInt64, math.MaxInt64 - 1, 1 << 62}
	rng := rand.New(rand.NewPCG(3, 4))
	values := append([]int64(nil), interestingInt64s...)
	for range 20 {
		values = append(values, int64(rng.Uint64()), rng.Int64N(1_000_000_000)-500_000_000)
		dens = append(dens, rng.Int64N(math.MaxInt64)+1, rng.Int64N(1_000_000)+1)
	}
	for _, den := range dens {
		for _, a := range values {
			for _, b := range values {
				checkMulDivRound(t, a, b, den)
			}
		}
	}
}

// checkMulDivRound compares MulDivRound with the big-integer reference and
// checks that rounding is symmetric under negation.
func checkMulDivRound(t *testing.T, a, b, den int64) {
	t.Helper()
	want, fits := referenceMulDivRound(a, b, den)
	got, err := MulDivRound(a, b, den)
	if !fits {
		checkErr(t, err, overflow)
		return
	}
	if err != nil || got != want {
		t.Fatalf("MulDivRound(%d, %d, %d) = %d, %v; want %d", a, b, den, got, err, want)
	}
	if a != math.MinInt64 && got != math.MinInt64 {
		if negated, err := MulDivRound(-a, b, den); err != nil || negated != -got {
			t.Fatalf("MulDivRound(%d, %d, %d) = %d, %v; want %d (the negation)", -a, b, den, negated, err, -got)
		}
	}
}
