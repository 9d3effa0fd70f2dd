package merchants_test

import (
	"context"
	"github.com/poise-payments/poise/internal/merchants"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A monthly fee on the 31st runs once per month (on the last day of
// shorter months), catches up after downtime without running twice, and
// stops when the balance reaches zero.
func TestScheduledAdjustments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		start := time.Date(2027, 1, 30, 12, 0, 0, 0, time.UTC)
		w := newWorld(t, kind, start)
		s, clk, mp := w.s, w.clk, w.mp
		sched := scheduler.New(w.db, clk)
		sched.Handle(merchants.JobScheduledAdjustment, s.RunScheduledAdjustment)
		m, cu := w.merchant(t, "fee-"+kind)
		if _, err := s.Adjust(ctx, mp.ID, m.ID, merchants.AdjustmentInput{AmountMinor: 2_500, ExternalSource: "opening"}); err != nil {
			t.Fatal(err)
		}
		in := merchants.ScheduleInput{Period: "monthly", First: time.Date(2027, 1, 31, 9, 0, 0, 0, time.UTC),
			Last: time.Date(2027, 12, 31, 9, 0, 0, 0, time.UTC), AmountMinor: -1_000, StopAtZero: true}
		if _, err := s.CreateSchedule(ctx, mp.ID, m.ID, in); err == nil {
			t.Fatal("a schedule without the risk acknowledgement was accepted")
		}
		in.Acknowledged = true
		sa, err := s.CreateSchedule(ctx, mp.ID, m.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		balance := func() int64 {
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			return b[0].CurrentMinor
		}
		run := func() int {
			n, err := sched.RunDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if run(); balance() != 2_500 {
			t.Fatal("ran before its first date")
		}
		clk.Set(time.Date(2027, 1, 31, 9, 0, 0, 0, time.UTC))
		run()
		if balance() != 1_500 {
			t.Fatalf("after January: %d", balance())
		}
		// Down through February and March: both runs happen, once each,
		// on 28 February and 31 March.
		clk.Set(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC))
		run()
		run()
		if balance() != -500 {
			t.Fatalf("after catching up: %d", balance())
		}
		got, _ := s.Get(ctx, mp.ID, sa.ID)
		if got.Fields["last_run_at"] != "2027-03-31T09:00:00Z" || got.Fields["next_run_at"] != "2027-04-30T09:00:00Z" {
			t.Fatalf("last %v next %v", got.Fields["last_run_at"], got.Fields["next_run_at"])
		}
		// An edit changes the runs to come: a last date before the next run
		// finishes the schedule; a bad amount is refused.
		zero := int64(0)
		if _, err := s.EditSchedule(ctx, mp.ID, sa.ID, merchants.ScheduleEdit{AmountMinor: &zero}); err == nil {
			t.Fatal("an amount of zero was accepted")
		}
		fee := int64(-1_000)
		if _, err := s.EditSchedule(ctx, mp.ID, sa.ID, merchants.ScheduleEdit{AmountMinor: &fee}); err != nil {
			t.Fatal(err)
		}
		// At or below zero, the next run stops the schedule instead.
		clk.Set(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC))
		run()
		got, _ = s.Get(ctx, mp.ID, sa.ID)
		if balance() != -500 || got.Status != "off" || got.Fields["stopped_because"] != "balance at or below zero" {
			t.Fatalf("balance %d, status %s, %v", balance(), got.Status, got.Fields["stopped_because"])
		}
		feed, _ := s.Feed(ctx, mp.ID, cu.ID)
		runs := 0
		for _, e := range feed {
			if e.Type == merchants.FeedAdjustment && e.AmountMinor == -1_000 {
				runs++
			}
		}
		if runs != 3 {
			t.Fatalf("%d monthly runs applied, want 3 (January, February, March)", runs)
		}
	})
}

// A weekly fee turned off, then back on two months later, resumes at its
// next week from then: the weeks it was off are not charged at once.
func TestScheduleTurnedBackOnSkipsTheWeeksItWasOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		c := newClockWorld(t, kind, time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)) // a Monday
		s := c.s
		mp := c.marketplace(t)
		cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		m, err := s.CreateMerchant(ctx, mp.ID, merchants.PartyInput{Login: "weekly-" + kind, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Adjust(ctx, mp.ID, m.ID, merchants.AdjustmentInput{AmountMinor: 10_000, ExternalSource: "opening"}); err != nil {
			t.Fatal(err)
		}
		first := time.Date(2027, 1, 4, 15, 0, 0, 0, time.UTC)
		sa, err := s.CreateSchedule(ctx, mp.ID, m.ID, merchants.ScheduleInput{Period: "weekly", First: first, AmountMinor: -100, Acknowledged: true})
		if err != nil {
			t.Fatal(err)
		}
		balance := func() int64 {
			t.Helper()
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			return b[0].CurrentMinor
		}
		// The model: the opening credit less one fee per week the
		// schedule was on when the week came.
		charged := 0
		want := func(when string) {
			t.Helper()
			if got := balance(); got != 10_000-100*int64(charged) {
				t.Fatalf("%s: balance %d, want %d (%d weeks charged)", when, got, 10_000-100*int64(charged), charged)
			}
		}
		c.advance(t, mp.ID, 3*time.Hour)
		c.runDue(t)
		charged++
		want("after the first week")

		if _, err := s.SetScheduleStatus(ctx, mp.ID, sa.ID, false); err != nil {
			t.Fatal(err)
		}
		c.advance(t, mp.ID, 61*24*time.Hour) // Saturday 6 March, 15:00
		c.runDue(t)
		want("two months off")
		on, err := s.SetScheduleStatus(ctx, mp.ID, sa.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		// Nine weeks after the first date is Monday 8 March.
		if got := on.Fields["next_run_at"]; got != "2027-03-08T15:00:00Z" {
			t.Fatalf("turned back on: next run %v, want 2027-03-08T15:00:00Z", got)
		}
		c.runDue(t)
		want("turned back on")
		c.advance(t, mp.ID, 2*24*time.Hour)
		c.runDue(t)
		charged++
		want("at the next week")
		if got, _ := s.Get(ctx, mp.ID, sa.ID); got.Fields["next_run_at"] != "2027-03-15T15:00:00Z" {
			t.Fatalf("after resuming: next run %v", got.Fields["next_run_at"])
		}
	})
}

// A scheduled run succeeds only when its effect committed. A run whose
// adjustment the merchant's state refuses is an outcome: the schedule
// turns off saying why, and the job is done, not retried. A run that
// could not commit (here: its job is no longer its own) reports failure,
// so that the scheduler tries it again, and moves nothing.
func TestScheduledRunSucceedsOnlyWhenItsEffectCommitted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		start := time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)
		c := newClockWorld(t, kind, start)
		s := c.s
		mp := c.marketplace(t)
		merchant := func(login string) payments.Resource {
			cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
			m, err := s.CreateMerchant(ctx, mp.ID, merchants.PartyInput{Login: login + "-" + kind, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		weekly := merchants.ScheduleInput{Period: "weekly", First: start.Add(time.Hour), AmountMinor: -100, Acknowledged: true}

		// A schedule in euros for a merchant that, when it runs, still has
		// no balance in euros: its adjustment is refused.
		m := merchant("refused")
		inEuros := weekly
		inEuros.Currency = "EUR"
		sa, err := s.CreateSchedule(ctx, mp.ID, m.ID, inEuros)
		if err != nil {
			t.Fatal(err)
		}
		c.advance(t, mp.ID, time.Hour)
		if n := c.runDue(t); n != 1 {
			t.Fatalf("%d jobs done at the refused run, want 1", n)
		}
		got := mustGet(t, s, mp.ID, sa.ID)
		if got.Status != "off" || !strings.HasPrefix(payments.Str(got.Fields["stopped_because"]), "adjustment refused: ") {
			t.Fatalf("after a refused run: status %s, stopped_because %v", got.Status, got.Fields["stopped_because"])
		}
		adjs, _, _ := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "adjustments", LinkRel: "merchant", LinkTarget: m.ID, Limit: 10})
		if len(adjs) != 0 {
			t.Fatalf("a refused run left %d adjustments", len(adjs))
		}
		c.advance(t, mp.ID, 24*time.Hour)
		if n := c.runDue(t); n != 0 {
			t.Fatalf("a refused run was tried again: %d jobs", n)
		}

		// A run handed a job it does not hold cannot complete it: it fails
		// and leaves the schedule and the balance as they were.
		ok := merchant("lost-job")
		sa2, err := s.CreateSchedule(ctx, mp.ID, ok.ID, merchants.ScheduleInput{Period: "weekly", First: start.Add(48 * time.Hour), AmountMinor: -100, Acknowledged: true})
		if err != nil {
			t.Fatal(err)
		}
		at := payments.Str(sa2.Fields["next_run_at"])
		c.advance(t, mp.ID, 24*time.Hour)
		err = s.RunScheduledAdjustment(ctx, scheduler.Job{ID: "JB-not-leased", Kind: merchants.JobScheduledAdjustment, Key: sa2.ID + "@" + at, Payload: mp.ID})
		if err == nil {
			t.Fatal("a run that could not complete its job reported success")
		}
		if got := mustGet(t, s, mp.ID, sa2.ID); payments.Str(got.Fields["next_run_at"]) != at || got.Fields["last_run_at"] != nil {
			t.Fatalf("the failed run moved its schedule: next %v last %v", got.Fields["next_run_at"], got.Fields["last_run_at"])
		}
		adjs, _, _ = s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "adjustments", LinkRel: "merchant", LinkTarget: ok.ID, Limit: 10})
		if len(adjs) != 0 {
			t.Fatalf("the failed run left %d adjustments", len(adjs))
		}
		// Its own job, run by the scheduler, makes the adjustment once.
		if n := c.runDue(t); n != 1 {
			t.Fatalf("%d jobs done at the run, want 1", n)
		}
		adjs, _, _ = s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "adjustments", LinkRel: "merchant", LinkTarget: ok.ID, Limit: 10})
		if len(adjs) != 1 {
			t.Fatalf("the run made %d adjustments, want 1", len(adjs))
		}
	})
}
