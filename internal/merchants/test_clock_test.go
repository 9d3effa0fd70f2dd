package merchants_test

import (
	"context"
	"github.com/poise-payments/poise/internal/merchants"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// With real time standing still, advancing a marketplace's test clock
// clears its short-term holds, releases its reserves and settles its ACH
// debits; another marketplace's time does not move.
func TestTestClocks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		real := clock.NewManual(time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC)) // Friday 11:30 New York
		l := ledger.New(db.Ledger(), real, ledger.CommitterOptions{})
		defer l.Close(ctx)
		s := newServices(l, db)
		sched := scheduler.New(db, real)
		sched.Handle(payments.JobSettleACH, s.SettleACH)
		newMP := func() payments.Resource {
			key, _, _ := s.CreateAPIKey(ctx, nil, nil)
			mp, err := s.CreateMarketplace(ctx, key, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			return mp
		}
		mp, other := newMP(), newMP()
		cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		m, _ := s.CreateMerchant(ctx, mp.ID, merchants.PartyInput{Login: "clocked-" + kind, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
		reserve, _ := money.ParseRate("10")
		s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", ReserveRate: reserve, ReservePeriodDays: 30, DateBump: "BDAY+2"})
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
		in := amount(10_000)
		in.Instrument, in.Order = card.ID, order.ID
		s.Debit(ctx, mp.ID, in)
		bank, _ := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "P", AccountNumber: "9900000000", RoutingNumber: "021000021"})
		bz, _ := s.CreateVerification(ctx, mp.ID, bank.ID)
		s.ConfirmVerification(ctx, mp.ID, bz.ID, 1, 1)
		ach := amount(4_000)
		ach.Instrument = bank.ID
		d, err := s.Debit(ctx, mp.ID, ach)
		if err != nil || d.Status != "pending" {
			t.Fatalf("ach debit: %v %v", d.Status, err)
		}

		live := func() (int64, int64, int64) {
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			return b[0].LiveMinor, b[0].STHMinor, b[0].RRMinor
		}
		if lv, sth, rr := live(); lv != 0 || sth != 9_000 || rr != 1_000 {
			t.Fatalf("at the sale: live %d sth %d rr %d", lv, sth, rr)
		}
		if _, err := s.AdvanceClock(ctx, mp.ID, -time.Hour); err == nil {
			t.Fatal("a test clock went back")
		}
		// Five days on the marketplace's clock: the hold has cleared; the ACH
		// debit, four business days after its batch with Thanksgiving in
		// between (Friday 27 November, 15:30 Pacific), is still pending.
		if _, err := s.AdvanceClock(ctx, mp.ID, 5*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if n, err := sched.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("due work after five days: %d, %v", n, err)
		}
		if lv, sth, rr := live(); lv != 9_000 || sth != 0 || rr != 1_000 {
			t.Fatalf("after five days: live %d sth %d rr %d", lv, sth, rr)
		}
		// Thirty more: the debit has settled and the reserve (20 November
		// + 1 + 30 days) is released.
		s.AdvanceClock(ctx, mp.ID, 30*24*time.Hour)
		if n, err := sched.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("due work after thirty-five days: %d, %v", n, err)
		}
		if got, _ := s.Get(ctx, mp.ID, d.ID); got.Status != "succeeded" {
			t.Fatalf("ach debit: %s", got.Status)
		}
		if lv, _, rr := live(); lv != 10_000 || rr != 0 {
			t.Fatalf("after the reserve period: live %d rr %d", lv, rr)
		}
		if now, _ := s.NowFor(ctx, other.ID); !now.Equal(real.Now()) {
			t.Fatalf("another marketplace's clock moved: %s", now)
		}
	})
}

// clockWorld is a service over a real store whose process time stands still,
// so that every time a test marketplace shows comes from its test clock.
type clockWorld struct {
	s     *services
	l     *ledger.Ledger
	sched *scheduler.Scheduler
	real  *clock.Manual
}

func newClockWorld(t *testing.T, kind string, start time.Time) clockWorld {
	t.Helper()
	db := storetest.Open(t, kind)
	real := clock.NewManual(start)
	l := ledger.New(db.Ledger(), real, ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	s := newServices(l, db)
	sched := scheduler.New(db, real)
	sched.Handle(payments.JobSettleACH, s.SettleACH)
	sched.Handle(payments.JobExpireHold, s.ExpireHold)
	sched.Handle(merchants.JobScheduledAdjustment, s.RunScheduledAdjustment)
	return clockWorld{s: s, l: l, sched: sched, real: real}
}

func (c clockWorld) marketplace(t *testing.T) payments.Resource {
	t.Helper()
	ctx := context.Background()
	key, _, err := c.s.CreateAPIKey(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := c.s.CreateMarketplace(ctx, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

func (c clockWorld) advance(t *testing.T, mp string, d time.Duration) {
	t.Helper()
	if _, err := c.s.AdvanceClock(context.Background(), mp, d); err != nil {
		t.Fatal(err)
	}
}

func (c clockWorld) runDue(t *testing.T) int {
	t.Helper()
	n, err := c.sched.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// verifiedBank is a bank account of mp that may be debited.
func (c clockWorld) verifiedBank(t *testing.T, mp string) payments.Resource {
	t.Helper()
	ctx := context.Background()
	bank, err := c.s.CreateBankAccount(ctx, mp, payments.BankAccountInput{Name: "P", AccountNumber: "9900000000", RoutingNumber: "021000021"})
	if err != nil {
		t.Fatal(err)
	}
	bz, err := c.s.CreateVerification(ctx, mp, bank.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.ConfirmVerification(ctx, mp, bz.ID, 1, 1); err != nil {
		t.Fatal(err)
	}
	return bank
}

// After a test marketplace's clock advanced a week, everything it records
// is dated on its clock: a resource's created_at, an event's occurred_at, a
// feed entry, a card hold's expiry (and the hold expires when that clock
// reaches it) and an ACH debit's settlement. Another marketplace, and the
// process, stay at real time, and its hold and ACH debit do not move.
func TestMarketplaceClockDatesEverything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		real := time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC) // Friday 11:30 New York, 08:30 Pacific
		c := newClockWorld(t, kind, real)
		s := c.s
		mp, other := c.marketplace(t), c.marketplace(t)

		// The other marketplace's hold and ACH debit, made at real time.
		otherCard, _ := s.CreateCard(ctx, other.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		otherHold, err := s.CreateHold(ctx, other.ID, payments.TxInput{AmountMinor: 500, HasAmount: true, Instrument: otherCard.ID})
		if err != nil {
			t.Fatal(err)
		}
		otherACH := amount(700)
		otherACH.Instrument = c.verifiedBank(t, other.ID).ID
		otherDebit, err := s.Debit(ctx, other.ID, otherACH)
		if err != nil || otherDebit.Status != "pending" {
			t.Fatalf("other's ach debit: %v %v", otherDebit.Status, err)
		}

		week := 7 * 24 * time.Hour
		c.advance(t, mp.ID, week)
		mpNow := real.Add(week) // Friday 27 November, the day after Thanksgiving
		if now, _ := s.NowFor(ctx, mp.ID); !now.Equal(mpNow) {
			t.Fatalf("marketplace time %s, want %s", now, mpNow)
		}

		// created_at and occurred_at.
		cu, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		if err != nil {
			t.Fatal(err)
		}
		if !cu.CreatedAt.Equal(mpNow) || !cu.UpdatedAt.Equal(mpNow) {
			t.Fatalf("customer created_at %s updated_at %s, want %s", cu.CreatedAt, cu.UpdatedAt, mpNow)
		}
		events, _, err := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "events", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ev := range events {
			if ev.Link("entity") != cu.ID {
				continue
			}
			found = true
			if at := payments.Str(ev.Fields["occurred_at"]); at != mpNow.Format(time.RFC3339Nano) || !ev.CreatedAt.Equal(mpNow) {
				t.Fatalf("event of the new customer occurred_at %s created_at %s, want %s", at, ev.CreatedAt, mpNow)
			}
		}
		if !found {
			t.Fatal("no event for the new customer")
		}
		otherCu, _ := s.CreateCustomer(ctx, other.ID, payments.CustomerInput{})
		if !otherCu.CreatedAt.Equal(real) {
			t.Fatalf("another marketplace's customer created_at %s, want real time %s", otherCu.CreatedAt, real)
		}

		// A feed entry: a card debit into an order of a merchant.
		m, err := s.CreateMerchant(ctx, mp.ID, merchants.PartyInput{Login: "dated-" + kind, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
		sale := amount(1_000)
		sale.Instrument, sale.Order = card.ID, order.ID
		if _, err := s.Debit(ctx, mp.ID, sale); err != nil {
			t.Fatal(err)
		}
		feed, err := s.Feed(ctx, mp.ID, m.Link("customer"))
		if err != nil || len(feed) != 1 {
			t.Fatalf("feed: %v %v", feed, err)
		}
		if !feed[0].OccurredAt.Equal(mpNow) {
			t.Fatalf("feed entry at %s, want %s", feed[0].OccurredAt, mpNow)
		}

		// A hold, and an ACH debit: four business days from the batch of
		// Friday 27 November 15:30 Pacific are Thursday 3 December, 15:30
		// Pacific (23:30 UTC).
		hold, err := s.CreateHold(ctx, mp.ID, payments.TxInput{AmountMinor: 300, HasAmount: true, Instrument: card.ID})
		if err != nil {
			t.Fatal(err)
		}
		holdExpiry := mpNow.Add(payments.HoldLifetime)
		if got := payments.Str(hold.Fields["expires_at"]); got != holdExpiry.Format(time.RFC3339Nano) {
			t.Fatalf("hold expires_at %s, want %s", got, holdExpiry)
		}
		ach := amount(4_000)
		ach.Instrument = c.verifiedBank(t, mp.ID).ID
		d, err := s.Debit(ctx, mp.ID, ach)
		if err != nil || d.Status != "pending" {
			t.Fatalf("ach debit: %v %v", d.Status, err)
		}
		settles := time.Date(2026, 12, 3, 23, 30, 0, 0, time.UTC)
		c.advance(t, mp.ID, settles.Sub(mpNow)-time.Minute)
		if n := c.runDue(t); n != 0 {
			t.Fatalf("%d jobs ran a minute before the settlement", n)
		}
		if got, _ := s.Get(ctx, mp.ID, d.ID); got.Status != "pending" {
			t.Fatalf("ach debit a minute before its settlement: %s", got.Status)
		}
		c.advance(t, mp.ID, time.Minute)
		if n := c.runDue(t); n != 1 {
			t.Fatalf("%d jobs ran at the settlement, want 1", n)
		}
		if got, _ := s.Get(ctx, mp.ID, d.ID); got.Status != "succeeded" || !got.UpdatedAt.Equal(settles) {
			t.Fatalf("ach debit at its settlement: %s, updated at %s, want %s", got.Status, got.UpdatedAt, settles)
		}

		// The hold lives until its expiry on the marketplace's clock, then
		// its pending transfer is released and it cannot be captured.
		c.advance(t, mp.ID, holdExpiry.Sub(settles)-time.Second)
		if n := c.runDue(t); n != 0 {
			t.Fatalf("%d jobs ran a second before the hold's expiry", n)
		}
		c.advance(t, mp.ID, time.Second)
		if n := c.runDue(t); n != 1 {
			t.Fatalf("%d jobs ran at the hold's expiry, want 1", n)
		}
		tr, err := c.l.GetTransfer(ctx, payments.Str(mustGet(t, s, mp.ID, hold.ID).Private["transfer"]))
		if err != nil || tr.Status != ledger.StatusVoided {
			t.Fatalf("the expired hold's transfer: %v %v", tr.Status, err)
		}
		_, err = s.CaptureHold(ctx, mp.ID, hold.ID, payments.TxInput{})
		wantReason(t, err, "authorization-expired")

		// Fourteen days of the marketplace's time later, the other
		// marketplace and the process are still where they were.
		if !c.real.Now().Equal(real) {
			t.Fatalf("the process clock moved: %s", c.real.Now())
		}
		if now, _ := s.NowFor(ctx, other.ID); !now.Equal(real) {
			t.Fatalf("another marketplace's clock moved: %s", now)
		}
		if got, _ := s.Get(ctx, other.ID, otherDebit.ID); got.Status != "pending" {
			t.Fatalf("another marketplace's ach debit: %s", got.Status)
		}
		otherTr, err := c.l.GetTransfer(ctx, payments.Str(mustGet(t, s, other.ID, otherHold.ID).Private["transfer"]))
		if err != nil || otherTr.Status != ledger.StatusPending {
			t.Fatalf("another marketplace's hold: %v %v", otherTr.Status, err)
		}
		if _, err := s.CaptureHold(ctx, other.ID, otherHold.ID, payments.TxInput{}); err != nil {
			t.Fatalf("another marketplace's hold could not be captured: %v", err)
		}
		// A week and a day of real time later the captured hold's expiry
		// job finds nothing to release, and the other marketplace's debit
		// (due Friday 27 November, 15:30 Pacific) has settled.
		c.real.Advance(week + 24*time.Hour)
		if n := c.runDue(t); n != 2 {
			t.Fatalf("%d jobs ran a real week and a day later, want 2 (a hold's expiry and a settlement)", n)
		}
		if otherTr, _ = c.l.GetTransfer(ctx, otherTr.ID); otherTr.Status != ledger.StatusPosted {
			t.Fatalf("the captured hold's transfer after its expiry: %s", otherTr.Status)
		}
		if got, _ := s.Get(ctx, other.ID, otherDebit.ID); got.Status != "succeeded" {
			t.Fatalf("another marketplace's ach debit a real week and a day later: %s", got.Status)
		}
	})
}

// A sale under DAY+1 made after a week's advance is held short-term for a
// day of the marketplace's clock, then live.
func TestSaleAfterAdvanceIsHeldForItsDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		real := time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC) // Friday 11:30 New York
		c := newClockWorld(t, kind, real)
		s := c.s
		mp := c.marketplace(t)
		cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		m, err := s.CreateMerchant(ctx, mp.ID, merchants.PartyInput{Login: "dayplus-" + kind, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", DateBump: "DAY+1"}); err != nil {
			t.Fatal(err)
		}
		c.advance(t, mp.ID, 7*24*time.Hour)
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
		sale := amount(1_000)
		sale.Instrument, sale.Order = card.ID, order.ID
		if _, err := s.Debit(ctx, mp.ID, sale); err != nil {
			t.Fatal(err)
		}
		check := func(when string, wantSTH, wantLive int64) {
			t.Helper()
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if b[0].STHMinor != wantSTH || b[0].LiveMinor != wantLive {
				t.Fatalf("%s: sth %d live %d, want sth %d live %d", when, b[0].STHMinor, b[0].LiveMinor, wantSTH, wantLive)
			}
		}
		check("at the sale", 1_000, 0)
		// Sold at 11:30 New York on the 27th: due at 12:01 on the 28th.
		c.advance(t, mp.ID, 24*time.Hour+30*time.Minute)
		check("a day later, before 12:01", 1_000, 0)
		c.advance(t, mp.ID, time.Minute)
		check("at 12:01 the next day", 0, 1_000)
	})
}

func mustGet(t *testing.T, s *services, mp, id string) payments.Resource {
	t.Helper()
	r, err := s.Get(context.Background(), mp, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
