package merchants_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A deduct rule's reserve rate holds a reserve too, as the seed says ("Sale
// is set as deduct, then balance will be reduced by amount calculated from
// rate plan … after N days"): the deduction reaches current at once, and
// its reserve part reaches live only on the transaction's date + 1 day +
// the period.
func TestDeductRuleHoldsReserve(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		ny, _ := time.LoadLocation("America/New_York")
		start := time.Date(2026, 11, 30, 10, 0, 0, 0, ny)
		w := newWorld(t, kind, start)
		s, mp := w.s, w.mp
		m, _ := w.merchant(t, "deduct-"+kind)
		reserve, _ := money.ParseRate("10")
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "deduct", ReserveRate: reserve,
			ReservePeriodDays: 2, DateBump: "ASAP_plus_RR"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordTransactions(ctx, mp.ID, []merchants.TransactionInput{
			{ExternalID: "in", Type: "payout_cancel", AmountMinor: 50_000, Currency: "USD", Merchant: m.ID, Gate: "card", OccurredAt: start},
			{ExternalID: "sale", Type: "sale", AmountMinor: 10_000, Currency: "USD", Merchant: m.ID, Gate: "card", OccurredAt: start},
		}); err != nil {
			t.Fatal(err)
		}
		want := func(when string, current, rr, live int64) {
			t.Helper()
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if b[0].CurrentMinor != current || b[0].RRMinor != rr || b[0].LiveMinor != live {
				t.Fatalf("%s: current %d rr %d live %d, want %d %d %d", when, b[0].CurrentMinor, b[0].RRMinor, b[0].LiveMinor, current, rr, live)
			}
		}
		want("at once", 40_000, -1_000, 41_000)
		// Released at the start of 30 Nov + 1 + 2 days, in New York.
		w.clk.Set(time.Date(2026, 12, 3, 0, 0, 0, 0, ny).Add(-time.Second))
		want("just before the release", 40_000, -1_000, 41_000)
		w.clk.Set(time.Date(2026, 12, 3, 0, 0, 0, 0, ny))
		want("at the release", 40_000, 0, 40_000)
		rec, err := s.Reconcile(ctx, m)
		if err != nil || len(rec.Differences) != 0 {
			t.Fatalf("reconciliation: %+v %v", rec.Differences, err)
		}
	})
}
