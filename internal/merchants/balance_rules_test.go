package merchants_test

import (
	"context"
	"fmt"
	"github.com/poise-payments/poise/internal/merchants"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// The worked example of docs/balances.md, to the cent and the minute.
func TestBalanceWorkedExample(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		ny, _ := time.LoadLocation("America/New_York")
		at := func(month time.Month, day, hour, min int) time.Time {
			year := 2026
			if month < time.November {
				year = 2027
			}
			return time.Date(year, month, day, hour, min, 0, 0, ny)
		}
		w := newWorld(t, kind, at(time.November, 20, 11, 30)) // a Friday
		s, clk, mp := w.s, w.clk, w.mp
		m, cu := w.merchant(t, "shop-"+kind)
		fee, _ := money.ParseRate("2.9")
		reserve, _ := money.ParseRate("10")
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", FeeRate: fee, FeeFixedMinor: 30,
			ReserveRate: reserve, ReservePeriodDays: 90, DateBump: "BDAY+2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", DateBump: "WEEK+1"}); err == nil {
			t.Fatal("a bad date bumping function was accepted")
		}
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		bank, _ := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "Shop", AccountNumber: "9900000000", RoutingNumber: "021000021", Customer: cu.ID})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})

		want := func(when string, current, sth, rr, live, buffer int64) {
			t.Helper()
			b, err := s.MerchantBalances(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			got := b[0]
			if got.CurrentMinor != current || got.STHMinor != sth || got.RRMinor != rr || got.LiveMinor != live || got.BufferMinor != buffer {
				t.Fatalf("%s: current %d sth %d rr %d live %d buffer %d; want %d %d %d %d %d", when,
					got.CurrentMinor, got.STHMinor, got.RRMinor, got.LiveMinor, got.BufferMinor, current, sth, rr, live, buffer)
			}
		}
		in := amount(10_000)
		in.Instrument, in.Order = card.ID, order.ID
		d, err := s.Debit(ctx, mp.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		want("Friday 11:30", 9_680, 8_680, 1_000, 0, 0)
		clk.Set(at(time.November, 24, 12, 0))
		want("Tuesday 12:00", 9_680, 8_680, 1_000, 0, 0)
		clk.Set(at(time.November, 24, 12, 1))
		want("Tuesday 12:01", 9_680, 0, 1_000, 8_680, 0)

		clk.Set(at(time.November, 25, 10, 0))
		if _, err := s.Refund(ctx, mp.ID, d.ID, amount(3_000)); err != nil {
			t.Fatal(err)
		}
		want("after the refund", 6_680, 0, 1_000, 5_680, 0)
		out := amount(5_000)
		out.Instrument, out.Order = bank.ID, order.ID
		c, err := s.Credit(ctx, mp.ID, out)
		if err != nil || c.Status != "pending" {
			t.Fatalf("payout: %v %v", c.Status, err)
		}
		want("payout in flight", 1_680, 0, 1_000, 680, 5_000)

		clk.Set(at(time.February, 19, 0, 0).Add(-time.Minute))
		want("Feb 18 23:59", 1_680, 0, 1_000, 680, 5_000)
		clk.Set(at(time.February, 19, 0, 0))
		want("reserve released", 1_680, 0, 0, 1_680, 5_000)
	})
}

// Moving the rolling reserve by hand releases it before its date.
func TestMoveRollingReserve(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "sqlite", time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC))
	s, clk, mp := w.s, w.clk, w.mp
	m, cu := w.merchant(t, "mover")
	reserve, _ := money.ParseRate("10")
	s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", ReserveRate: reserve, ReservePeriodDays: 90, DateBump: "ASAP_plus_RR"})
	card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
	order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
	in := amount(20_000)
	in.Instrument, in.Order = card.ID, order.ID
	s.Debit(ctx, mp.ID, in)
	if b, _ := s.MerchantBalances(ctx, m); b[0].RRMinor != 2_000 || b[0].LiveMinor != 18_000 {
		t.Fatalf("before the move: %+v", b[0])
	}
	clk.Advance(time.Hour)
	if _, err := s.MoveReserve(ctx, mp.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	s.Debit(ctx, mp.ID, in) // a later sale keeps its own reserve
	if b, _ := s.MerchantBalances(ctx, m); b[0].RRMinor != 2_000 || b[0].LiveMinor != 38_000 {
		t.Fatalf("after the move: %+v", b[0])
	}
}

// The export's dates follow the rules: the worked example's sale releases
// its reserve on 19 February and clears its hold at 12:01 on Tuesday.
func TestEntryDates(t *testing.T) {
	ctx := context.Background()
	ny, _ := time.LoadLocation("America/New_York")
	w := newWorld(t, "sqlite", time.Date(2026, 11, 20, 11, 30, 0, 0, ny))
	s, mp := w.s, w.mp
	m, cu := w.merchant(t, "dates")
	reserve, _ := money.ParseRate("10")
	s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", ReserveRate: reserve, ReservePeriodDays: 90, DateBump: "BDAY+2"})
	card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
	order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
	in := amount(10_000)
	in.Instrument, in.Order = card.ID, order.ID
	s.Debit(ctx, mp.ID, in)
	feed, _ := s.Feed(ctx, mp.ID, cu.ID)
	dated, err := s.DatesOf(ctx, m, feed)
	if err != nil || len(dated) != 1 {
		t.Fatalf("%v %v", dated, err)
	}
	if !dated[0].ReserveDate.Equal(time.Date(2027, 2, 19, 0, 0, 0, 0, ny)) || !dated[0].ShortTermHoldEnd.Equal(time.Date(2026, 11, 24, 12, 1, 0, 0, ny)) {
		t.Fatalf("dates %s %s", dated[0].ReserveDate.In(ny), dated[0].ShortTermHoldEnd.In(ny))
	}
}

// A balance's override replaces the merchant's main rule for its type on
// that balance only; other types keep the main rule.
func TestBalanceOverrides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newWorld(t, kind, time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC))
		s, mp := w.s, w.mp
		m, cu := w.merchant(t, "over-"+kind)
		kiosk, err := s.CreateEndpoint(ctx, mp.ID, m.ID, "kiosk", "USD")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Main"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Kiosk", Endpoints: []string{kiosk.ID}}); err != nil {
			t.Fatal(err)
		}
		main, _ := money.ParseRate("2.9")
		one, _ := money.ParseRate("1")
		for _, r := range []merchants.BalanceRule{
			{Type: "sale", Action: "add", FeeRate: main, FeeFixedMinor: 30, DateBump: "ASAP"},
			{Type: "sale", Action: "add", FeeRate: one, DateBump: "ASAP", Balance: "Main"},
			{Type: "adjustment", Action: "add", FeeFixedMinor: 100, DateBump: "ASAP", Balance: "Kiosk"},
		} {
			if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, r); err != nil {
				t.Fatal(err)
			}
		}
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
		in := amount(10_000)
		in.Instrument, in.Order = card.ID, order.ID
		if _, err := s.Debit(ctx, mp.ID, in); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Kiosk", "Main"} {
			if _, err := s.Adjust(ctx, mp.ID, m.ID, merchants.AdjustmentInput{AmountMinor: 500, ExternalSource: "float", BalanceName: name}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]int64{}
		bs, err := s.MerchantBalances(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			got[b.Name] = b.CurrentMinor
		}
		// Main: the sale under its override (1%: 100.00 − 1.00) and an
		// adjustment with no fee; Kiosk: its adjustment less its override's
		// fixed 1.00.
		if got["Main"] != 9_900+500 || got["Kiosk"] != 400 {
			t.Fatalf("balances = %v", got)
		}
		rec, err := s.Reconcile(ctx, m)
		if err != nil || len(rec.Differences) != 0 || rec.FeesSum != 100+100 {
			t.Fatalf("reconciliation = %+v, %v", rec, err)
		}
	})
}

// A main rule may be limited to a gate or an endpoint; the most specific
// rule that matches a transaction applies.
func TestRulesByGateAndEndpoint(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "sqlite", time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC))
	s, mp := w.s, w.mp
	m, cu := w.merchant(t, "gated")
	eps, _, _ := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "endpoints", LinkRel: "merchant", LinkTarget: m.ID, Limit: 1})
	two, _ := money.ParseRate("2")
	for _, r := range []merchants.BalanceRule{
		{Type: "sale", Action: "add", FeeFixedMinor: 10, DateBump: "ASAP"},
		{Type: "sale", Action: "add", FeeFixedMinor: 20, DateBump: "ASAP", Gate: "ach"},
		{Type: "sale", Action: "add", FeeRate: two, DateBump: "ASAP", Gate: "card", Endpoint: eps[0].ID},
	} {
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", DateBump: "ASAP", Gate: "wire"}); err == nil {
		t.Fatal("an unknown gate was accepted")
	}
	card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
	order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
	in := amount(10_000)
	in.Instrument, in.Order = card.ID, order.ID
	s.Debit(ctx, mp.ID, in)
	// The card sale came through the default endpoint: 2% applies, not the
	// fixed fees of the broader rules.
	if b, _ := s.MerchantBalances(ctx, m); b[0].CurrentMinor != 9_800 {
		t.Fatalf("current = %d", b[0].CurrentMinor)
	}
}

// A balance's created date can be moved to the past, never the future; a
// manager's default balance must be one of its merchants'.
func TestBalanceDatesAndManagerDefaults(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "sqlite", time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC))
	s, mp := w.s, w.mp
	m, _ := w.merchant(t, "dated")
	b, err := s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Main"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetBalanceCreatedDate(ctx, mp.ID, b.ID, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Fatal("a created date in the future was accepted")
	}
	b, err = s.SetBalanceCreatedDate(ctx, mp.ID, b.ID, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || b.Fields["created_date"] != "2026-01-01T00:00:00Z" {
		t.Fatalf("created date: %v %v", b.Fields["created_date"], err)
	}
	mg, err := s.CreateManager(ctx, mp.ID, merchants.PartyInput{Login: "boss", ControlKey: "a control key 12345", Merchants: []string{m.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetManagerDefaultBalance(ctx, mp.ID, mg.ID, "Nope"); err == nil {
		t.Fatal("a default balance no merchant has was accepted")
	}
	if mg, err = s.SetManagerDefaultBalance(ctx, mp.ID, mg.ID, "Main"); err != nil || mg.Fields["default_balance"] != "Main" {
		t.Fatalf("default balance: %v %v", mg.Fields["default_balance"], err)
	}
}

// A manager's own balance counts the transactions of the merchants it
// oversees under the manager's rules, from the moment it oversees them:
// here the manager's rate plan takes 1% of every sale (rate only: the fee
// alone moves the balance).
func TestManagerBalances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newWorld(t, kind, time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC))
		s, mp := w.s, w.mp
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		var overseen, orders []string
		for i := range 2 {
			m, cu := w.merchant(t, fmt.Sprintf("%s-m%d", kind, i))
			overseen = append(overseen, m.ID)
			order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
			orders = append(orders, order.ID)
		}
		sell := func(i int, n int64) {
			t.Helper()
			in := amount(n)
			in.Instrument, in.Order = card.ID, orders[i]
			if _, err := s.Debit(ctx, mp.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		sell(0, 5_000) // before the manager: not its business
		mg, err := s.CreateManager(ctx, mp.ID, merchants.PartyInput{Login: "reseller-" + kind, ControlKey: "a control key 12345", Merchants: overseen})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateBalance(ctx, mp.ID, mg.ID, merchants.BalanceInput{Name: "Commission"}); err != nil {
			t.Fatal(err)
		}
		one, _ := money.ParseRate("1")
		if _, err := s.SetBalanceRule(ctx, mp.ID, mg.ID, merchants.BalanceRule{Type: "sale", Action: "rate_only", FeeRate: one, DateBump: "ASAP"}); err != nil {
			t.Fatal(err)
		}
		sell(0, 10_000)
		sell(1, 25_000)
		mg, _ = s.Get(ctx, mp.ID, mg.ID)
		bs, err := s.MerchantBalances(ctx, mg)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 1 || bs[0].Name != "Commission" || bs[0].CurrentMinor != -(100+250) {
			t.Fatalf("manager balances = %+v", bs)
		}
		// The merchants' own balances are untouched by the manager's rules.
		m0, _ := s.Get(ctx, mp.ID, overseen[0])
		if b, _ := s.MerchantBalances(ctx, m0); b[0].CurrentMinor != 15_000 {
			t.Fatalf("merchant balance = %d", b[0].CurrentMinor)
		}
		if rec, err := s.Reconcile(ctx, mg); err != nil || len(rec.Differences) != 0 {
			t.Fatalf("manager reconciliation: %+v %v", rec.Differences, err)
		}
	})
}
