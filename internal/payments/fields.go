package payments

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/poise-payments/poise/internal/apperr"
)

// Int reads an integer field of a resource, however it was stored (an int
// from this process, a json.Number from the database).
func Int(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			panic(fmt.Sprintf("payments: stored number %q is not an integer", n))
		}
		return i
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			panic(fmt.Sprintf("payments: stored number %q is not an integer", n))
		}
		return i
	case nil:
		return 0
	}
	panic(fmt.Sprintf("payments: stored value %v (%T) is not an integer", v, v))
}

// Str reads a string field; a missing or null field is "".
func Str(v any) string {
	s, _ := v.(string)
	return s
}

// Bool reads a boolean field; a missing or null field is false.
func Bool(v any) bool {
	b, _ := v.(bool)
	return b
}

// transactionAlphabet is what transaction numbers are made of: upper-case
// letters and digits, as on a bank statement.
const transactionAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// transactionNumber returns prefix + XXX-XXX-XXXX, the form Balanced shows
// on statements and receipts.
func transactionNumber(prefix string) string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic("payments: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = transactionAlphabet[int(b[i])%len(transactionAlphabet)]
	}
	return prefix + string(b[0:3]) + "-" + string(b[3:6]) + "-" + string(b[6:10])
}

// TransactionFailed reports a transaction that was attempted and failed:
// the failed resource is stored, no money moved, and the caller is answered
// with both the resource and the error.
type TransactionFailed struct {
	Resource Resource
	Err      *apperr.Error
}

func (e *TransactionFailed) Error() string { return e.Err.Error() }

// Unwrap lets apperr.CodeOf see the failure's code.
func (e *TransactionFailed) Unwrap() error { return e.Err }

// fail marks a transaction resource failed with a reason.
func fail(r *Resource, code, reason string) {
	r.Status = "failed"
	r.Fields["status"] = "failed"
	r.Fields["failure_reason_code"] = code
	r.Fields["failure_reason"] = reason
}

func succeed(r *Resource) {
	r.Status = "succeeded"
	r.Fields["status"] = "succeeded"
}

func pend(r *Resource) {
	r.Status = "pending"
	r.Fields["status"] = "pending"
}
