package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
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
		v, _ := vault.New(make([]byte, vault.KeyLen))
		s := payments.NewService(l, db, v)
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
		m, _ := s.CreateMerchant(ctx, mp.ID, payments.PartyInput{Login: "clocked-" + kind, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
		reserve, _ := money.ParseRate("10")
		s.SetBalanceRule(ctx, mp.ID, m.ID, payments.BalanceRule{Type: "sale", Action: "add", ReserveRate: reserve, ReservePeriodDays: 30, DateBump: "BDAY+2"})
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
