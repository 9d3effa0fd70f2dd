package payments_test

import (
	"context"
	"errors"
	"testing"

	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A payable account is credited out of escrow, settled out to a bank
// account (to zero at once, sweeping its credits), driven negative by a
// reversal, and settled again by pulling the shortfall in.
func TestPayableAccountSettlements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, verify := newService(t, kind)
		defer verify(t)
		_, mp := newMarketplace(t, s)
		merchant, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		acct, err := s.PayableAccount(ctx, mp.ID, merchant.ID)
		if err != nil {
			t.Fatal(err)
		}
		card := instrument(t, s, mp.ID, "cards", "", map[string]any{}, payments.OutcomeSucceeded)
		in := amount(10_000)
		in.Instrument = card
		if _, err := s.Debit(ctx, mp.ID, in); err != nil {
			t.Fatal(err)
		}
		bank, err := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "M", AccountNumber: "9900000002", RoutingNumber: "021000021", Customer: merchant.ID})
		if err != nil {
			t.Fatal(err)
		}

		_, err = s.Settle(ctx, mp.ID, acct.ID, bank.ID, payments.TxInput{})
		wantReason(t, err, "account-nothing-to-settle")
		_, err = s.Settle(ctx, mp.ID, acct.ID, "", payments.TxInput{})
		wantReason(t, err, "request")

		in = amount(3_000)
		in.Instrument = acct.ID
		credit, err := s.Credit(ctx, mp.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Settle(ctx, mp.ID, acct.ID, bank.ID, payments.TxInput{})
		if err != nil || payments.Int(st.Fields["amount"]) != 3_000 || st.Link("source") != acct.ID || st.Link("destination") != bank.ID {
			t.Fatalf("settlement = %+v, %v", st, err)
		}
		if got, _ := s.Balance(ctx, acct.ID); got != 0 {
			t.Fatalf("balance after settlement = %d", got)
		}
		if c, _ := s.Get(ctx, mp.ID, credit.ID); c.Link("settlement") != st.ID {
			t.Fatalf("credit not swept: %+v", c.Links)
		}

		if _, err := s.Reverse(ctx, mp.ID, credit.ID, amount(1_000)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Balance(ctx, acct.ID); got != -1_000 {
			t.Fatalf("balance after reversal = %d, want -1000", got)
		}
		st, err = s.Settle(ctx, mp.ID, acct.ID, bank.ID, payments.TxInput{})
		if err != nil || payments.Int(st.Fields["amount"]) != 1_000 || st.Link("source") != bank.ID {
			t.Fatalf("pull-in settlement = %+v, %v", st, err)
		}
		if got, _ := s.Balance(ctx, acct.ID); got != 0 {
			t.Fatalf("balance after pull-in = %d", got)
		}

		// Into a failing bank account: stored failed, no money moved.
		failing, _ := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "F", AccountNumber: "9900000004", RoutingNumber: "021000021"})
		in.AmountMinor = 500
		if _, err := s.Credit(ctx, mp.ID, in); err != nil {
			t.Fatal(err)
		}
		st, err = s.Settle(ctx, mp.ID, acct.ID, failing.ID, payments.TxInput{})
		var tf *payments.TransactionFailed
		if errors.As(err, &tf) || err != nil || st.Status != "failed" {
			t.Fatalf("failing settlement = %+v, %v", st.Status, err)
		}
		if got, _ := s.Balance(ctx, acct.ID); got != 500 {
			t.Fatalf("a failed settlement moved money: balance %d", got)
		}
	})
}
