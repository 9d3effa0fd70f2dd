package payments

import (
	"context"
	"crypto/rand"
	"math/big"

	"github.com/poise-payments/poise/internal/apperr"
)

// Bank account verification by micro-deposits.
const (
	// verificationAttempts is how many guesses a verification allows.
	verificationAttempts = 3
	// testDepositMinor is both test-mode micro-deposits: 1 cent each.
	testDepositMinor = 1
	// maxDepositMinor bounds a live micro-deposit: 1 to 99 cents, as
	// banks send them.
	maxDepositMinor = 99
)

// CreateVerification starts verifying a bank account: two micro-deposits
// are sent (in test mode at once, of 1 cent each) and the account holder
// confirms their amounts. One live verification per account.
func (s *Service) CreateVerification(ctx context.Context, marketplace, bankID string) (Resource, error) {
	if err := s.claimed(ctx, marketplace, bankID); err != nil {
		return Resource{}, err
	}
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		b, err := w.Lock(ctx, marketplace, "bank_accounts", bankID)
		if err != nil {
			return nil, err
		}
		live, err := w.requireACHSettings(ctx, marketplace)
		if err != nil {
			return nil, err
		}
		// A real account holder proves access by amounts nobody could
		// guess; the sandbox's are fixed so tests can confirm them.
		amount1, amount2 := int64(testDepositMinor), int64(testDepositMinor)
		if live {
			amount1, amount2 = randomDepositMinor(), randomDepositMinor()
		}
		if cur := b.Link("bank_account_verification"); cur != "" {
			prev, err := w.Lock(ctx, marketplace, "bank_account_verifications", cur)
			if err != nil {
				return nil, err
			}
			if prev.Status == "pending" || prev.Status == "succeeded" {
				return nil, apperr.WithReason(apperr.Conflict, "bank-account-authentication-already-exists", "this bank account has a verification already")
			}
		}
		bz, err := w.Create(ctx, Resource{Marketplace: marketplace, Type: "bank_account_verifications", Status: "pending", Fields: map[string]any{
			"attempts":            int64(0),
			"attempts_remaining":  int64(verificationAttempts),
			"deposit_status":      "succeeded",
			"verification_status": "pending",
			"meta":                map[string]string{},
		}, Links: map[string]string{"bank_account": b.ID}, Private: map[string]any{
			"amount_1": amount1, "amount_2": amount2,
		}}, "BZ")
		if err != nil {
			return nil, err
		}
		b.Links["bank_account_verification"] = bz.ID
		if _, err := w.Save(ctx, b); err != nil {
			return nil, err
		}
		_, err = w.Emit(ctx, "bank_account_verification.created", bz)
		return bz, err
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// ConfirmVerification checks the two deposit amounts. A match verifies the
// account, so it can be debited; a miss uses up an attempt and is answered
// as a failure with the verification.
func (s *Service) ConfirmVerification(ctx context.Context, marketplace, verificationID string, amount1, amount2 int64) (Resource, error) {
	return s.transaction(ctx, marketplace, func(ctx context.Context, w *Writer) (Resource, error) {
		bz, err := w.Lock(ctx, marketplace, "bank_account_verifications", verificationID)
		if err != nil {
			return Resource{}, err
		}
		if bz.Status != "pending" {
			return Resource{}, apperr.WithReason(apperr.Conflict, "bank-account-authentication-not-pending", "this verification is %s, not pending", bz.Status)
		}
		bz.Fields["attempts"] = Int(bz.Fields["attempts"]) + 1
		bz.Fields["attempts_remaining"] = Int(bz.Fields["attempts_remaining"]) - 1
		if amount1 == Int(bz.Private["amount_1"]) && amount2 == Int(bz.Private["amount_2"]) {
			bz.Status, bz.Fields["verification_status"] = "succeeded", "succeeded"
			b, err := w.Lock(ctx, marketplace, "bank_accounts", bz.Link("bank_account"))
			if err != nil {
				return Resource{}, err
			}
			b.Fields["can_debit"] = true
			if _, err := w.Save(ctx, b); err != nil {
				return Resource{}, err
			}
			if bz, err = w.Save(ctx, bz); err != nil {
				return bz, err
			}
			deposits := Int(bz.Private["amount_1"]) + Int(bz.Private["amount_2"])
			if err := w.feed(ctx, FeedAccountVerification, b.Link("customer"), deposits, "ach", bz); err != nil {
				return bz, err
			}
			_, err = w.Emit(ctx, "bank_account_verification.verified", bz)
			return bz, err
		}
		if Int(bz.Fields["attempts_remaining"]) == 0 {
			bz.Status, bz.Fields["verification_status"] = "failed", "failed"
		}
		if bz, err = w.Save(ctx, bz); err != nil {
			return bz, err
		}
		bz.Private["failure"] = apperr.WithReason(apperr.Conflict, "bank-account-authentication-failed", "the amounts do not match the deposits")
		return bz, nil
	})
}

// randomDepositMinor is a live micro-deposit amount, 1 to maxDepositMinor.
func randomDepositMinor() int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(maxDepositMinor))
	if err != nil {
		panic("payments: crypto/rand failed: " + err.Error())
	}
	return n.Int64() + 1
}
