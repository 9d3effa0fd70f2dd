package money

import (
	"math/bits"
)

// MulDivRound returns a×b/den rounded to the nearest integer, halves away
// from zero, or an ErrOverflow error when the rounded result does not fit in
// an int64. The product is computed in 128 bits, so a×b itself never
// overflows. den must be positive: a zero or negative denominator is a bug
// in the caller, not a user error, and panics.
//
// This is the one function in Poise that rounds money. Everything that
// takes a share of an amount (fees, reserves, and any later share such as a
// currency conversion) goes through it, so there is one rounding rule to know.
//
// The rule is round half away from zero: 12.345 → 12.35, 12.344 → 12.34,
// -12.345 → -12.35. It is chosen because:
//   - it is what merchants check their statements against: commercial
//     rounding as taught in school, as spreadsheets' ROUND does it, and as
//     card processors commonly compute per-transaction fees, so a fee a
//     merchant recomputes by hand matches ours to the minor unit;
//   - it is symmetric under negation, round(-x) == -round(x), so the fee
//     reversed on a full refund is exactly the negative of the fee charged,
//     and a sale and its refund net to zero in every account.
//
// Round half to even (banker's rounding) is less biased over many sums, but
// the same half cent then goes up on one charge and down on the next, which
// merchants report as errors; Poise rounds each fee once and keeps the
// result, so the bias does not accumulate across a balance.
func MulDivRound(a, b, den int64) (int64, error) {
	if den <= 0 {
		panic("money: MulDivRound with a non-positive denominator")
	}
	d := uint64(den)
	hi, lo := bits.Mul64(magnitude(a), magnitude(b))
	// bits.Div64 needs hi < d; otherwise the quotient needs more than 64
	// bits and cannot fit an int64 either.
	if hi >= d {
		return 0, overflowError("%d × %d / %d", a, b, den)
	}
	q, rem := bits.Div64(hi, lo, d)
	// Working on magnitudes makes "away from zero" the same as "up". The
	// remainder is at least half of d exactly when rem ≥ d-rem, which
	// cannot overflow the way 2×rem could.
	if rem >= d-rem {
		q++
		if q == 0 {
			return 0, overflowError("%d × %d / %d", a, b, den)
		}
	}
	r, ok := signed(q, (a < 0) != (b < 0))
	if !ok {
		return 0, overflowError("%d × %d / %d", a, b, den)
	}
	return r, nil
}
