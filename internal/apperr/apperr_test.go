package apperr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
)

func TestCodesReasonsAndMessages(t *testing.T) {
	e := apperr.WithReason(apperr.InsufficientFunds, "insufficient-funds", "short by %d", 5)
	wrapped := fmt.Errorf("crediting: %w", e)
	if apperr.CodeOf(wrapped) != apperr.InsufficientFunds || apperr.ReasonOf(wrapped) != "insufficient-funds" {
		t.Fatalf("code %q reason %q", apperr.CodeOf(wrapped), apperr.ReasonOf(wrapped))
	}
	if apperr.MessageOf(wrapped) != "short by 5" {
		t.Fatalf("message %q", apperr.MessageOf(wrapped))
	}
	plain := errors.New("connection refused to 10.0.0.5")
	if apperr.CodeOf(plain) != apperr.Internal || apperr.MessageOf(plain) == plain.Error() {
		t.Fatal("an infrastructure error must be internal and never shown as it is")
	}
	if apperr.CodeOf(nil) != "" || apperr.Is(nil, apperr.Internal) {
		t.Fatal("nil is no error")
	}
	cause := errors.New("cause")
	if !errors.Is(&apperr.Error{Code: apperr.Conflict, Message: "m", Err: cause}, cause) {
		t.Fatal("the cause must be reachable")
	}
}
