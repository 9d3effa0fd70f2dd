package money

import (
	"math"
	"math/big"
)

// Reference answers computed with math/big, written the slow obvious way so
// that the fast code has something independent to be checked against.

var (
	bigMaxInt64 = big.NewInt(math.MaxInt64)
	bigMinInt64 = big.NewInt(math.MinInt64)
)

// referenceFit returns x as an int64, or false when it does not fit.
func referenceFit(x *big.Int) (int64, bool) {
	if x.Cmp(bigMaxInt64) > 0 || x.Cmp(bigMinInt64) < 0 {
		return 0, false
	}
	return x.Int64(), true
}

// referenceMulDivRound is a×b/den with halves rounded away from zero.
func referenceMulDivRound(a, b, den int64) (int64, bool) {
	num := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	negative := num.Sign() < 0
	num.Abs(num)
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(num, d, new(big.Int))
	// Round up the magnitude when the remainder is at least half of den.
	if new(big.Int).Lsh(r, 1).Cmp(d) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if negative {
		q.Neg(q)
	}
	return referenceFit(q)
}

// interestingInt64s are the values where int64 arithmetic goes wrong first.
var interestingInt64s = []int64{
	0, 1, -1, 2, -2, 3, -3, 5, -5, 10, -10, 100, 10_000, 100_000_000,
	math.MaxInt32, math.MinInt32, math.MaxUint32, 1 << 32, -(1 << 32),
	math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
	math.MaxInt64 / 2, math.MinInt64 / 2, math.MaxInt64/2 + 1, math.MinInt64/2 - 1,
	3_037_000_499, 3_037_000_500, -3_037_000_500, // around sqrt(MaxInt64)
}
