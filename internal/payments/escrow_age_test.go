package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// fundsEvents lists the funds_aging events about an entity with the amount
// each warns about.
func (w *sandboxWorld) fundsEvents(t *testing.T, entity string) []int64 {
	t.Helper()
	evs, _, err := w.s.List(context.Background(), payments.ListQuery{Marketplace: w.mp, Type: "events", LinkRel: "entity", LinkTarget: entity, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, e := range evs {
		typ := payments.Str(e.Fields["type"])
		if typ != "order.funds_aging" && typ != "marketplace.funds_aging" {
			continue
		}
		funds, _ := e.Fields["funds"].(map[string]any)
		out = append(out, payments.Int(funds["amount"]))
	}
	return out
}

func ages(e payments.EscrowReport) map[int]int64 {
	out := map[int]int64{}
	for _, b := range e.ByAge {
		if b.AmountMinor != 0 {
			out[b.FromDays] = b.AmountMinor
		}
	}
	return out
}

// The 30-day rule on a test clock: an order's money is aged first in,
// first out; a day's money still unpaid on its 25th day raises an event,
// money paid out before does not; with the marketplace's policy on, a debit into
// an order holding money past its 30th day is refused, and allowed again
// once that money is paid out. The marketplace's own escrow is aged and
// warned about the same way.
func TestThirtyDayRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		day0 := pt(time.November, 2, 10, 0)
		day := func(n int) time.Time { return day0.AddDate(0, 0, n) }
		w := newSandboxWorld(t, kind, day0)
		shopBank, shop := w.verifiedBank(t, "9900000002")
		order, err := w.s.CreateOrder(ctx, w.mp, shop.ID, payments.OrderInput{Description: "rent"})
		if err != nil {
			t.Fatal(err)
		}
		card, _ := w.s.CreateCard(ctx, w.mp, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		debit := func(amountMinor int64, orderID string) (payments.Resource, error) {
			in := amount(amountMinor)
			in.Instrument, in.Order = card.ID, orderID
			return w.s.Debit(ctx, w.mp, in)
		}
		payout := func(amountMinor int64) {
			out := amount(amountMinor)
			out.Instrument, out.Order = shopBank.ID, order.ID
			if c, err := w.s.Credit(ctx, w.mp, out); err != nil || c.Status != "succeeded" {
				t.Fatalf("payout %s, %v", c.Status, err)
			}
		}
		if _, err := debit(10_000, order.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := debit(1_000, ""); err != nil {
			t.Fatal(err)
		}
		w.at(t, day(10))
		if _, err := debit(5_000, order.ID); err != nil {
			t.Fatal(err)
		}
		e := w.escrow(t, order.ID)
		if got := ages(e); len(got) != 2 || got[7] != 10_000 || got[0] != 5_000 || !e.OldestFundsAt.Equal(day0) {
			t.Fatalf("day 10: by age %v, oldest %s", got, e.OldestFundsAt)
		}
		// Day 20: 12,000 paid out takes the first 10,000 and 2,000 of the
		// second debit; 3,000 of day 10 is left.
		w.at(t, day(20))
		payout(12_000)
		e = w.escrow(t, order.ID)
		if got := ages(e); len(got) != 1 || got[7] != 3_000 || !e.OldestFundsAt.Equal(day(10)) {
			t.Fatalf("day 20: by age %v, oldest %s", got, e.OldestFundsAt)
		}
		// The day's money is checked on its 25th day, from midnight UTC:
		// money of Monday 2 November (UTC) on 27 November, 00:00 UTC. The
		// first debit's was paid out: no warning about the order; the
		// marketplace's own 1,000 is still there.
		nov27 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		w.at(t, nov27.Add(-time.Minute))
		if got := w.fundsEvents(t, w.mp); len(got) != 0 {
			t.Fatalf("warned before day 25: %v", got)
		}
		w.at(t, nov27.Add(time.Minute))
		if got := w.fundsEvents(t, order.ID); len(got) != 0 {
			t.Fatalf("warned about money paid out: %v", got)
		}
		if got := w.fundsEvents(t, w.mp); len(got) != 1 || got[0] != 1_000 {
			t.Fatalf("marketplace warnings on day 25: %v", got)
		}
		// The second debit arrived on 12 November (UTC): its 3,000 is still
		// there on 7 December.
		dec7 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		w.at(t, dec7.Add(-time.Minute))
		if got := w.fundsEvents(t, order.ID); len(got) != 0 {
			t.Fatalf("order warned early: %v", got)
		}
		w.at(t, dec7.Add(time.Minute))
		if got := w.fundsEvents(t, order.ID); len(got) != 1 || got[0] != 3_000 {
			t.Fatalf("order warnings on 7 December: %v", got)
		}
		w.at(t, day(35))
		if got := ages(w.escrow(t, w.mp)); len(got) != 1 || got[payments.FundsDeadlineDays] != 1_000 {
			t.Fatalf("marketplace escrow by age on day 35: %v", got)
		}

		// The policy: off, a debit into the stale order goes through; on,
		// it is refused once the order's oldest money is past day 30 of its
		// arrival (day 40), and nothing is written.
		if _, err := w.s.SetEscrowPolicy(ctx, w.mp, payments.EscrowPolicy{RefuseStaleOrderDebits: true}); err != nil {
			t.Fatal(err)
		}
		w.at(t, day(39))
		if _, err := debit(100, order.ID); err != nil {
			t.Fatalf("debit on day 39: %v", err)
		}
		w.at(t, day(40).Add(time.Minute))
		_, before, _ := w.s.List(ctx, payments.ListQuery{Marketplace: w.mp, Type: "debits", WithHidden: true, Limit: 1})
		if _, err := debit(100, order.ID); apperr.ReasonOf(err) != "order-funds-past-deadline" {
			t.Fatalf("debit into an order past the deadline: %v", err)
		}
		if _, after, _ := w.s.List(ctx, payments.ListQuery{Marketplace: w.mp, Type: "debits", WithHidden: true, Limit: 1}); after != before {
			t.Fatalf("the refused debit wrote %d debits", after-before)
		}
		// The stale 3,000 paid out, first in first out: the order takes
		// debits again.
		payout(3_000)
		if _, err := debit(100, order.ID); err != nil {
			t.Fatalf("debit after paying the stale money out: %v", err)
		}
		if _, err := w.s.SetEscrowPolicy(ctx, w.mp, payments.EscrowPolicy{}); err != nil {
			t.Fatal(err)
		}
	})
}
