// Package errstatus maps application errors to HTTP statuses: the one
// mapping both HTTP surfaces (the Balanced API and the merchant balance
// API) answer with, each in its own error format.
package errstatus

import (
	"net/http"

	"github.com/poise-payments/poise/internal/apperr"
)

// RetryAfterSeconds is what an overloaded server asks clients to wait: a
// second is many commits' worth of a drained queue.
const RetryAfterSeconds = "1"

// Of is the HTTP status of an error. An error without an application code
// (a database that failed, a bug) is the server's fault, never the
// caller's: 500, and 503 when the server is overloaded or its store
// unavailable, so that a client retries instead of concluding that what it
// asked for does not exist.
func Of(err error) int {
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict, apperr.InsufficientFunds:
		return http.StatusConflict
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.Overloaded, apperr.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// RetryAfter reports whether a response of status asks the client to come
// back later (with RetryAfterSeconds).
func RetryAfter(status int) bool { return status == http.StatusServiceUnavailable }
