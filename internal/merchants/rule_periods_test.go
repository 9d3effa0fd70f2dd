package merchants_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A rule applies to the transactions that happened while it was in force:
// from its effective date until it is ended. Ending it changes nothing
// already posted, and a transaction of the time it was in force, recorded
// after it ended, still takes it.
func TestRulePeriods(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		start := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
		w := newWorld(t, kind, start)
		s, mp := w.s, w.mp
		m, _ := w.merchant(t, "periods-"+kind)
		day := 24 * time.Hour
		fee, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", FeeFixedMinor: 100, DateBump: "ASAP",
			EffectiveFrom: start.Add(-2 * day)})
		if err != nil {
			t.Fatal(err)
		}
		record := func(id string, at time.Time) {
			t.Helper()
			if _, err := s.RecordTransaction(ctx, mp.ID, merchants.TransactionInput{ExternalID: id, Type: "sale", AmountMinor: 1_000, Currency: "USD",
				Merchant: m.ID, Gate: "card", OccurredAt: at}); err != nil {
				t.Fatal(err)
			}
		}
		current := func() int64 {
			t.Helper()
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			return b[0].CurrentMinor
		}
		record("before the rule", start.Add(-3*day)) // the seed's table: 1000
		record("under the rule", start.Add(-day))    // 1000 − 100
		if got := current(); got != 1_900 {
			t.Fatalf("current %d, want 1900", got)
		}
		if _, err := s.EndBalanceRule(ctx, mp.ID, fee.ID, start.Add(-time.Hour)); err == nil {
			t.Fatal("a rule was ended in the past")
		}
		w.clk.Set(start.Add(time.Hour))
		if _, err := s.EndBalanceRule(ctx, mp.ID, fee.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got := current(); got != 1_900 {
			t.Fatalf("ending the rule changed the balance to %d", got)
		}
		w.clk.Set(start.Add(2 * time.Hour))
		record("after the end", start.Add(2*time.Hour-time.Minute)) // 1000
		record("late, of its time", start)                          // still under the rule: 900
		if got := current(); got != 3_800 {
			t.Fatalf("current %d, want 3800", got)
		}
		if _, err := s.EndBalanceRule(ctx, mp.ID, fee.ID, time.Time{}); err == nil {
			t.Fatal("a rule was ended twice")
		}
		rec, err := s.Reconcile(ctx, m)
		if err != nil || len(rec.Differences) != 0 {
			t.Fatalf("reconciliation: %+v %v", rec.Differences, err)
		}
	})
}
