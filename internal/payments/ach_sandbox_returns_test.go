package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

func (w *sandboxWorld) balances(t *testing.T, accounts ...string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, a := range accounts {
		b, err := w.s.Balance(context.Background(), a)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[a] = b
	}
	return out
}

func (w *sandboxWorld) eventCount(t *testing.T) int {
	t.Helper()
	_, n, err := w.s.List(context.Background(), payments.ListQuery{Marketplace: w.mp, Type: "events", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// In a test marketplace the sandbox's bank returns a debit from a "fail
// late" test account (99000000 06) two weeks after it succeeded, when its
// money has already been paid out: the debit fails with R01, its money
// leaves the order as far as the order holds it, then the marketplace
// escrow, and the rest is owed; the merchant's feed gets a chargeback and
// the debit one debit.failed event. Running the return again changes
// nothing. A refund to such an account is returned too, after it was shown
// succeeded, and its money comes back.
func TestSandboxReturnsADebitThatWasPaidOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newSandboxWorld(t, kind, pt(time.November, 25, 10, 0))
		buyer, buyerCu := w.verifiedBank(t, "9900000006")
		shopBank, shop := w.verifiedBank(t, "9900000002")
		// The shop is a merchant with a balance, which must reconcile with
		// what its payments did, returns included.
		party, err := w.m.CreateMerchant(ctx, w.mp, merchants.PartyInput{Login: "shop-" + kind, ControlKey: "a control key 12345", Customer: shop.ID, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		order, err := w.s.CreateOrder(ctx, w.mp, shop.ID, payments.OrderInput{Description: "rent"})
		if err != nil {
			t.Fatal(err)
		}
		card, _ := w.s.CreateCard(ctx, w.mp, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		fund := amount(1_500)
		fund.Instrument = card.ID
		if _, err := w.s.Debit(ctx, w.mp, fund); err != nil {
			t.Fatal(err)
		}
		in := amount(10_000)
		in.Instrument, in.Order, in.Customer = buyer.ID, order.ID, buyerCu.ID
		debit, err := w.s.Debit(ctx, w.mp, in)
		if err != nil || debit.Status != "pending" {
			t.Fatalf("debit %s, %v", debit.Status, err)
		}
		// A second debit from the same account, without an order, is
		// partly refunded; the refund is returned too.
		in2 := amount(3_000)
		in2.Instrument = buyer.ID
		other, err := w.s.Debit(ctx, w.mp, in2)
		if err != nil {
			t.Fatal(err)
		}

		// Succeeded on Wednesday 2 December (batch Wed 25 November, then
		// Fri 27, Mon 30, Tue 1, Wed 2; Thursday 26 is Thanksgiving).
		w.at(t, pt(time.December, 2, 15, 31))
		if w.status(t, debit.ID) != "succeeded" || w.status(t, other.ID) != "succeeded" {
			t.Fatal("the debits did not succeed on their business day")
		}
		out := amount(6_000)
		out.Instrument, out.Order = shopBank.ID, order.ID
		if c, err := w.s.Credit(ctx, w.mp, out); err != nil || c.Status != "succeeded" {
			t.Fatalf("payout %s, %v", c.Status, err)
		}
		// After Wednesday's cut-off: Thursday 3 December's batch, shown
		// succeeded on Friday 4, returned four business days after its
		// batch, Wednesday 9 December.
		rf, err := w.s.Refund(ctx, w.mp, other.ID, amount(1_000))
		if err != nil || rf.Status != "pending" {
			t.Fatalf("refund %s, %v", rf.Status, err)
		}
		w.at(t, pt(time.December, 4, 15, 31))
		if w.status(t, rf.ID) != "succeeded" {
			t.Fatal("the refund was not shown succeeded on Friday 4 December")
		}
		escrow := payments.EscrowAccount(w.mp)
		if b := w.balances(t, escrow)[escrow]; b != 1_500+3_000-1_000 {
			t.Fatalf("marketplace escrow after the refund = %d", b)
		}
		w.at(t, pt(time.December, 9, 15, 29))
		if w.status(t, rf.ID) != "succeeded" {
			t.Fatal("the refund was returned early")
		}
		w.at(t, pt(time.December, 9, 15, 31))
		if r, _ := w.s.Get(ctx, w.mp, rf.ID); r.Status != "failed" || r.Fields["failure_reason_code"] != "R03" {
			t.Fatalf("the refund was not returned on Wednesday 9 December: %s %v", r.Status, r.Fields["failure_reason_code"])
		}
		if b := w.balances(t, escrow)[escrow]; b != 1_500+3_000 {
			t.Fatalf("marketplace escrow after the refund's return = %d", b)
		}
		// The marketplace's own feed: the refund taken out, then given back.
		ownFeed, err := w.m.Feed(ctx, w.mp, w.owner)
		if err != nil {
			t.Fatal(err)
		}
		var refundEntries []string
		for _, e := range ownFeed {
			if e.SourceID == rf.ID && e.AmountMinor == 1_000 {
				refundEntries = append(refundEntries, e.Type)
			}
		}
		if len(refundEntries) != 2 || refundEntries[0] != payments.FeedReversal || refundEntries[1] != payments.FeedChargebackReversal {
			t.Fatalf("the refund's feed entries %v", refundEntries)
		}

		accounts := []string{order.ID, escrow, payments.ACHShortfallAccount(w.mp), payments.BankNetworkAccount(w.mp)}
		before := w.balances(t, accounts...)
		beforeFeed := w.feedTypes(t, shop.ID)
		// The debits come back fourteen business days after their batch:
		// Wednesday 16 December, 15:30 Pacific.
		w.at(t, pt(time.December, 16, 15, 29))
		if w.status(t, debit.ID) != "succeeded" {
			t.Fatal("returned early")
		}
		w.at(t, pt(time.December, 16, 15, 31))
		d, _ := w.s.Get(ctx, w.mp, debit.ID)
		if d.Status != "failed" || d.Fields["failure_reason_code"] != "R01" {
			t.Fatalf("returned debit: %s %v", d.Status, d.Fields["failure_reason_code"])
		}
		if w.status(t, other.ID) != "failed" {
			t.Fatal("the second debit was not returned")
		}
		// The model: 13,000 comes back out. The order held 4,000 of its
		// debit's 10,000; the marketplace escrow held 4,500 and gives all
		// of it; the remaining 4,500 is owed to the bank.
		after := w.balances(t, accounts...)
		want := map[string]int64{
			order.ID:                           0,
			escrow:                             0,
			payments.ACHShortfallAccount(w.mp): -4_500,
			payments.BankNetworkAccount(w.mp):  before[payments.BankNetworkAccount(w.mp)] + 13_000,
		}
		if before[order.ID] != 4_000 || before[escrow] != 4_500 {
			t.Fatalf("before the returns: %v", before)
		}
		for a, v := range want {
			if after[a] != v {
				t.Errorf("%s = %d, want %d", a, after[a], v)
			}
		}
		if got := orderAmount(t, w.s, w.mp, order.ID); got != 0 {
			t.Errorf("order amount after the return = %d", got)
		}
		afterFeed := w.feedTypes(t, shop.ID)
		if len(afterFeed) != len(beforeFeed)+1 || afterFeed[len(afterFeed)-1] != payments.FeedChargeback {
			t.Errorf("shop's feed %v, was %v", afterFeed, beforeFeed)
		}
		if got := w.eventTypes(t, debit.ID); count(got, "debit.failed") != 1 || count(got, "debit.succeeded") != 1 {
			t.Errorf("debit's events %v", got)
		}

		// The return once more (a job scheduled again): nothing moves.
		events := w.eventCount(t)
		if _, err := w.sched.Schedule(ctx, payments.JobSandboxReturn, debit.ID, w.mp, time.Time{}); err != nil {
			t.Fatal(err)
		}
		w.at(t, pt(time.December, 16, 16, 0))
		again := w.balances(t, accounts...)
		for a, v := range after {
			if again[a] != v {
				t.Errorf("replay moved %s: %d, was %d", a, again[a], v)
			}
		}
		if n := w.eventCount(t); n != events {
			t.Errorf("replay wrote %d events", n-events)
		}
		if f := w.feedTypes(t, shop.ID); len(f) != len(afterFeed) {
			t.Errorf("replay fed %d entries", len(f)-len(afterFeed))
		}
		found, err := ledger.Verify(ctx, w.db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
		if party, err = w.s.Get(ctx, w.mp, party.ID); err != nil {
			t.Fatal(err)
		}
		rec, err := w.m.Reconcile(ctx, party)
		if err != nil || len(rec.Differences) != 0 || rec.EntriesCompared == 0 {
			t.Fatalf("the shop's balance does not reconcile after the returns: %+v, %v", rec, err)
		}
	})
}
