// Package apperr is Poise's one application error type.
//
// Every error a user can cause carries a Code (what kind of failure, for
// machines) and a Message (what went wrong, for humans). Only the HTTP
// surfaces map codes to status codes and to their API's own error format;
// domain packages never speak HTTP.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an application error.
type Code string

const (
	// Invalid: the request is malformed or breaks a rule of the input.
	Invalid Code = "invalid"
	// NotFound: the thing named does not exist, or is not the caller's to see.
	NotFound Code = "not_found"
	// Conflict: the request is well formed but the state of the thing refuses it.
	Conflict Code = "conflict"
	// InsufficientFunds: money would leave an account that cannot cover it.
	InsufficientFunds Code = "insufficient_funds"
	// Unauthorized: the caller did not prove who it is.
	Unauthorized Code = "unauthorized"
	// Forbidden: the caller is known but may not do this.
	Forbidden Code = "forbidden"
	// Overloaded: the write path is full; the caller should retry later.
	Overloaded Code = "overloaded"
	// Unavailable: the service is shutting down or its store is unreachable.
	Unavailable Code = "unavailable"
	// Internal: a bug or an infrastructure failure; never the caller's fault.
	Internal Code = "internal"
)

// Error is an application error.
type Error struct {
	Code Code
	// Reason is an optional finer, API-facing machine code (for example the
	// Balanced category_code "card-declined"). Empty means "derive from Code".
	Reason  string
	Message string
	// Err is an optional cause, kept for logs and errors.Is; never shown to users.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithReason returns an error with a finer API-facing reason.
func WithReason(code Code, reason string, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err: its own when it is (or wraps) an *Error,
// Internal for any other non-nil error, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ReasonOf returns the finer reason of err, or "" when it has none.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// MessageOf returns the human message of err; internal errors get a generic
// message so that no infrastructure detail reaches a user.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "an internal error occurred"
}

// Is reports whether err is an application error with the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
