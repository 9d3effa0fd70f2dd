package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// A pending ACH debit funds nothing until it settles: four business days
// after the batch it goes out in, by the Federal Reserve calendar. The
// scheduler settles it once, however late it runs.
func TestPendingACHDebitSettlesOnItsBusinessDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		// Wednesday 25 November 2026, 10:00 Pacific: Thanksgiving (Thursday)
		// and the weekend fall inside the settlement window.
		clk := clock.NewManual(time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC))
		l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
		defer l.Close(ctx)
		v, _ := vault.New(make([]byte, vault.KeyLen))
		s := payments.NewService(l, db, v)
		merchants.New(s, db, v)
		sched := scheduler.New(db, clk)
		sched.Handle(payments.JobSettleACH, s.SettleACH)

		key, _, _ := s.CreateAPIKey(ctx, nil, nil)
		mp, _ := s.CreateMarketplace(ctx, key, nil, nil)
		bank, err := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "P", AccountNumber: "9900000000", RoutingNumber: "021000021"})
		if err != nil {
			t.Fatal(err)
		}
		bz, _ := s.CreateVerification(ctx, mp.ID, bank.ID)
		if _, err := s.ConfirmVerification(ctx, mp.ID, bz.ID, 1, 1); err != nil {
			t.Fatal(err)
		}
		in := amount(7_500)
		in.Instrument = bank.ID
		d, err := s.Debit(ctx, mp.ID, in)
		if err != nil || d.Status != "pending" {
			t.Fatalf("debit = %s, %v", d.Status, err)
		}
		if got, _ := s.Balance(ctx, payments.EscrowAccount(mp.ID)); got != 0 {
			t.Fatalf("a pending ACH debit funded the escrow: %d", got)
		}
		// Batch: Wed 25 Nov 15:30 PT. Business days after it: Fri 27, Mon 30,
		// Tue 1 Dec, Wed 2 Dec → settles Wed 2 Dec 15:30 PT (23:30 UTC).
		settles := time.Date(2026, 12, 2, 23, 30, 0, 0, time.UTC)
		clk.Set(settles.Add(-time.Minute))
		if n, _ := sched.RunDue(ctx); n != 0 {
			t.Fatalf("settled early")
		}
		// The server was down for two days: it settles late, once.
		clk.Set(settles.Add(48 * time.Hour))
		if n, err := sched.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("settlement ran %d, %v", n, err)
		}
		if n, _ := sched.RunDue(ctx); n != 0 {
			t.Fatal("settled twice")
		}
		got, _ := s.Get(ctx, mp.ID, d.ID)
		if got.Status != "succeeded" {
			t.Fatalf("status = %s", got.Status)
		}
		if bal, _ := s.Balance(ctx, payments.EscrowAccount(mp.ID)); bal != 7_500 {
			t.Fatalf("escrow after settlement = %d", bal)
		}
		found, err := ledger.Verify(ctx, db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
	})
}
