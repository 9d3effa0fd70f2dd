package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// In a test marketplace a dispute ends when its 30 days to respond end, as
// its test card says: 6500000000000002's are lost (the money stays with
// the card network), 6500000000000010's are won (the money comes back into
// the order, fed as a chargeback reversal). Ending one again moves nothing;
// only the sandbox decides them.
func TestSandboxDisputesEndWonOrLost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		day0 := pt(time.November, 2, 10, 0)
		w := newSandboxWorld(t, kind, day0)
		_, shop := w.verifiedBank(t, "9900000002")
		order, err := w.s.CreateOrder(ctx, w.mp, shop.ID, payments.OrderInput{Description: "bike"})
		if err != nil {
			t.Fatal(err)
		}
		disputed := func(number string, amountMinor int64) payments.Resource {
			t.Helper()
			card, err := w.s.CreateCard(ctx, w.mp, payments.CardInput{Number: number, ExpirationMonth: 1, ExpirationYear: 2030})
			if err != nil {
				t.Fatal(err)
			}
			in := amount(amountMinor)
			in.Instrument, in.Order = card.ID, order.ID
			d, err := w.s.Debit(ctx, w.mp, in)
			if err != nil || d.Link("dispute") == "" {
				t.Fatalf("debit %v, dispute %q", err, d.Link("dispute"))
			}
			dt, _ := w.s.Get(ctx, w.mp, d.Link("dispute"))
			return dt
		}
		lost := disputed("6500000000000002", 5_000)
		won := disputed("6500000000000010", 3_000)
		if e := w.escrow(t, order.ID); e.PostedMinor != 0 {
			t.Fatalf("order escrow with both debits disputed = %d", e.PostedMinor)
		}
		w.at(t, day0.Add(30*24*time.Hour-time.Minute))
		if w.status(t, lost.ID) != "pending" || w.status(t, won.ID) != "pending" {
			t.Fatal("a dispute ended before its response time")
		}
		w.at(t, day0.Add(30*24*time.Hour+time.Minute))
		if w.status(t, lost.ID) != payments.DisputeLost || w.status(t, won.ID) != payments.DisputeWon {
			t.Fatalf("disputes ended %s and %s", w.status(t, lost.ID), w.status(t, won.ID))
		}
		if e := w.escrow(t, order.ID); e.PostedMinor != 3_000 {
			t.Fatalf("order escrow after the disputes = %d, want the won 3000", e.PostedMinor)
		}
		feed := w.feedTypes(t, shop.ID)
		if count(feed, payments.FeedChargeback) != 2 || count(feed, payments.FeedChargebackReversal) != 1 {
			t.Fatalf("shop's feed %v", feed)
		}
		if ev := w.eventTypes(t, won.ID); count(ev, "dispute.won") != 1 {
			t.Errorf("won dispute's events %v", ev)
		}
		if ev := w.eventTypes(t, lost.ID); count(ev, "dispute.lost") != 1 {
			t.Errorf("lost dispute's events %v", ev)
		}

		events := w.eventCount(t)
		if _, err := w.sched.Schedule(ctx, payments.JobEndDispute, won.ID, w.mp, time.Time{}); err != nil {
			t.Fatal(err)
		}
		w.at(t, day0.Add(31*24*time.Hour))
		if e := w.escrow(t, order.ID); e.PostedMinor != 3_000 || w.eventCount(t) != events {
			t.Fatalf("ending the dispute again: escrow %d, %d new events", e.PostedMinor, w.eventCount(t)-events)
		}
		if _, err := w.s.DecideDispute(ctx, w.mp, lost.ID, payments.DisputeWon, "receipt"); apperr.ReasonOf(err) != "dispute-decided-by-sandbox" {
			t.Fatalf("deciding a test marketplace's dispute: %v", err)
		}
		found, err := ledger.Verify(ctx, w.db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
	})
}

// In a live marketplace the operator records the network's decision with
// its evidence; a decision is final.
func TestLiveDisputeDecidedWithEvidence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newLiveWorld(t, kind)
		card, _ := w.s.CreateCard(ctx, w.mp, payments.CardInput{Number: "6500000000000002", ExpirationMonth: 1, ExpirationYear: 2030})
		in := amount(4_000)
		in.Instrument = card.ID
		d, err := w.s.Debit(ctx, w.mp, in)
		if err != nil || d.Link("dispute") == "" {
			t.Fatalf("debit %v", err)
		}
		dt := d.Link("dispute")
		escrow := payments.EscrowAccount(w.mp)
		if b, _ := w.s.Balance(ctx, escrow); b != 0 {
			t.Fatalf("escrow with the debit disputed = %d", b)
		}
		if _, err := w.s.DecideDispute(ctx, w.mp, dt, "maybe", "notes"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("status maybe: %v", err)
		}
		if _, err := w.s.DecideDispute(ctx, w.mp, dt, payments.DisputeWon, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("no evidence: %v", err)
		}
		r, err := w.s.DecideDispute(ctx, w.mp, dt, payments.DisputeWon, "signed delivery receipt sent to the network")
		if err != nil || r.Status != payments.DisputeWon {
			t.Fatalf("decide: %s, %v", r.Status, err)
		}
		if b, _ := w.s.Balance(ctx, escrow); b != 4_000 {
			t.Fatalf("escrow after the dispute was won = %d", b)
		}
		if _, err := w.s.DecideDispute(ctx, w.mp, dt, payments.DisputeLost, "changed our mind"); apperr.ReasonOf(err) != "dispute-already-decided" {
			t.Fatalf("deciding twice: %v", err)
		}
		if b, _ := w.s.Balance(ctx, escrow); b != 4_000 {
			t.Fatalf("escrow after a refused second decision = %d", b)
		}
	})
}
