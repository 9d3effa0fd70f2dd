package money

import (
	"strconv"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
)

// Rate is an exact decimal percentage between 0% and MaxRatePercent, such
// as a card fee of 2.9% or a rolling reserve of 10%. Rates compare with ==;
// the zero Rate is 0%.
type Rate struct {
	// units counts millionths of a percent, so every rate with up to
	// MaxRateFractionDigits decimals of a percent is held exactly.
	units int64
}

const (
	// MaxRateFractionDigits is how many decimals of a percent a rate may
	// have. Published card pricing uses two or three (1.65%, 0.105%); six
	// leave room for negotiated rates and still refuse what is really float
	// residue from a spreadsheet, such as "2.9000000001".
	MaxRateFractionDigits = 6
	// MaxRatePercent: a fee or a reserve is a share of the amount it is
	// taken from, so it cannot be more than all of it. A larger rate is a
	// typo (basis points written as a percent), not a business decision.
	MaxRatePercent = 100
	// MaxRateBasisPoints is MaxRatePercent in basis points.
	MaxRateBasisPoints = MaxRatePercent * 100

	rateUnitsPerPercent    = 1_000_000 // 10^MaxRateFractionDigits
	rateUnitsPerBasisPoint = rateUnitsPerPercent / 100
	// rateUnitsWhole is 100%: a share of rateUnitsWhole units is the whole
	// amount, and the denominator Percent divides by.
	rateUnitsWhole = 100 * rateUnitsPerPercent
	maxRateUnits   = MaxRatePercent * rateUnitsPerPercent

	// maxRateTextLength bounds the text ParseRate reads: "100.000000%" is
	// 11 bytes; the rest allows leading zeros.
	maxRateTextLength = 32
)

// ParseRate reads a percentage written as a decimal, such as "2.9" (2.9%),
// "0.25", "10" or "10%". The grammar is one or more ASCII digits, optionally
// "." and one or more digits (at most MaxRateFractionDigits), optionally a
// trailing "%". The rate cannot be negative: a fee that is given back is the
// fee of a negative amount, not a negative rate.
func ParseRate(s string) (Rate, error) {
	if s == "" {
		return Rate{}, apperr.New(apperr.Invalid, "rate is empty")
	}
	if len(s) > maxRateTextLength {
		return Rate{}, apperr.New(apperr.Invalid, "rate is %d characters long; at most %d are allowed", len(s), maxRateTextLength)
	}
	whole, fraction, hasPoint := strings.Cut(strings.TrimSuffix(s, "%"), ".")
	if !isDigits(whole) || (hasPoint && !isDigits(fraction)) {
		return Rate{}, apperr.New(apperr.Invalid, "rate %s is not a percentage like 2.9", quoteInput(s))
	}
	if len(fraction) > MaxRateFractionDigits {
		return Rate{}, apperr.New(apperr.Invalid, "rate %s has more than %d decimal places", quoteInput(s), MaxRateFractionDigits)
	}
	units, ok := appendDigits(0, whole, maxRateUnits)
	if ok {
		units, ok = appendDigits(units, fraction, maxRateUnits)
	}
	if ok {
		units, ok = appendDigits(units, zeros[:MaxRateFractionDigits-len(fraction)], maxRateUnits)
	}
	if !ok {
		return Rate{}, apperr.New(apperr.Invalid, "rate %s is above %d%%", quoteInput(s), MaxRatePercent)
	}
	return Rate{units: int64(units)}, nil
}

// RateFromBasisPoints returns the rate of bp hundredths of a percent: 290 is
// 2.9%. It is for rates the program states itself (constants, settings it
// has already validated); a bp outside 0..MaxRateBasisPoints is a bug and
// panics. Rates that come from outside go through ParseRate.
func RateFromBasisPoints(bp int64) Rate {
	if bp < 0 || bp > MaxRateBasisPoints {
		panic("money: basis points out of range: " + strconv.FormatInt(bp, 10))
	}
	return Rate{units: bp * rateUnitsPerBasisPoint}
}

// Decimal returns the percentage without trailing zeros and without a "%":
// "2.9", "0.25", "10". ParseRate reads it back to the same rate.
func (r Rate) Decimal() string {
	whole := strconv.FormatInt(r.units/rateUnitsPerPercent, 10)
	fraction := r.units % rateUnitsPerPercent
	if fraction == 0 {
		return whole
	}
	digits := strconv.FormatInt(fraction, 10)
	digits = zeros[:MaxRateFractionDigits-len(digits)] + digits
	return whole + "." + strings.TrimRight(digits, "0")
}

// String returns the rate for people and logs, such as "2.9%".
func (r Rate) String() string { return r.Decimal() + "%" }

// Percent returns r of amountMinor, rounded by MulDivRound: 2.9% of 1050
// cents is 30.45, so 30 cents. It is what a rolling reserve holds back, and
// the variable part of a fee. The sign follows the amount, so the share of a
// refund is the exact negative of the share of the sale.
func Percent(amountMinor int64, r Rate) (int64, error) {
	return MulDivRound(amountMinor, r.units, rateUnitsWhole)
}

// Fee returns the fee on amountMinor at rate r plus fixedMinor: for 2.9% +
// 30 cents on $10.50, 30 + 30 = 60 cents. Only the percentage part is
// rounded (once, by MulDivRound); the fixed part is exact. To reverse a fee
// on a refund, pass the negative amount and the negative fixed part: the
// result is then exactly the negative of the original fee.
func Fee(amountMinor int64, r Rate, fixedMinor int64) (int64, error) {
	share, err := Percent(amountMinor, r)
	if err != nil {
		return 0, err
	}
	return AddInt64(share, fixedMinor)
}
