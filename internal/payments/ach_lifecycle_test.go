package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

var pacificTZ = func() *time.Location {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic(err)
	}
	return loc
}()

// pt is an instant of late 2026 on the Pacific wall clock.
func pt(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, pacificTZ)
}

// sandboxWorld is a test marketplace whose test clock the test advances;
// the process clock stands still, so everything happens at the
// marketplace's time and its due work moves with its clock.
type sandboxWorld struct {
	db    *store.DB
	s     *payments.Service
	m     *merchants.Service
	sched *scheduler.Scheduler
	mp    string
	owner string
}

func newSandboxWorld(t *testing.T, kind string, start time.Time) *sandboxWorld {
	t.Helper()
	ctx := context.Background()
	w := &sandboxWorld{db: storetest.Open(t, kind)}
	clk := clock.NewManual(time.Date(2026, 11, 2, 18, 0, 0, 0, time.UTC))
	l := ledger.New(w.db.Ledger(), clk, ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(ctx) })
	v, _ := vault.New(make([]byte, vault.KeyLen))
	w.s = payments.NewService(l, w.db, v)
	w.m = merchants.New(w.s, w.db, v)
	w.sched = scheduler.New(w.db, clk)
	w.sched.Handle(payments.JobSettleACH, w.s.SettleACH)
	w.sched.Handle(payments.JobSandboxReturn, w.s.SandboxReturn)
	w.sched.Handle(payments.JobFundsAging, w.s.FundsAging)
	w.sched.Handle(payments.JobEndDispute, w.s.EndDispute)
	key, _, _ := w.s.CreateAPIKey(ctx, nil, nil)
	mp, err := w.s.CreateMarketplace(ctx, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.mp, w.owner = mp.ID, mp.Link("owner_customer")
	w.at(t, start)
	return w
}

// at advances the marketplace's test clock to when and runs what fell due.
func (w *sandboxWorld) at(t *testing.T, when time.Time) {
	t.Helper()
	ctx := context.Background()
	now, err := w.s.NowFor(ctx, w.mp)
	if err != nil {
		t.Fatal(err)
	}
	if d := when.Sub(now); d > 0 {
		if _, err := w.s.AdvanceClock(ctx, w.mp, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.sched.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *sandboxWorld) status(t *testing.T, id string) string {
	t.Helper()
	r, err := w.s.Get(context.Background(), w.mp, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

// sums is what an escrow holds, without its split by age.
func sums(e payments.EscrowReport) [4]int64 {
	return [4]int64{e.PostedMinor, e.PendingInMinor, e.PendingOutMinor, e.AvailableMinor}
}

func (w *sandboxWorld) escrow(t *testing.T, id string) payments.EscrowReport {
	t.Helper()
	e, err := w.s.EscrowOf(context.Background(), w.mp, id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// orderAmount is the amount the API shows for an order of marketplace mp.
func orderAmount(t *testing.T, s *payments.Service, mp, id string) int64 {
	t.Helper()
	ctx := context.Background()
	o, err := s.GetTyped(ctx, mp, "orders", id)
	if err != nil {
		t.Fatal(err)
	}
	amount, _, err := s.OrderTotals(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return amount
}

// verifiedBank is a verified bank account of a new customer.
func (w *sandboxWorld) verifiedBank(t *testing.T, number string) (payments.Resource, payments.Resource) {
	t.Helper()
	ctx := context.Background()
	cu, err := w.s.CreateCustomer(ctx, w.mp, payments.CustomerInput{Fields: map[string]any{"name": "Holder " + number}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.s.CreateBankAccount(ctx, w.mp, payments.BankAccountInput{Name: "Holder", AccountNumber: number, RoutingNumber: "021000021", AccountType: "checking"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.UpdateInstrument(ctx, w.mp, b.ID, payments.InstrumentUpdate{Customer: cu.ID}); err != nil {
		t.Fatal(err)
	}
	bz, err := w.s.CreateVerification(ctx, w.mp, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.ConfirmVerification(ctx, w.mp, bz.ID, 1, 1); err != nil {
		t.Fatal(err)
	}
	return b, cu
}

func (w *sandboxWorld) eventTypes(t *testing.T, entity string) []string {
	t.Helper()
	evs, _, err := w.s.List(context.Background(), payments.ListQuery{Marketplace: w.mp, Type: "events", LinkRel: "entity", LinkTarget: entity, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, payments.Str(e.Fields["type"]))
	}
	return out
}

func (w *sandboxWorld) feedTypes(t *testing.T, merchant string) []string {
	t.Helper()
	feed, err := w.m.Feed(context.Background(), w.mp, merchant)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range feed {
		out = append(out, e.Type)
	}
	return out
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// An ordinary bank account's debits in a test marketplace, one before and
// one after the cut-off of the Wednesday before Thanksgiving 2026, settle
// on their own business days; the money reaches the escrow only then. A
// refund created after Thursday's cut-off goes out on Friday and succeeds
// on Monday, across the weekend. The business days below are counted by
// hand from the Fed calendar: Thursday 26 November is Thanksgiving.
func TestACHLifeCycleAcrossAWeekendAndAFedHoliday(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newSandboxWorld(t, kind, pt(time.November, 25, 10, 0))
		buyer, buyerCu := w.verifiedBank(t, "123456789")
		_, shop := w.verifiedBank(t, "9900000002")
		order, err := w.s.CreateOrder(ctx, w.mp, shop.ID, payments.OrderInput{Description: "rent"})
		if err != nil {
			t.Fatal(err)
		}

		// 10:00 Pacific, before the 15:30 cut-off: Wednesday's batch, then
		// Fri 27, Mon 30, Tue 1, Wed 2 December.
		in := amount(10_000)
		in.Instrument, in.Order, in.Customer = buyer.ID, order.ID, buyerCu.ID
		early, err := w.s.Debit(ctx, w.mp, in)
		if err != nil || early.Status != "pending" {
			t.Fatalf("early debit %s, %v", early.Status, err)
		}
		// 16:00 Pacific, after the cut-off: Thursday is Thanksgiving, so
		// Friday's batch, then Mon 30, Tue 1, Wed 2, Thu 3 December.
		w.at(t, pt(time.November, 25, 16, 0))
		late := amount(4_000)
		late.Instrument = buyer.ID
		lateDebit, err := w.s.Debit(ctx, w.mp, late)
		if err != nil || lateDebit.Status != "pending" {
			t.Fatalf("late debit %s, %v", lateDebit.Status, err)
		}
		if e := w.escrow(t, order.ID); sums(e) != sums(payments.EscrowReport{PendingInMinor: 10_000}) {
			t.Fatalf("order escrow while pending: %+v", e)
		}
		if e := w.escrow(t, w.mp); sums(e) != sums(payments.EscrowReport{PendingInMinor: 4_000}) {
			t.Fatalf("marketplace escrow while pending: %+v", e)
		}
		// Pending money pays nothing out and cannot be refunded.
		if _, err := w.s.Refund(ctx, w.mp, early.ID, amount(1)); err == nil {
			t.Fatal("refunded a pending debit")
		}

		// Across the holiday and the weekend, a minute before the early
		// debit's settlement, nothing has moved.
		w.at(t, pt(time.December, 2, 15, 29))
		if w.status(t, early.ID) != "pending" || w.status(t, lateDebit.ID) != "pending" {
			t.Fatalf("settled early: %s, %s", w.status(t, early.ID), w.status(t, lateDebit.ID))
		}
		if got := count(w.feedTypes(t, shop.ID), payments.FeedSale); got != 0 {
			t.Fatalf("%d sales fed before the debit settled", got)
		}
		w.at(t, pt(time.December, 2, 15, 31))
		if w.status(t, early.ID) != "succeeded" || w.status(t, lateDebit.ID) != "pending" {
			t.Fatalf("Wednesday 2 December: %s, %s", w.status(t, early.ID), w.status(t, lateDebit.ID))
		}
		if e := w.escrow(t, order.ID); sums(e) != sums(payments.EscrowReport{PostedMinor: 10_000, AvailableMinor: 10_000}) {
			t.Fatalf("order escrow after settlement: %+v", e)
		}
		if got := orderAmount(t, w.s, w.mp, order.ID); got != 10_000 {
			t.Fatalf("order amount %d", got)
		}
		if got := count(w.feedTypes(t, shop.ID), payments.FeedSale); got != 1 {
			t.Fatalf("%d sales fed at settlement, want 1", got)
		}
		w.at(t, pt(time.December, 3, 15, 29))
		if w.status(t, lateDebit.ID) != "pending" {
			t.Fatal("the late debit settled before Thursday 3 December")
		}
		w.at(t, pt(time.December, 3, 15, 31))
		if w.status(t, lateDebit.ID) != "succeeded" {
			t.Fatal("the late debit did not settle on Thursday 3 December")
		}
		if e := w.escrow(t, w.mp); sums(e) != sums(payments.EscrowReport{PostedMinor: 4_000, AvailableMinor: 4_000}) {
			t.Fatalf("marketplace escrow: %+v", e)
		}

		// 16:00 Thursday, after the cut-off: Friday's batch; succeeded one
		// business day on, Monday 7 December.
		w.at(t, pt(time.December, 3, 16, 0))
		rf, err := w.s.Refund(ctx, w.mp, early.ID, amount(2_500))
		if err != nil || rf.Status != "pending" {
			t.Fatalf("refund %s, %v", rf.Status, err)
		}
		// Promised to the buyer's bank: no longer available, still posted.
		if e := w.escrow(t, order.ID); sums(e) != sums(payments.EscrowReport{PostedMinor: 10_000, PendingOutMinor: 2_500, AvailableMinor: 7_500}) {
			t.Fatalf("order escrow with the refund pending: %+v", e)
		}
		w.at(t, pt(time.December, 5, 12, 0))
		if w.status(t, rf.ID) != "pending" {
			t.Fatal("the refund succeeded over the weekend")
		}
		w.at(t, pt(time.December, 7, 15, 29))
		if w.status(t, rf.ID) != "pending" {
			t.Fatal("the refund succeeded before Monday's cut-off")
		}
		w.at(t, pt(time.December, 7, 15, 31))
		if w.status(t, rf.ID) != "succeeded" {
			t.Fatal("the refund did not succeed on Monday 7 December")
		}
		if e := w.escrow(t, order.ID); sums(e) != sums(payments.EscrowReport{PostedMinor: 7_500, AvailableMinor: 7_500}) {
			t.Fatalf("order escrow after the refund: %+v", e)
		}
		for id, want := range map[string][]string{
			early.ID: {"debit.created", "debit.succeeded"},
			rf.ID:    {"refund.created", "refund.succeeded"},
		} {
			got := w.eventTypes(t, id)
			for _, typ := range want {
				if count(got, typ) != 1 {
					t.Errorf("%s: events %v, want one %s", id, got, typ)
				}
			}
		}
		if got := w.feedTypes(t, shop.ID); count(got, payments.FeedSale) != 1 || count(got, payments.FeedReversal) != 1 {
			t.Errorf("shop's feed %v", got)
		}
		found, err := ledger.Verify(ctx, w.db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
	})
}

// A payout to an ordinary bank account arrives three business days after
// its batch, and a reversal of it, an ACH debit of the recipient's bank,
// brings the money back into the escrow only four business days after its
// own batch: Friday 27 November's payout (Thanksgiving is Thursday)
// arrives Wednesday 2 December; its reversal that evening goes out on
// Thursday 3 and settles on Wednesday 9.
func TestACHPayoutAndItsReversalSettleOnTheirBusinessDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newSandboxWorld(t, kind, pt(time.November, 25, 16, 0))
		card, _ := w.s.CreateCard(ctx, w.mp, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		fund := amount(8_000)
		fund.Instrument = card.ID
		if _, err := w.s.Debit(ctx, w.mp, fund); err != nil {
			t.Fatal(err)
		}
		bank, payee := w.verifiedBank(t, "123456789")
		out := amount(5_000)
		out.Instrument = bank.ID
		c, err := w.s.Credit(ctx, w.mp, out)
		if err != nil || c.Status != "pending" {
			t.Fatalf("payout %s, %v", c.Status, err)
		}
		if _, err := w.s.Reverse(ctx, w.mp, c.ID, amount(1)); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("reversed a payout in flight: %v", err)
		}
		if e := w.escrow(t, w.mp); sums(e) != sums(payments.EscrowReport{PostedMinor: 8_000, PendingOutMinor: 5_000, AvailableMinor: 3_000}) {
			t.Fatalf("escrow with the payout in flight: %+v", e)
		}
		w.at(t, pt(time.December, 2, 15, 29))
		if w.status(t, c.ID) != "pending" {
			t.Fatal("the payout arrived early")
		}
		w.at(t, pt(time.December, 2, 16, 0))
		if w.status(t, c.ID) != "succeeded" {
			t.Fatal("the payout did not arrive on Wednesday 2 December")
		}
		feedBefore := count(w.feedTypes(t, payee.ID), payments.FeedPayoutCancel)
		rv, err := w.s.Reverse(ctx, w.mp, c.ID, amount(2_000))
		if err != nil || rv.Status != "pending" {
			t.Fatalf("reversal %s, %v", rv.Status, err)
		}
		if e := w.escrow(t, w.mp); sums(e) != sums(payments.EscrowReport{PostedMinor: 3_000, PendingInMinor: 2_000, AvailableMinor: 3_000}) {
			t.Fatalf("escrow with the reversal pending: %+v", e)
		}
		w.at(t, pt(time.December, 9, 15, 29))
		if w.status(t, rv.ID) != "pending" || count(w.feedTypes(t, payee.ID), payments.FeedPayoutCancel) != feedBefore {
			t.Fatal("the reversal settled early")
		}
		w.at(t, pt(time.December, 9, 15, 31))
		if w.status(t, rv.ID) != "succeeded" {
			t.Fatal("the reversal did not settle on Wednesday 9 December")
		}
		if e := w.escrow(t, w.mp); sums(e) != sums(payments.EscrowReport{PostedMinor: 5_000, AvailableMinor: 5_000}) {
			t.Fatalf("escrow after the reversal: %+v", e)
		}
		if got := count(w.feedTypes(t, payee.ID), payments.FeedPayoutCancel); got != feedBefore+1 {
			t.Fatalf("%d payout_cancel entries, want one more at settlement", got-feedBefore)
		}
		if ev := w.eventTypes(t, rv.ID); count(ev, "reversal.succeeded") != 1 {
			t.Fatalf("reversal's events %v", ev)
		}
	})
}
