package money

import (
	"errors"
	"fmt"

	"github.com/poise-payments/poise/internal/apperr"
)

// Causes carried by the apperr.Invalid errors of this package, so that a
// caller that must tell them apart can use errors.Is.
var (
	// ErrOverflow: the exact result does not fit in an int64.
	ErrOverflow = errors.New("result does not fit in 64 bits")
	// ErrCurrencyMismatch: an operation mixed two currencies.
	ErrCurrencyMismatch = errors.New("currencies differ")
)

// maxEchoLength bounds how much of a caller's input an error message repeats,
// so that a megabyte of garbage in a request does not come back in the
// response and the logs.
const maxEchoLength = 32

func overflowError(format string, args ...any) error {
	e := apperr.New(apperr.Invalid, "amount out of range: %s", fmt.Sprintf(format, args...))
	e.Err = ErrOverflow
	return e
}

func mismatchError(op string, a, b Currency) error {
	e := apperr.New(apperr.Invalid, "cannot %s amounts in %s and %s", op, a.Code, b.Code)
	e.Err = ErrCurrencyMismatch
	return e
}

// quoteInput quotes s for an error message, cut to maxEchoLength bytes.
func quoteInput(s string) string {
	if len(s) > maxEchoLength {
		return fmt.Sprintf("%q…", s[:maxEchoLength])
	}
	return fmt.Sprintf("%q", s)
}
