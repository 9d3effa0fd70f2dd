package payments_test

import (
	"context"
	"testing"

	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// An order's amount is what it took in, net of refunds: debits add to it,
// refunds take from it, payouts and refused operations leave it. Debits
// keep it in the order's escrow account, not in the order's row, and an
// event about the order shows it as the API does.
func TestAnOrdersAmountFollowsItsDebitsAndRefunds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, verify := newService(t, kind)
		defer verify(t)
		_, mp := newMarketplace(t, s)
		merchant, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		bank := instrument(t, s, mp.ID, "bank_accounts", merchant.ID, map[string]any{}, payments.OutcomeSucceeded)
		card := instrument(t, s, mp.ID, "cards", "", map[string]any{}, payments.OutcomeSucceeded)
		order, err := s.CreateOrder(ctx, mp.ID, merchant.ID, payments.OrderInput{})
		if err != nil {
			t.Fatal(err)
		}
		want := func(step string, amount, escrowed int64) {
			t.Helper()
			o, err := s.GetTyped(ctx, mp.ID, "orders", order.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, escrow, err := s.OrderTotals(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if got != amount || escrow.AvailableMinor != escrowed {
				t.Fatalf("%s: amount %d, escrowed %d; want %d, %d", step, got, escrow.AvailableMinor, amount, escrowed)
			}
		}

		var first payments.Resource
		for i, n := range []int64{5000, 2500} {
			in := amount(n)
			in.Instrument, in.Order = card, order.ID
			d, err := s.Debit(ctx, mp.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = d
			}
		}
		want("two debits", 7500, 7500)
		if o, _ := s.GetTyped(ctx, mp.ID, "orders", order.ID); payments.Int(o.Fields["amount"]) != 0 {
			t.Fatalf("the order's row holds amount %v: debits wrote it", o.Fields["amount"])
		}
		if _, err := s.Refund(ctx, mp.ID, first.ID, amount(1000)); err != nil {
			t.Fatal(err)
		}
		want("a refund", 6500, 6500)
		out := amount(3000)
		out.Instrument, out.Order = bank, order.ID
		if _, err := s.Credit(ctx, mp.ID, out); err != nil {
			t.Fatal(err)
		}
		want("a payout", 6500, 3500)
		wantReason(t, errOf(s.Refund(ctx, mp.ID, first.ID, amount(4000))), "insufficient-funds")
		want("a refused refund", 6500, 3500)

		// What an order was stored with before its escrow kept the amount
		// still counts.
		if _, err := s.Update(ctx, mp.ID, "orders", order.ID, "", func(o *payments.Resource) error {
			o.Fields["amount"] = int64(400)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want("a stored amount", 6900, 3500)

		if _, err := s.UpdateOrder(ctx, mp.ID, order.ID, payments.OrderInput{Description: "renamed"}); err != nil {
			t.Fatal(err)
		}
		evs, _, err := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "events", LinkRel: "entity", LinkTarget: order.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		shown := map[string]any{}
		for _, ev := range evs {
			if ev.Fields["type"] == "order.updated" {
				shown = ev.Fields["entity"].(map[string]any)["fields"].(map[string]any)
			}
		}
		if payments.Int(shown["amount"]) != 6900 {
			t.Fatalf("order.updated shows amount %v, want 6900 (events %d)", shown["amount"], len(evs))
		}
	})
}
