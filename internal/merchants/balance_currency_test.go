package merchants_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A balance holds one currency, counts only transactions in it, and
// refuses an adjustment in another; a JPY and a KWD balance keep their
// amounts to the yen and the fils, read back exactly.
func TestBalancesKeepTheirCurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		start := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
		w := newWorld(t, kind, start)
		s, mp := w.s, w.mp
		m, _ := w.merchant(t, "fx-"+kind)
		jpy, err := s.CreateEndpoint(ctx, mp.ID, m.ID, "tokyo", "jpy")
		if err != nil {
			t.Fatal(err)
		}
		kwd, err := s.CreateEndpoint(ctx, mp.ID, m.ID, "kuwait", "KWD")
		if err != nil {
			t.Fatal(err)
		}
		if payments.Str(jpy.Fields["currency"]) != "JPY" || !payments.Bool(jpy.Fields["default"]) {
			t.Fatalf("the first JPY endpoint: %v", jpy.Fields)
		}
		if _, err := s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Yen", Currency: "JPY"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Dinar", Currency: "KWD", Endpoints: []string{jpy.ID}}); err == nil {
			t.Fatal("a KWD balance took a JPY endpoint")
		}
		if _, err := s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Dinar", Currency: "KWD", Endpoints: []string{kwd.ID}}); err != nil {
			t.Fatal(err)
		}
		// The KWD endpoints no balance names still have their implicit balance.
		// Amounts as the operator's file writes them, parsed in their currency.
		yen, _ := money.LookupCurrency("JPY")
		fils, _ := money.LookupCurrency("KWD")
		a1, err1 := money.ParseDecimal("123457", yen)
		a2, err2 := money.ParseDecimal("9.876", fils)
		a3, err3 := money.ParseDecimal("0.001", fils)
		if err1 != nil || err2 != nil || err3 != nil || a1.Minor != 123_457 || a2.Minor != 9_876 || a3.Minor != 1 {
			t.Fatalf("parsing: %v %v %v %v %v %v", a1, a2, a3, err1, err2, err3)
		}
		at := start.Add(-time.Hour)
		ins := []merchants.TransactionInput{
			{ExternalID: "j1", Type: "sale", AmountMinor: a1.Minor, Currency: "JPY", Merchant: m.ID, Gate: "card", OccurredAt: at},
			{ExternalID: "k1", Type: "sale", AmountMinor: a2.Minor, Currency: "KWD", Merchant: m.ID, Endpoint: kwd.ID, Gate: "card", OccurredAt: at},
			{ExternalID: "k2", Type: "reversal", AmountMinor: a3.Minor, Currency: "KWD", Merchant: m.ID, Endpoint: kwd.ID, Gate: "card", OccurredAt: at},
		}
		if _, err := s.RecordTransactions(ctx, mp.ID, ins); err != nil {
			t.Fatal(err)
		}
		bad := merchants.TransactionInput{ExternalID: "x", Type: "sale", AmountMinor: 5, Currency: "KWD", Merchant: m.ID, Endpoint: jpy.ID, Gate: "card", OccurredAt: at}
		if _, err := s.RecordTransaction(ctx, mp.ID, bad); err == nil || !strings.Contains(err.Error(), "takes JPY, not KWD") {
			t.Fatalf("a KWD transaction through a JPY endpoint: %v", err)
		}
		if _, err := s.Adjust(ctx, mp.ID, m.ID, merchants.AdjustmentInput{AmountMinor: 100, ExternalSource: "fx", BalanceName: "Yen", Currency: "EUR"}); err == nil ||
			!strings.Contains(err.Error(), `balance "Yen" holds JPY`) {
			t.Fatalf("a EUR adjustment of a JPY balance: %v", err)
		}
		if _, err := s.Adjust(ctx, mp.ID, m.ID, merchants.AdjustmentInput{AmountMinor: -57, ExternalSource: "fx", BalanceName: "Yen", Currency: "JPY"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.MerchantBalances(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			currency string
			minor    int64
			text     string
		}{"USD": {"USD", 0, "0.00"}, "KWD": {"KWD", 0, "0.000"}, "Yen": {"JPY", 123_400, "123400"}, "Dinar": {"KWD", 9_875, "9.875"}}
		if len(got) != len(want) {
			t.Fatalf("balances %+v", got)
		}
		for _, b := range got {
			wb := want[b.Name]
			cur, _ := money.LookupCurrency(b.Currency)
			text := money.Amount{Minor: b.CurrentMinor, Currency: cur}.Decimal()
			back, err := money.ParseDecimal(text, cur)
			if b.Currency != wb.currency || b.CurrentMinor != wb.minor || text != wb.text || err != nil || back.Minor != b.CurrentMinor {
				t.Errorf("%s: %s %d %q (back %d %v), want %s %d %q", b.Name, b.Currency, b.CurrentMinor, text, back.Minor, err, wb.currency, wb.minor, wb.text)
			}
		}
		// A schedule keeps its currency.
		sa, err := s.CreateSchedule(ctx, mp.ID, m.ID, merchants.ScheduleInput{Period: "monthly", First: start.Add(24 * time.Hour), AmountMinor: 500,
			Currency: "eur", Acknowledged: true})
		if err != nil || payments.Str(sa.Fields["currency"]) != "EUR" {
			t.Fatalf("a EUR schedule: %v %v", sa.Fields["currency"], err)
		}
		rec, err := s.Reconcile(ctx, m)
		if err != nil || len(rec.Differences) != 0 {
			t.Fatalf("reconciliation: %+v %v", rec.Differences, err)
		}
	})
}

// Balances of one kind never count the same transaction: an overlap is
// refused when it is configured, naming the balance it overlaps; an
// account balance's endpoints can be edited, and later transactions follow.
func TestBalanceKindsRefuseOverlaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		start := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
		w := newWorld(t, kind, start)
		s, mp := w.s, w.mp
		m, _ := w.merchant(t, "kinds-"+kind)
		ep1, _ := s.CreateEndpoint(ctx, mp.ID, m.ID, "one", "USD")
		ep2, _ := s.CreateEndpoint(ctx, mp.ID, m.ID, "two", "USD")
		s.CreateGate(ctx, mp.ID, merchants.GateInput{Name: "g1", Processor: "p1"})
		s.CreateGate(ctx, mp.ID, merchants.GateInput{Name: "g2", Processor: "p2"})
		s.CreateGate(ctx, mp.ID, merchants.GateInput{Name: "g3", Processor: "p2"})
		gA, _ := s.CreateGateGroup(ctx, mp.ID, "A", []string{"g1"})
		if _, err := s.CreateGateGroup(ctx, mp.ID, "B", []string{"g2", "g3"}); err != nil {
			t.Fatal(err)
		}
		ok := func(in merchants.BalanceInput) payments.Resource {
			t.Helper()
			b, err := s.CreateBalance(ctx, mp.ID, m.ID, in)
			if err != nil {
				t.Fatalf("%s: %v", in.Name, err)
			}
			return b
		}
		refused := func(in merchants.BalanceInput, says string) {
			t.Helper()
			if _, err := s.CreateBalance(ctx, mp.ID, m.ID, in); err == nil || !strings.Contains(err.Error(), says) {
				t.Fatalf("%s: %v, want an error saying %q", in.Name, err, says)
			}
		}
		one := ok(merchants.BalanceInput{Name: "One", Endpoints: []string{ep1.ID}})
		refused(merchants.BalanceInput{Name: "Again", Endpoints: []string{ep2.ID, ep1.ID}}, `balance "One" already counts endpoint `+ep1.ID)
		ok(merchants.BalanceInput{Name: "All"})
		refused(merchants.BalanceInput{Name: "All too"}, `balance "All" already counts every endpoint`)
		ok(merchants.BalanceInput{Name: "P1", Kind: "processor", Processors: []string{"p1"}})
		refused(merchants.BalanceInput{Name: "P1 again", Kind: "processor", Processors: []string{"p2", "p1"}}, `"P1" already counts processor p1`)
		refused(merchants.BalanceInput{Name: "Nobody", Kind: "processor", Processors: []string{"p9"}}, `no gate belongs to a processor "p9"`)
		refused(merchants.BalanceInput{Name: "Mixed", Kind: "processor", Processors: []string{"p2"}, Endpoints: []string{ep2.ID}}, "belongs to another kind")
		ok(merchants.BalanceInput{Name: "Mapped", Kind: "card_mapping", CardMappings: []string{"cm-1"}})
		refused(merchants.BalanceInput{Name: "Any mapping", Kind: "card_mapping"}, `"Mapped" already counts every card mapping`)
		ok(merchants.BalanceInput{Name: "Group A", Kind: "gate_group", GateGroup: "A"})
		ok(merchants.BalanceInput{Name: "Group B", Kind: "gate_group", GateGroup: "B"})
		refused(merchants.BalanceInput{Name: "Group A again", Kind: "gate_group", GateGroup: "A"}, `"Group A" already counts gate group A`)
		// A group edited to share a gate with another balance's group is refused.
		if _, err := s.SetGateGroupGates(ctx, mp.ID, gA.ID, []string{"g1", "g3"}); err == nil || !strings.Contains(err.Error(), "gate g3") {
			t.Fatalf("a group edited into an overlap: %v", err)
		}
		// In another currency, the same selection is no overlap.
		ok(merchants.BalanceInput{Name: "P1 in euros", Currency: "EUR", Kind: "processor", Processors: []string{"p1"}})

		// Endpoints are editable: from now on One counts ep2, and All ep1.
		record := func(id, endpoint string) {
			t.Helper()
			if _, err := s.RecordTransaction(ctx, mp.ID, merchants.TransactionInput{ExternalID: id, Type: "sale", AmountMinor: 100, Currency: "USD",
				Merchant: m.ID, Endpoint: endpoint, Gate: "card", OccurredAt: start}); err != nil {
				t.Fatal(err)
			}
		}
		record("before", ep1.ID)
		if _, err := s.SetBalanceEndpoints(ctx, mp.ID, one.ID, []string{ep2.ID}); err != nil {
			t.Fatal(err)
		}
		record("after-1", ep1.ID)
		record("after-2", ep2.ID)
		got, _ := s.MerchantBalances(ctx, m)
		current := map[string]int64{}
		for _, b := range got {
			current[b.Name] = b.CurrentMinor
		}
		if current["One"] != 200 || current["All"] != 100 {
			t.Fatalf("after editing One's endpoints: %v", current)
		}
		if _, err := s.SetBalanceEndpoints(ctx, mp.ID, one.ID, nil); err == nil {
			t.Fatal("an account balance was left naming no endpoints beside the catch-all")
		}
	})
}
