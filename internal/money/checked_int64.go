package money

import (
	"math"
	"math/bits"
)

// Checked int64 arithmetic for hot paths where the currency is already known
// to match (balances of one account, entries of one transfer). Each returns
// the exact result or an ErrOverflow error; Go's own operators would wrap
// around silently and turn a large credit into a large debit.

// minInt64Magnitude is |math.MinInt64|, which only fits unsigned.
const minInt64Magnitude = uint64(1) << 63

// AddInt64 returns a+b.
func AddInt64(a, b int64) (int64, error) {
	s := a + b
	// Overflow happened exactly when both operands share a sign that the
	// wrapped sum does not.
	if (a^s)&(b^s) < 0 {
		return 0, overflowError("%d + %d", a, b)
	}
	return s, nil
}

// SubInt64 returns a-b.
func SubInt64(a, b int64) (int64, error) {
	d := a - b
	// Overflow happened exactly when the operands differ in sign and the
	// wrapped difference does not have the sign of a.
	if (a^b)&(a^d) < 0 {
		return 0, overflowError("%d - %d", a, b)
	}
	return d, nil
}

// NegInt64 returns -a.
func NegInt64(a int64) (int64, error) {
	if a == math.MinInt64 {
		return 0, overflowError("-(%d)", a)
	}
	return -a, nil
}

// MulInt64 returns a×b.
func MulInt64(a, b int64) (int64, error) {
	hi, lo := bits.Mul64(magnitude(a), magnitude(b))
	p, ok := signed(lo, (a < 0) != (b < 0))
	if hi != 0 || !ok {
		return 0, overflowError("%d × %d", a, b)
	}
	return p, nil
}

// magnitude returns |a|, which for math.MinInt64 only fits unsigned.
func magnitude(a int64) uint64 {
	if a < 0 {
		return -uint64(a)
	}
	return uint64(a)
}

// signed turns a magnitude and a sign into an int64, or reports false when
// it does not fit. The negative side holds one more value than the positive.
func signed(mag uint64, negative bool) (int64, bool) {
	if negative {
		if mag > minInt64Magnitude {
			return 0, false
		}
		// Two's complement negation; for mag == 1<<63 it yields MinInt64.
		return int64(-mag), true
	}
	if mag > math.MaxInt64 {
		return 0, false
	}
	return int64(mag), true
}
