package errstatus_test

import (
	"errors"
	"testing"

	"github.com/poise-payments/poise/internal/api/errstatus"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{apperr.New(apperr.Invalid, "x"), 400},
		{apperr.New(apperr.NotFound, "x"), 404},
		{apperr.New(apperr.Conflict, "x"), 409},
		{apperr.New(apperr.InsufficientFunds, "x"), 409},
		{apperr.New(apperr.Unauthorized, "x"), 401},
		{apperr.New(apperr.Forbidden, "x"), 403},
		{ledger.ErrOverloaded, 503},
		{ledger.ErrClosed, 503},
		{apperr.New(apperr.Unavailable, "x"), 503},
		// A database failure is the server's, never a 4xx.
		{errors.New("sql: database is closed"), 500},
		{ledger.ErrNotFound, 500},
	} {
		if got := errstatus.Of(tc.err); got != tc.status {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.status)
		}
	}
}
