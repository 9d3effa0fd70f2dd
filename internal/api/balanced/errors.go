package balanced

import (
	"errors"
	"net/http"

	"github.com/poise-payments/poise/internal/api/errstatus"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

// retryAfterSeconds is what an overloaded server asks clients to wait.
const retryAfterSeconds = errstatus.RetryAfterSeconds

// errorStatus maps an application error to its HTTP status (errstatus.Of,
// shared with the merchant balance API), and to Balanced's category_code
// and category_type.
func errorStatus(err error) (status int, code, kind string) {
	reason := apperr.ReasonOf(err)
	status, kind = errstatus.Of(err), "request"
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		code = "request"
	case apperr.NotFound:
		code = "not-found"
	case apperr.Conflict:
		code, kind = "request", "logical"
	case apperr.InsufficientFunds:
		code, kind = "insufficient-funds", "logical"
	case apperr.Unauthorized:
		code = "authentication-required"
	case apperr.Forbidden:
		code = "forbidden"
	case apperr.Overloaded, apperr.Unavailable:
		code = "service-unavailable"
	default:
		code = "internal-error"
	}
	if reason != "" {
		code = reason
	}
	// The processor's own refusals are "banking" errors, 402 in Balanced's
	// catalogue.
	switch reason {
	case "card-declined", "authorization-failed", "funding-destination-declined":
		status, kind = http.StatusPaymentRequired, "banking"
	}
	return status, code, kind
}

// errorBody is the Balanced error envelope of one error.
func errorBody(err error, requestID string) (int, map[string]any) {
	status, code, kind := errorStatus(err)
	msg := apperr.MessageOf(err)
	return status, map[string]any{"errors": []any{map[string]any{
		"status":        http.StatusText(status),
		"status_code":   status,
		"category_code": code,
		"category_type": kind,
		"description":   msg + " Your request id is " + requestID + ".",
		"request_id":    requestID,
		"additional":    nil,
		"extras":        map[string]any{},
	}}}
}

// failedTransaction reports whether err carries a stored failed resource.
func failedTransaction(err error) (*payments.TransactionFailed, bool) {
	var tf *payments.TransactionFailed
	ok := errors.As(err, &tf)
	return tf, ok
}

// inlineFormError is how the inline form of a request (POST /credits with
// the destination card given in the body) reports a refusal: Balanced's
// specification has a nameless card refused there as a plain "request"
// error, while POST /cards/:id/credits names the reason.
func inlineFormError(err error) error {
	if errors.Is(err, payments.ErrNameRequiredToCredit) {
		return &apperr.Error{Code: apperr.Invalid, Reason: "request", Message: apperr.MessageOf(err), Err: err}
	}
	return err
}
