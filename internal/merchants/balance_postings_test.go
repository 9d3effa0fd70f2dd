package merchants_test

import (
	"context"
	"github.com/poise-payments/poise/internal/merchants"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A rule added after a sale leaves that sale's fee, hold, reserve and
// release dates as they were; a sale after the rule follows the new one.
func TestRuleChangeLeavesEarlierSalesAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		ny, _ := time.LoadLocation("America/New_York")
		w := newWorld(t, kind, time.Date(2026, 11, 20, 11, 30, 0, 0, ny)) // a Friday
		s, clk, mp := w.s, w.clk, w.mp
		m, cu := w.merchant(t, "history-"+kind)
		rate := func(s string) money.Rate { r, _ := money.ParseRate(s); return r }
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", FeeRate: rate("2.9"), FeeFixedMinor: 30,
			ReserveRate: rate("10"), ReservePeriodDays: 90, DateBump: "BDAY+2"}); err != nil {
			t.Fatal(err)
		}
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
		sell := func() payments.Resource {
			t.Helper()
			in := amount(10_000)
			in.Instrument, in.Order = card.ID, order.ID
			d, err := s.Debit(ctx, mp.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		dates := func(source string) merchants.EntryDates {
			t.Helper()
			feed, err := s.Feed(ctx, mp.ID, cu.ID)
			if err != nil {
				t.Fatal(err)
			}
			dated, err := s.DatesOf(ctx, m, feed)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dated {
				if d.Entry.SourceID == source {
					return d
				}
			}
			t.Fatalf("no entry of %s", source)
			return merchants.EntryDates{}
		}
		check := func(when string, current, sth, rr int64) {
			t.Helper()
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if got := b[0]; got.CurrentMinor != current || got.STHMinor != sth || got.RRMinor != rr || got.LiveMinor != current-sth-rr {
				t.Fatalf("%s: %+v, want current %d sth %d rr %d", when, got.Buckets, current, sth, rr)
			}
		}
		first := sell()
		check("after the first sale", 9_680, 8_680, 1_000)

		// On Monday the rate plan changes: 5%, a 20% reserve for 30 days,
		// live one day later.
		clk.Set(time.Date(2026, 11, 23, 9, 15, 0, 0, ny))
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", FeeRate: rate("5"),
			ReserveRate: rate("20"), ReservePeriodDays: 30, DateBump: "DAY+1"}); err != nil {
			t.Fatal(err)
		}
		check("after the rule change", 9_680, 8_680, 1_000)
		d := dates(first.ID)
		if d.FeeMinor != 320 || d.Rule.DateBump != "BDAY+2" || !d.ShortTermHoldEnd.Equal(time.Date(2026, 11, 24, 12, 1, 0, 0, ny)) ||
			!d.ReserveDate.Equal(time.Date(2027, 2, 19, 0, 0, 0, 0, ny)) {
			t.Fatalf("the first sale changed: fee %d, %s, hold until %s, reserve until %s", d.FeeMinor, d.Rule.DateBump, d.ShortTermHoldEnd.In(ny), d.ReserveDate.In(ny))
		}

		second := sell()
		// 100.00 − 5.00 fee − 20.00 reserve = 75.00 held until Tuesday 09:15
		// rounded to 10:01.
		check("after the second sale", 9_680+9_500, 8_680+7_500, 1_000+2_000)
		d = dates(second.ID)
		if d.FeeMinor != 500 || d.Rule.DateBump != "DAY+1" || !d.ShortTermHoldEnd.Equal(time.Date(2026, 11, 24, 10, 1, 0, 0, ny)) ||
			!d.ReserveDate.Equal(time.Date(2026, 12, 24, 0, 0, 0, 0, ny)) {
			t.Fatalf("the second sale: fee %d, %s, hold until %s, reserve until %s", d.FeeMinor, d.Rule.DateBump, d.ShortTermHoldEnd.In(ny), d.ReserveDate.In(ny))
		}
		clk.Set(time.Date(2026, 11, 24, 10, 1, 0, 0, ny))
		check("the second sale's hold ends", 19_180, 8_680, 3_000)
		clk.Set(time.Date(2026, 11, 24, 12, 1, 0, 0, ny))
		check("the first sale's hold ends", 19_180, 0, 3_000)
		clk.Set(time.Date(2026, 12, 24, 0, 0, 0, 0, ny))
		check("the second sale's reserve is released", 19_180, 0, 1_000)
		clk.Set(time.Date(2027, 2, 19, 0, 0, 0, 0, ny))
		check("the first sale's reserve is released", 19_180, 0, 0)

		rec, err := s.Reconcile(ctx, m)
		if err != nil || len(rec.Differences) != 0 || rec.FeesSum != 320+500 || rec.TransactionsSum != 20_000 || rec.BalanceMinor != 19_180 {
			t.Fatalf("reconciliation = %+v, %v", rec, err)
		}
	})
}

// Releases are posted by the scheduler once per balance and due instant:
// three sales in one hour fall due at one instant and make one job; a read
// between a due instant and the job's run already counts the release.
func TestReleasesPostOncePerDueInstant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		ny, _ := time.LoadLocation("America/New_York")
		w := newWorld(t, kind, time.Date(2026, 11, 20, 11, 10, 0, 0, ny))
		s, clk, mp, db := w.s, w.clk, w.mp, w.db
		sched := scheduler.New(db, clk)
		sched.Handle(merchants.JobBalanceRelease, s.RunBalanceRelease)
		m, cu := w.merchant(t, "released-"+kind)
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", DateBump: "DAY+1"}); err != nil {
			t.Fatal(err)
		}
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
		for _, at := range []time.Time{
			time.Date(2026, 11, 20, 11, 10, 0, 0, ny), time.Date(2026, 11, 20, 11, 20, 0, 0, ny), time.Date(2026, 11, 20, 11, 59, 0, 0, ny),
			time.Date(2026, 11, 20, 13, 30, 0, 0, ny),
		} {
			clk.Set(at)
			in := amount(1_000)
			in.Instrument, in.Order = card.ID, order.ID
			if _, err := s.Debit(ctx, mp.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		jobs := func() int {
			t.Helper()
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM jobs WHERE kind = ? AND status = 'pending'", merchants.JobBalanceRelease).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := jobs(); n != 2 {
			t.Fatalf("%d release jobs for two due instants", n)
		}
		want := func(when string, sth, live int64) {
			t.Helper()
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if b[0].STHMinor != sth || b[0].LiveMinor != live || b[0].CurrentMinor != 4_000 {
				t.Fatalf("%s: %+v", when, b[0].Buckets)
			}
		}
		clk.Set(time.Date(2026, 11, 21, 12, 1, 0, 0, ny))
		want("due, not yet run", 1_000, 3_000)
		live := func() int64 {
			n, err := s.Balance(ctx, merchants.BalanceAccount(m.ID, "live"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := live(); n != 0 {
			t.Fatalf("live account before the run = %d", n)
		}
		if n, err := sched.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("ran %d, %v", n, err)
		}
		want("run", 1_000, 3_000)
		if n := live(); n != 3_000 {
			t.Fatalf("live account after the run = %d", n)
		}
		if n, err := sched.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("ran %d again, %v", n, err)
		}
		clk.Set(time.Date(2026, 11, 21, 14, 1, 0, 0, ny))
		if n, err := sched.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("ran %d, %v", n, err)
		}
		want("all run", 0, 4_000)
		if n := live(); n != 4_000 {
			t.Fatalf("live account = %d", n)
		}
		found, err := ledger.Verify(ctx, db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
		if rec, err := s.Reconcile(ctx, m); err != nil || len(rec.Differences) != 0 {
			t.Fatalf("reconciliation: %+v %v", rec, err)
		}
	})
}

// A server upgraded from before balances were ledger accounts posts the
// history of its merchants once: each transaction under the rule in force
// at its time, so the balances are what they were.
func TestExistingFeedIsPostedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		ny, _ := time.LoadLocation("America/New_York")
		start := time.Date(2026, 11, 20, 11, 30, 0, 0, ny)
		w := newWorld(t, kind, start)
		s, clk, mp, db := w.s, w.clk, w.mp, w.db
		cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
		sell := func() {
			t.Helper()
			in := amount(10_000)
			in.Instrument, in.Order = card.ID, order.ID
			if _, err := s.Debit(ctx, mp.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		// The merchant and its rule as the earlier version stored them:
		// resources only, nothing posted.
		merchant := payments.Resource{ID: "MC" + cu.ID[2:], Marketplace: mp.ID, Type: "merchants", CreatedAt: start, UpdatedAt: start,
			Fields: map[string]any{"login": "upgraded-" + kind, "enabled": true}, Links: map[string]string{"customer": cu.ID}, Private: map[string]any{}}
		sell()
		ruleAt := start.Add(time.Hour)
		rule := payments.Resource{ID: "BR" + cu.ID[2:], Marketplace: mp.ID, Type: "balance_rules", CreatedAt: ruleAt, UpdatedAt: ruleAt,
			Fields: map[string]any{"transaction_type": "sale", "action": "add", "fee_rate": "2.9", "fee_fixed": 30, "reserve_rate": "10",
				"reserve_period_days": 90, "date_bump": "BDAY+2"}, Links: map[string]string{"merchant": merchant.ID}, Private: map[string]any{}}
		clk.Set(ruleAt.Add(time.Hour))
		sell()
		if err := db.Update(ctx, func(tx *store.Tx) error {
			for _, r := range []payments.Resource{merchant, rule} {
				if err := tx.InsertResource(ctx, r); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, "INSERT INTO balance_history_pending (party_id, marketplace_id) VALUES (?, ?)", merchant.ID, mp.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		m, _ := s.Get(ctx, mp.ID, merchant.ID)
		if b, _ := s.MerchantBalances(ctx, m); b[0].CurrentMinor != 0 {
			t.Fatalf("posted before the upgrade step: %+v", b[0].Buckets)
		}
		for i, want := range []int{1, 0} {
			if n, err := s.PostPendingHistory(ctx); err != nil || n != want {
				t.Fatalf("pass %d posted %d parties, %v", i, n, err)
			}
		}
		// The first sale under the seed's table, all live; the second under
		// the rule: 3.20 fee, 10.00 reserve, 86.80 held.
		b, err := s.MerchantBalances(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := b[0]; got.CurrentMinor != 19_680 || got.LiveMinor != 10_000 || got.RRMinor != 1_000 || got.STHMinor != 8_680 {
			t.Fatalf("after the upgrade: %+v", got.Buckets)
		}
		if rec, err := s.Reconcile(ctx, m); err != nil || len(rec.Differences) != 0 || rec.FeesSum != 320 {
			t.Fatalf("reconciliation: %+v %v", rec, err)
		}
		if found, err := ledger.Verify(ctx, db.Ledger()); err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
	})
}
