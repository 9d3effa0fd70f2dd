package money

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// Each checked operation must agree with exact big-integer arithmetic on
// every pair of interesting values and on random ones: the exact result when
// it fits, an overflow error when it does not.
func TestCheckedInt64MatchesExactArithmetic(t *testing.T) {
	ops := []struct {
		name    string
		checked func(a, b int64) (int64, error)
		exact   func(z, a, b *big.Int) *big.Int
	}{
		{"AddInt64", AddInt64, (*big.Int).Add},
		{"SubInt64", SubInt64, (*big.Int).Sub},
		{"MulInt64", MulInt64, (*big.Int).Mul},
		{"NegInt64", func(a, _ int64) (int64, error) { return NegInt64(a) }, func(z, a, _ *big.Int) *big.Int { return z.Neg(a) }},
	}
	values := append([]int64(nil), interestingInt64s...)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		values = append(values, int64(rng.Uint64()), rng.Int64N(1<<40)-(1<<39))
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			for _, a := range values {
				for _, b := range values {
					want, fits := referenceFit(op.exact(new(big.Int), big.NewInt(a), big.NewInt(b)))
					got, err := op.checked(a, b)
					switch {
					case fits && (err != nil || got != want):
						t.Fatalf("%s(%d, %d) = %d, %v; want %d", op.name, a, b, got, err, want)
					case !fits:
						checkErr(t, err, overflow)
					}
				}
			}
		})
	}
}
