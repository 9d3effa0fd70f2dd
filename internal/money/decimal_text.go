package money

// The text grammar shared by amounts and rates. It is deliberately narrow:
// ASCII digits, at most one decimal point with digits on both sides, for
// amounts an optional leading minus, for rates an optional trailing "%". No
// plus sign, exponent, NaN, Inf, whitespace or thousand separators: each has
// a locale or a float library behind it, and a payments API that guesses
// what "1,234" meant will one day guess wrong.

// zeros pads a fraction up to an exponent; maxExponent and
// MaxRateFractionDigits both fit in it.
const zeros = "000000"

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendDigits returns mag followed by the decimal digits of digits, that is
// mag×10^len(digits) + digits, or false when that exceeds limit. The check
// comes before each step, so nothing wraps around.
func appendDigits(mag uint64, digits string, limit uint64) (uint64, bool) {
	for i := range len(digits) {
		d := uint64(digits[i] - '0')
		if mag > (limit-d)/10 {
			return 0, false
		}
		mag = mag*10 + d
	}
	return mag, true
}
