package balanced

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// The one place that maps errors: each application code to its status,
// Balanced category, and for overload a Retry-After.
func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err          error
		status       int
		code, kind   string
		retryAfter   bool
		internalText bool
	}{
		{apperr.New(apperr.Invalid, "x"), 400, "request", "request", false, false},
		{apperr.WithReason(apperr.Invalid, "invalid-amount", "x"), 400, "invalid-amount", "request", false, false},
		{apperr.New(apperr.NotFound, "x"), 404, "not-found", "request", false, false},
		{apperr.WithReason(apperr.Conflict, "debit-already-refunded", "x"), 409, "debit-already-refunded", "logical", false, false},
		{apperr.New(apperr.InsufficientFunds, "x"), 409, "insufficient-funds", "logical", false, false},
		{apperr.WithReason(apperr.Conflict, "card-declined", "x"), 402, "card-declined", "banking", false, false},
		{apperr.New(apperr.Unauthorized, "x"), 401, "authentication-required", "request", false, false},
		{ledger.ErrOverloaded, 503, "service-unavailable", "request", true, false},
		{ledger.ErrClosed, 503, "service-unavailable", "request", true, false},
		{http.ErrHandlerTimeout, 500, "internal-error", "request", false, true},
	}
	a := New(nil, nil, nil)
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		c := &call{w: rec, r: httptest.NewRequest("GET", "/x", nil), requestID: "OHMtest"}
		a.fail(c, tc.err, 0)
		if rec.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, rec.Code, tc.status)
		}
		_, body := errorBody(tc.err, "OHMtest")
		e := body["errors"].([]any)[0].(map[string]any)
		if e["category_code"] != tc.code || e["category_type"] != tc.kind || e["status_code"] != tc.status {
			t.Errorf("%v: %v", tc.err, e)
		}
		if got := rec.Header().Get("Retry-After") != ""; got != tc.retryAfter {
			t.Errorf("%v: Retry-After present = %v", tc.err, got)
		}
		if tc.internalText && strings.Contains(rec.Body.String(), tc.err.Error()) {
			t.Errorf("an internal error's text reached the client: %s", rec.Body.String())
		}
	}
}
