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
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// achFixture is a marketplace with a pending ACH debit of 7,500 and its
// settlement job, on a manual clock.
type achFixture struct {
	db       *store.DB
	clk      *clock.Manual
	l        *ledger.Ledger
	s        *payments.Service
	sched    *scheduler.Scheduler
	mp       string
	debit    string
	transfer string
	job      string
}

func newACHFixture(t *testing.T, kind string) achFixture {
	t.Helper()
	ctx := context.Background()
	f := achFixture{db: storetest.Open(t, kind), clk: clock.NewManual(time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC))}
	f.l = ledger.New(f.db.Ledger(), f.clk, ledger.CommitterOptions{})
	t.Cleanup(func() { f.l.Close(ctx) })
	v, _ := vault.New(make([]byte, vault.KeyLen))
	f.s = payments.NewService(f.l, f.db, v)
	merchants.New(f.s, f.db, v)
	f.sched = scheduler.New(f.db, f.clk)
	f.sched.Handle(payments.JobSettleACH, f.s.SettleACH)
	key, _, _ := f.s.CreateAPIKey(ctx, nil, nil)
	mp, _ := f.s.CreateMarketplace(ctx, key, nil, nil)
	f.mp = mp.ID
	bank, err := f.s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "P", AccountNumber: "9900000000", RoutingNumber: "021000021"})
	if err != nil {
		t.Fatal(err)
	}
	bz, _ := f.s.CreateVerification(ctx, mp.ID, bank.ID)
	if _, err := f.s.ConfirmVerification(ctx, mp.ID, bz.ID, 1, 1); err != nil {
		t.Fatal(err)
	}
	in := amount(7_500)
	in.Instrument = bank.ID
	d, err := f.s.Debit(ctx, mp.ID, in)
	if err != nil || d.Status != "pending" {
		t.Fatalf("debit = %s, %v", d.Status, err)
	}
	f.debit = d.ID
	stored, err := f.db.GetResource(ctx, mp.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.transfer = payments.Str(stored.Private["transfer"])
	if err := f.db.QueryRow(ctx, "SELECT id FROM jobs WHERE key = ?", d.ID).Scan(&f.job); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f achFixture) runAfterSettlementDay(t *testing.T) int {
	t.Helper()
	f.clk.Set(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	n, err := f.sched.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A settlement whose effect cannot commit is not done: the job stays due
// and is tried again, and the debit stays pending rather than being
// forgotten. (Here the transfer was posted behind the job's back, so the
// post refuses.)
func TestACHSettlementThatCannotCommitIsRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		f := newACHFixture(t, kind)
		if _, err := f.l.Post(ctx, f.transfer, 0); err != nil {
			t.Fatal(err)
		}
		if n := f.runAfterSettlementDay(t); n != 0 {
			t.Fatalf("%d jobs reported done though the settlement did not commit", n)
		}
		status, attempts, err := f.db.JobStatus(ctx, f.job)
		if err != nil || status != "pending" || attempts != 1 {
			t.Fatalf("job = %s after %d attempts, %v; want pending for a retry after 1", status, attempts, err)
		}
		if d, _ := f.s.Get(ctx, f.mp, f.debit); d.Status != "pending" {
			t.Fatalf("debit = %s", d.Status)
		}
	})
}

// A pending transfer that lapsed (expired or voided) will never post: its
// debit fails, with its event, and the job is done. Nothing stays pending.
func TestACHSettlementOfALapsedTransferFailsTheDebit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		f := newACHFixture(t, kind)
		if _, err := f.l.Void(ctx, f.transfer); err != nil {
			t.Fatal(err)
		}
		if n := f.runAfterSettlementDay(t); n != 1 {
			t.Fatalf("jobs done = %d, want 1", n)
		}
		status, _, err := f.db.JobStatus(ctx, f.job)
		if err != nil || status != "done" {
			t.Fatalf("job = %s, %v", status, err)
		}
		d, _ := f.s.Get(ctx, f.mp, f.debit)
		if d.Status != "failed" || d.Fields["failure_reason_code"] != "transfer-lapsed" {
			t.Fatalf("debit = %s %v", d.Status, d.Fields["failure_reason_code"])
		}
		evs, _, err := f.db.ListResources(ctx, payments.ListQuery{Marketplace: f.mp, Type: "events", LinkRel: "entity", LinkTarget: f.debit, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, ev := range evs {
			if ev.Fields["type"] == "debit.failed" {
				failed++
			}
		}
		if failed != 1 {
			t.Fatalf("debit.failed events = %d, want 1", failed)
		}
		if bal, _ := f.s.Balance(ctx, payments.EscrowAccount(f.mp)); bal != 0 {
			t.Fatalf("escrow = %d after a lapsed debit", bal)
		}
		found, err := ledger.Verify(ctx, f.db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
	})
}
