package payments_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

func TestCardsAndBankAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, verify := newService(t, kind)
		defer verify(t)
		_, mp := newMarketplace(t, s)
		_, other := newMarketplace(t, s)
		buyer, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})

		_, err := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111112", ExpirationMonth: 12, ExpirationYear: 2030})
		wantReason(t, err, "card-not-validated")

		// Tokenized without a key: unclaimed until a marketplace reads it;
		// then the card network's checks run, and it is that marketplace's.
		card, err := s.CreateCard(ctx, "", payments.CardInput{Number: "4111 1111 1111 1111 ", CVV: "123",
			ExpirationMonth: 12, ExpirationYear: 2030, Address: map[string]any{"line1": "965 Mission St", "postal_code": "94103"}})
		if err != nil {
			t.Fatal(err)
		}
		if card.Fields["number"] != "xxxxxxxxxxxx1111" || card.Fields["cvv"] != "xxx" || card.Fields["cvv_match"] != nil {
			t.Fatalf("token = %+v", card.Fields)
		}
		// Sealed values are random-looking text that may hold any short
		// run of digits by chance, so look for the whole number and an
		// unsealed CVV.
		for k, v := range card.Private {
			if strings.Contains(payments.Str(v), "4111111111111111") || payments.Str(v) == "123" {
				t.Fatalf("private %s holds the number or cvv in clear", k)
			}
		}
		claimed, err := s.Get(ctx, mp.ID, card.ID)
		if err != nil || claimed.Marketplace != mp.ID || claimed.Fields["cvv_match"] != "yes" || claimed.Fields["avs_street_match"] != "yes" {
			t.Fatalf("claimed = %+v, %v", claimed.Fields, err)
		}
		if _, err := s.Get(ctx, other.ID, card.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another marketplace reads a claimed card: %v", err)
		}
		if _, err := s.UpdateInstrument(ctx, mp.ID, card.ID, payments.InstrumentUpdate{Customer: buyer.ID}); err != nil {
			t.Fatal(err)
		}
		second, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		_, err = s.UpdateInstrument(ctx, mp.ID, card.ID, payments.InstrumentUpdate{Customer: second.ID})
		wantReason(t, err, "card-already-funding-src")

		_, err = s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "x", AccountNumber: "8887776665555", RoutingNumber: "100000007"})
		wantReason(t, err, "invalid-routing-number")
		bank, err := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "Owner", AccountNumber: "9900000002", RoutingNumber: "021000021", Customer: buyer.ID})
		if err != nil || bank.Fields["account_number"] != "xxxxxx0002" || bank.Fields["bank_name"] != "JPMORGAN CHASE BANK" || payments.Bool(bank.Fields["can_debit"]) {
			t.Fatalf("bank = %+v, %v", bank.Fields, err)
		}

		// An unverified bank account cannot be debited: a failed debit is
		// stored and reported, and no money moves.
		in := amount(500)
		in.Instrument = bank.ID
		_, err = s.Debit(ctx, mp.ID, in)
		var failed *payments.TransactionFailed
		if !errors.As(err, &failed) || failed.Resource.Status != "failed" || apperr.ReasonOf(err) != "funding-source-not-debitable" {
			t.Fatalf("debit of an unverified account: %v", err)
		}
		if _, err := s.Get(ctx, mp.ID, failed.Resource.ID); err != nil {
			t.Fatalf("the failed debit was not stored: %v", err)
		}

		bz, err := s.CreateVerification(ctx, mp.ID, bank.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateVerification(ctx, mp.ID, bank.ID)
		wantReason(t, err, "bank-account-authentication-already-exists")
		_, err = s.ConfirmVerification(ctx, mp.ID, bz.ID, 1, 2)
		if !errors.As(err, &failed) || payments.Int(failed.Resource.Fields["attempts_remaining"]) != 2 {
			t.Fatalf("wrong amounts: %v", err)
		}
		if bz, err = s.ConfirmVerification(ctx, mp.ID, bz.ID, 1, 1); err != nil || bz.Fields["verification_status"] != "succeeded" {
			t.Fatalf("right amounts: %+v, %v", bz.Fields, err)
		}
		_, err = s.ConfirmVerification(ctx, mp.ID, bz.ID, 1, 1)
		wantReason(t, err, "bank-account-authentication-not-pending")
		if d, err := s.Debit(ctx, mp.ID, in); err != nil || d.Status != "succeeded" {
			t.Fatalf("debit of a verified account: %v", err)
		}
		if got, _ := s.Balance(ctx, payments.EscrowAccount(mp.ID)); got != 500 {
			t.Fatalf("escrow = %d, want 500", got)
		}

		// A deleted card stays readable and refuses new debits.
		if err := s.DeleteInstrument(ctx, mp.ID, card.ID); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Get(ctx, mp.ID, card.ID); err != nil || !r.Hidden {
			t.Fatalf("deleted card: %v", err)
		}
		in.Instrument = card.ID
		_, err = s.Debit(ctx, mp.ID, in)
		wantReason(t, err, "funding-source-not-debitable")
	})
}
