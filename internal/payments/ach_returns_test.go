package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/achfile/achfiletest"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// snapshot is every balance, event count and feed entry a return may move.
type snapshot struct {
	balances map[string]int64
	events   int
	feed     int
}

func (w liveWorld) snapshot(t *testing.T, accounts []string, merchant string) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{balances: map[string]int64{}}
	for _, a := range accounts {
		b, err := w.s.Balance(ctx, a)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		s.balances[a] = b
	}
	_, s.events, _ = w.s.List(ctx, payments.ListQuery{Marketplace: w.mp, Type: "events", Limit: 1})
	feed, err := w.m.Feed(ctx, w.mp, merchant)
	if err != nil {
		t.Fatal(err)
	}
	s.feed = len(feed)
	return s
}

// A debit that succeeded and was paid out is returned weeks later: the
// debit fails with the bank's code, its money leaves the order as far as
// the order holds it, then the marketplace escrow, and the rest is owed;
// the merchant's feed gets a chargeback. A returned payout comes back to
// its order. The same file uploaded again changes nothing.
func TestACHReturnsFailTransactionsLate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newLiveWorld(t, kind)
		if _, err := w.s.SetACHSettings(ctx, w.mp, liveSettings); err != nil {
			t.Fatal(err)
		}
		alice := w.bank(t, "Alice Buyer", "123456789", "231380104", "checking", false)
		shopBank, shop := w.bankOf(t, "Shop LLC", "5556667", "011000015", "checking", true)
		bz, _ := w.s.CreateVerification(ctx, w.mp, alice.ID)
		w.verify(t, bz.ID)
		order, err := w.s.CreateOrder(ctx, w.mp, shop.ID, payments.OrderInput{Description: "rent"})
		if err != nil {
			t.Fatal(err)
		}
		in := amount(10_000)
		in.Instrument, in.Order = alice.ID, order.ID
		debit, err := w.s.Debit(ctx, w.mp, in)
		if err != nil || debit.Status != "pending" {
			t.Fatalf("debit %s, %v", debit.Status, err)
		}
		// Wednesday's window goes out; Thanksgiving and the weekend pass;
		// the debit succeeds four business days on, Wednesday 2 December.
		w.runAt(t, time.Date(2026, 11, 25, 23, 45, 0, 0, time.UTC))
		w.runAt(t, time.Date(2026, 12, 2, 23, 31, 0, 0, time.UTC))
		if d, _ := w.s.Get(ctx, w.mp, debit.ID); d.Status != "succeeded" {
			t.Fatalf("debit %s on its business day", d.Status)
		}
		out := amount(6_000)
		out.Instrument, out.Order = shopBank.ID, order.ID
		credit, err := w.s.Credit(ctx, w.mp, out)
		if err != nil || credit.Status != "pending" {
			t.Fatalf("credit %s, %v", credit.Status, err)
		}
		card, _ := w.s.CreateCard(ctx, w.mp, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		fund := amount(1_500)
		fund.Instrument = card.ID
		if _, err := w.s.Debit(ctx, w.mp, fund); err != nil {
			t.Fatal(err)
		}
		// Thursday's window carries the payout; it arrives three business
		// days on, Tuesday 8 December.
		w.runAt(t, time.Date(2026, 12, 3, 23, 45, 0, 0, time.UTC))
		w.runAt(t, time.Date(2026, 12, 8, 23, 31, 0, 0, time.UTC))
		d, _ := w.s.Get(ctx, w.mp, debit.ID)
		c, _ := w.s.Get(ctx, w.mp, credit.ID)
		if c.Status != "succeeded" {
			t.Fatalf("credit %s on its business day", c.Status)
		}
		debitTrace, creditTrace := payments.Str(d.Fields["trace_number"]), payments.Str(c.Fields["trace_number"])
		if debitTrace == "" || creditTrace == "" {
			t.Fatal("no trace numbers recorded")
		}

		accounts := []string{order.ID, payments.EscrowAccount(w.mp), payments.ACHShortfallAccount(w.mp), payments.BankNetworkAccount(w.mp)}
		before := w.snapshot(t, accounts, shop.ID)
		if before.balances[order.ID] != 4_000 || before.balances[payments.EscrowAccount(w.mp)] != 1_500 {
			t.Fatalf("before the return: %v", before.balances)
		}

		// Weeks later, the debit comes back: R01, and a notification of
		// change on the payout's account; one trace is nobody's.
		w.clk.Set(time.Date(2026, 12, 21, 17, 0, 0, 0, time.UTC))
		file1 := achfiletest.ReturnsFile(t,
			achfiletest.Entry{Trace: debitTrace, Code: "R01", AmountMinor: 10_000, Debit: true},
			achfiletest.Entry{Trace: "121042889999999", Code: "R03", AmountMinor: 5},
			achfiletest.Entry{Trace: creditTrace, Code: "C01", CorrectedData: "1918171614"})
		res, err := w.s.ApplyACHReturns(ctx, w.mp, file1)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Returns) != 2 || res.Returns[0].Outcome != payments.ReturnApplied || res.Returns[0].Transaction != debit.ID ||
			res.Returns[1].Outcome != payments.ReturnUnmatched || len(res.Changes) != 1 || res.Changes[0].BankAccount != shopBank.ID {
			t.Fatalf("result %+v", res)
		}
		d, _ = w.s.Get(ctx, w.mp, debit.ID)
		if d.Status != "failed" || d.Fields["failure_reason_code"] != "R01" {
			t.Fatalf("returned debit: %s %v", d.Status, d.Fields["failure_reason_code"])
		}
		after := w.snapshot(t, accounts, shop.ID)
		// The model: 10,000 comes back out, 4,000 from the order, 1,500
		// from the marketplace escrow, 4,500 owed.
		want := map[string]int64{
			order.ID:                           0,
			payments.EscrowAccount(w.mp):       0,
			payments.ACHShortfallAccount(w.mp): -4_500,
			payments.BankNetworkAccount(w.mp):  before.balances[payments.BankNetworkAccount(w.mp)] + 10_000,
		}
		for a, v := range want {
			if after.balances[a] != v {
				t.Errorf("%s = %d, want %d", a, after.balances[a], v)
			}
		}
		if after.feed != before.feed+1 {
			t.Errorf("feed grew by %d, want the chargeback", after.feed-before.feed)
		}
		feed, _ := w.m.Feed(ctx, w.mp, shop.ID)
		if last := feed[len(feed)-1]; last.Type != payments.FeedChargeback || last.AmountMinor != 10_000 || last.Gate != "ach" || last.SourceID != debit.ID {
			t.Errorf("last feed entry %+v", last)
		}
		evs, _, _ := w.s.List(ctx, payments.ListQuery{Marketplace: w.mp, Type: "events", LinkRel: "entity", LinkTarget: debit.ID, Limit: 20})
		failedEvents := 0
		for _, e := range evs {
			if e.Fields["type"] == "debit.failed" {
				failedEvents++
			}
		}
		if failedEvents != 1 {
			t.Errorf("%d debit.failed events", failedEvents)
		}
		if b, _ := w.s.Get(ctx, w.mp, shopBank.ID); b.Fields["notification_of_change"] == nil {
			t.Error("the notification of change is not on the bank account")
		}

		// The same file again: nothing moves, no event, no feed entry.
		res, err = w.s.ApplyACHReturns(ctx, w.mp, file1)
		if err != nil || res.Returns[0].Outcome != payments.ReturnAlreadyApplied || res.Changes[0].Outcome != payments.ReturnAlreadyApplied {
			t.Fatalf("replay: %+v, %v", res, err)
		}
		again := w.snapshot(t, accounts, shop.ID)
		if again.events != after.events || again.feed != after.feed {
			t.Errorf("replay wrote %d events, %d feed entries", again.events-after.events, again.feed-after.feed)
		}
		for a, v := range after.balances {
			if again.balances[a] != v {
				t.Errorf("replay moved %s: %d, was %d", a, again.balances[a], v)
			}
		}

		// The payout comes back too: into the order it left.
		if _, err := w.s.ApplyACHReturns(ctx, w.mp, achfiletest.ReturnsFile(t, achfiletest.Entry{Trace: creditTrace, Code: "R03", AmountMinor: 6_000})); err != nil {
			t.Fatal(err)
		}
		c, _ = w.s.Get(ctx, w.mp, credit.ID)
		if c.Status != "failed" || c.Fields["failure_reason_code"] != "R03" {
			t.Fatalf("returned credit: %s", c.Status)
		}
		if b, _ := w.s.Balance(ctx, order.ID); b != 6_000 {
			t.Errorf("order after the payout's return = %d, want 6000", b)
		}

		found, err := ledger.Verify(ctx, w.db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
	})
}

func TestACHReturnsRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newLiveWorld(t, kind)
		if _, err := w.s.ApplyACHReturns(ctx, w.mp, []byte("not a nacha file\n")); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("garbage: %v", err)
		}
		s, _ := newService(t, kind)
		_, mp := newMarketplace(t, s)
		if _, err := s.ApplyACHReturns(ctx, mp.ID, achfiletest.ReturnsFile(t, achfiletest.Entry{Trace: "121042880000001", Code: "R01", AmountMinor: 1})); apperr.ReasonOf(err) != "marketplace-not-live" {
			t.Fatalf("returns to a test marketplace: %v", err)
		}
	})
}

// Refunds of bank debits, reversals of bank credits and settlements to a
// bank account go out in the window's file too, and their returns undo
// them: a refund's money comes back into the order, a reversal's leaves
// it, a settlement's comes back into the payable account.
func TestACHRefundsReversalsAndSettlementsGoOutAndComeBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newLiveWorld(t, kind)
		if _, err := w.s.SetACHSettings(ctx, w.mp, liveSettings); err != nil {
			t.Fatal(err)
		}
		alice := w.bank(t, "Alice Buyer", "123456789", "231380104", "checking", false)
		shopBank, shop := w.bankOf(t, "Shop LLC", "5556667", "011000015", "checking", true)
		bz, _ := w.s.CreateVerification(ctx, w.mp, alice.ID)
		w.verify(t, bz.ID)
		order, _ := w.s.CreateOrder(ctx, w.mp, shop.ID, payments.OrderInput{Description: "rent"})
		acct, err := w.s.PayableAccount(ctx, w.mp, shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		must := func(r payments.Resource, err error) payments.Resource {
			t.Helper()
			if err != nil || r.Status == "failed" {
				t.Fatalf("%s %s: %v", r.Type, r.Status, err)
			}
			return r
		}
		in := amount(10_000)
		in.Instrument, in.Order = alice.ID, order.ID
		debit := must(w.s.Debit(ctx, w.mp, in))
		// The debit goes out on Wednesday 25 November and succeeds on
		// Wednesday 2 December; only then can it be refunded or paid out.
		w.runAt(t, time.Date(2026, 11, 25, 23, 45, 0, 0, time.UTC))
		w.runAt(t, time.Date(2026, 12, 2, 23, 31, 0, 0, time.UTC))
		refund := must(w.s.Refund(ctx, w.mp, debit.ID, amount(2_000)))
		out := amount(5_000)
		out.Instrument, out.Order = shopBank.ID, order.ID
		credit := must(w.s.Credit(ctx, w.mp, out))
		toAcct := amount(1_500)
		toAcct.Instrument, toAcct.Order = acct.ID, order.ID
		must(w.s.Credit(ctx, w.mp, toAcct))
		// Thursday's window carries them; the credit arrives on Tuesday
		// 8 December and can be reversed from then on.
		w.runAt(t, time.Date(2026, 12, 3, 23, 45, 0, 0, time.UTC))
		w.runAt(t, time.Date(2026, 12, 8, 23, 31, 0, 0, time.UTC))
		reversal := must(w.s.Reverse(ctx, w.mp, credit.ID, amount(1_000)))
		settlement := must(w.s.Settle(ctx, w.mp, acct.ID, shopBank.ID, payments.TxInput{}))
		w.runAt(t, time.Date(2026, 12, 9, 23, 45, 0, 0, time.UTC))
		// The reversal pulls from the recipient's bank: its money is the
		// order's once it settles, four business days after Wednesday's
		// batch (Tuesday 15 December); the settlement's bank entry lands a
		// day before.
		if r, _ := w.s.Get(ctx, w.mp, reversal.ID); r.Status != "pending" {
			t.Fatalf("reversal %s before its business day", r.Status)
		}
		w.runAt(t, time.Date(2026, 12, 15, 23, 31, 0, 0, time.UTC))
		for _, id := range []string{reversal.ID, settlement.ID} {
			if r, _ := w.s.Get(ctx, w.mp, id); r.Status != "succeeded" {
				t.Fatalf("%s %s after its business day", id, r.Status)
			}
		}

		fs := w.files(t)
		a1, a2 := w.deposits(t, bz.ID)
		var entries int
		var debits, credits int64
		for _, f := range fs {
			readBack(t, w.s, w.mp, f.ID)
			entries += f.EntryCount
			debits += f.DebitCents
			credits += f.CreditCents
		}
		if len(fs) != 3 || entries != 7 || debits != 10_000+1_000 || credits != 2_000+5_000+1_500+a1+a2 {
			t.Fatalf("files %+v", fs)
		}
		trace := func(id string) string {
			r, _ := w.s.Get(ctx, w.mp, id)
			tn := payments.Str(r.Fields["trace_number"])
			if tn == "" {
				t.Fatalf("%s has no trace number", id)
			}
			return tn
		}
		// The model of the order: 10,000 in, 2,000 refunded, 5,000 paid
		// out, 1,000 reversed back, 1,500 to the payable account.
		if b, _ := w.s.Balance(ctx, order.ID); b != 2_500 {
			t.Fatalf("order before the returns = %d", b)
		}
		res, err := w.s.ApplyACHReturns(ctx, w.mp, achfiletest.ReturnsFile(t,
			achfiletest.Entry{Trace: trace(refund.ID), Code: "R03", AmountMinor: 2_000},
			achfiletest.Entry{Trace: trace(reversal.ID), Code: "R01", AmountMinor: 1_000, Debit: true},
			achfiletest.Entry{Trace: trace(settlement.ID), Code: "R02", AmountMinor: 1_500}))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Returns {
			if r.Outcome != payments.ReturnApplied {
				t.Errorf("return %+v", r)
			}
		}
		if b, _ := w.s.Balance(ctx, order.ID); b != 2_500+2_000-1_000 {
			t.Errorf("order after the returns = %d, want %d", b, 2_500+2_000-1_000)
		}
		if b, _ := w.s.Balance(ctx, acct.ID); b != 1_500 {
			t.Errorf("payable account after its settlement's return = %d, want 1500", b)
		}
		// The shop's feed: the returned refund gives its money back, the
		// returned reversal takes the payout_cancel back.
		feed, _ := w.m.Feed(ctx, w.mp, shop.ID)
		bySource := map[string][]string{}
		for _, e := range feed {
			bySource[e.SourceID] = append(bySource[e.SourceID], e.Type)
		}
		if got := bySource[refund.ID]; len(got) != 2 || got[1] != payments.FeedChargebackReversal {
			t.Errorf("refund's feed entries %v", got)
		}
		if got := bySource[reversal.ID]; len(got) != 2 || got[0] != payments.FeedPayoutCancel || got[1] != payments.FeedPayout {
			t.Errorf("reversal's feed entries %v", got)
		}
		for _, id := range []string{refund.ID, reversal.ID, settlement.ID} {
			if r, _ := w.s.Get(ctx, w.mp, id); r.Status != "failed" {
				t.Errorf("%s is %s after its return", id, r.Status)
			}
		}
		// The returned refund no longer counts against the debit: it may be
		// refunded again, as far as the order holds the money.
		if _, err := w.s.Refund(ctx, w.mp, debit.ID, amount(10_000)); err == nil {
			t.Error("refunded more than the order holds")
		}
		if _, err := w.s.Refund(ctx, w.mp, debit.ID, amount(3_500)); err != nil {
			t.Errorf("refund after the returned refund: %v", err)
		}
		found, err := ledger.Verify(ctx, w.db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
	})
}

// A debit partly refunded and then returned takes back only what the
// refund left: the refund's money already went back to the buyer's bank.
func TestReturnedDebitTakesBackWhatItsRefundsLeft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newLiveWorld(t, kind)
		if _, err := w.s.SetACHSettings(ctx, w.mp, liveSettings); err != nil {
			t.Fatal(err)
		}
		alice := w.bank(t, "Alice Buyer", "123456789", "231380104", "checking", false)
		_, shop := w.bankOf(t, "Shop LLC", "5556667", "011000015", "checking", true)
		bz, _ := w.s.CreateVerification(ctx, w.mp, alice.ID)
		w.verify(t, bz.ID)
		order, _ := w.s.CreateOrder(ctx, w.mp, shop.ID, payments.OrderInput{Description: "rent"})
		in := amount(10_000)
		in.Instrument, in.Order = alice.ID, order.ID
		debit, err := w.s.Debit(ctx, w.mp, in)
		if err != nil {
			t.Fatal(err)
		}
		w.runAt(t, time.Date(2026, 11, 25, 23, 45, 0, 0, time.UTC))
		w.runAt(t, time.Date(2026, 12, 2, 23, 31, 0, 0, time.UTC))
		refund, err := w.s.Refund(ctx, w.mp, debit.ID, amount(2_500))
		if err != nil || refund.Status != "pending" {
			t.Fatalf("refund %s, %v", refund.Status, err)
		}
		// Thursday's batch; succeeded Friday 4 December.
		w.runAt(t, time.Date(2026, 12, 3, 23, 45, 0, 0, time.UTC))
		w.runAt(t, time.Date(2026, 12, 4, 23, 31, 0, 0, time.UTC))
		if r, _ := w.s.Get(ctx, w.mp, refund.ID); r.Status != "succeeded" {
			t.Fatalf("refund %s on Friday", r.Status)
		}
		d, _ := w.s.Get(ctx, w.mp, debit.ID)
		if _, err := w.s.ApplyACHReturns(ctx, w.mp, achfiletest.ReturnsFile(t,
			achfiletest.Entry{Trace: payments.Str(d.Fields["trace_number"]), Code: "R10", AmountMinor: 10_000, Debit: true})); err != nil {
			t.Fatal(err)
		}
		d, _ = w.s.Get(ctx, w.mp, debit.ID)
		if d.Status != "failed" || payments.Int(d.Fields["returned_amount"]) != 7_500 {
			t.Fatalf("returned debit %s, returned_amount %v", d.Status, d.Fields["returned_amount"])
		}
		if b, _ := w.s.Balance(ctx, order.ID); b != 0 {
			t.Errorf("order after the return = %d, want 0", b)
		}
		if _, err := w.s.Balance(ctx, payments.ACHShortfallAccount(w.mp)); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a shortfall was recorded: %v", err)
		}
		if got := orderAmount(t, w.s, w.mp, order.ID); got != 0 {
			t.Errorf("order amount %d, want 0", got)
		}
		feed, _ := w.m.Feed(ctx, w.mp, shop.ID)
		if last := feed[len(feed)-1]; last.Type != payments.FeedChargeback || last.AmountMinor != 7_500 {
			t.Errorf("last feed entry %+v", last)
		}
		found, err := ledger.Verify(ctx, w.db.Ledger())
		if err != nil || len(found) != 0 {
			t.Fatalf("verify: %v %v", found, err)
		}
	})
}
