package merchants_test

import (
	"context"
	"github.com/poise-payments/poise/internal/merchants"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A merchant balance reconciles with the payments that fed it; a feed entry
// that no longer matches its payment is listed as a difference.
func TestReconciliation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newWorld(t, kind, time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC))
		s, clk, mp, db := w.s, w.clk, w.mp, w.db
		m, cu := w.merchant(t, "rec-"+kind)
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
		in := amount(5_000)
		in.Instrument, in.Order = card.ID, order.ID
		d, _ := s.Debit(ctx, mp.ID, in)
		clk.Advance(24 * time.Hour)
		s.Refund(ctx, mp.ID, d.ID, amount(700))
		s.Adjust(ctx, mp.ID, m.ID, merchants.AdjustmentInput{AmountMinor: -300, ExternalSource: "fee"})

		rec, err := s.Reconcile(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Differences) != 0 || rec.BalanceMinor != 4_000 || rec.TransactionsSum != 4_300 || rec.AdjustmentsSum != -300 || rec.EntriesCompared != 3 {
			t.Fatalf("reconciliation = %+v", rec)
		}

		// [from, to): the day of the sale only.
		day, _ := s.FeedBetween(ctx, m, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC))
		if len(day) != 1 || day[0].Type != payments.FeedSale {
			t.Fatalf("first day = %+v", day)
		}
		edge, _ := s.FeedBetween(ctx, m, time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC))
		if len(edge) != 0 {
			t.Fatalf("the end of the period was included: %+v", edge)
		}

		if err := db.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE balance_transactions SET amount = amount + 1 WHERE type = 'sale'")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// The entry no longer matches its debit, nor the effect posted
		// under its rule.
		rec, _ = s.Reconcile(ctx, m)
		if len(rec.Differences) != 2 || rec.Differences[0].SourceID != d.ID || rec.Differences[1].SourceID != d.ID ||
			!strings.Contains(rec.Differences[0].Problem, "5001") || !strings.Contains(rec.Differences[1].Problem, "5001") {
			t.Fatalf("tampered feed: %+v", rec.Differences)
		}
		// A balance account that moved without a transfer breaks both the
		// reconciliation and the ledger's verification.
		if err := db.Update(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "UPDATE balance_transactions SET amount = amount - 1 WHERE type = 'sale'"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE accounts SET posted = posted + 5 WHERE id = ?", merchants.BalanceAccount(m.ID, "live"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		rec, _ = s.Reconcile(ctx, m)
		if len(rec.Differences) != 2 || !strings.Contains(rec.Differences[0].Problem, "current") {
			t.Fatalf("tampered account: %+v", rec.Differences)
		}
		found, err := ledger.Verify(ctx, db.Ledger())
		if err != nil || len(found) == 0 || found[0].AccountID != merchants.BalanceAccount(m.ID, "live") {
			t.Fatalf("verify of a tampered balance account: %v %v", found, err)
		}
	})
}
