package merchants_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// seedTable is the seed's balance-rules table, copied from its text: the
// model the tests hold the code to.
var seedTable = map[string]string{
	"sale": "Add", "capture": "Add", "dispute": "Add", "chargeback_reversal": "Add", "arbitration": "Add", "payout_cancel": "Add",
	"chargeback": "Deduct", "prearbitration": "Deduct", "reversal": "Deduct", "payout": "Deduct", "transfer (deposit2card)": "Deduct",
	"preauth": "Rate only", "cancel": "Rate only", "fraud": "Rate only", "retrieval": "Rate only", "pan_eligibility": "Rate only",
	"create_card_mapping": "Rate only", "update_card_mapping": "Rate only", "inquire_card_mapping": "Rate only",
	"delete_card_mapping": "Rate only", "mfo_scoring": "Rate only", "account_verification": "Rate only", "void": "Rate only",
}

// seedSign is what the model says a type does to a balance with no rule.
func seedSign(typ string) int64 {
	switch seedTable[typ] {
	case "Add":
		return 1
	case "Deduct":
		return -1
	}
	return 0
}

// typeModelBalance is a balance as the model adds it up.
type typeModelBalance struct {
	current, rr int64
	count       int
}

// The balances of the every-type test and what each selects, as the
// test configures them: the model's own statement of the kinds.
type kindCase struct {
	gate, processor, endpoint, cardMapping string
}

// modelSelects says which balances count a transaction in USD, from the
// configuration the test made, written out by hand.
func modelSelects(c kindCase, ep2 string) []string {
	var out []string
	if c.endpoint == ep2 {
		out = append(out, "Second")
	} else {
		out = append(out, "Main")
	}
	if c.processor == "acq1" {
		out = append(out, "Acquirer one")
	}
	if c.cardMapping != "" {
		out = append(out, "Mapped cards")
	}
	if c.gate == "acq1-visa" || c.gate == "acq2-mc" {
		out = append(out, "Europe")
	}
	return out
}

// Every one of the seed's 23 types, recorded as the operator's own
// transaction through every combination of endpoint, gate and card
// mapping, lands on exactly the balances whose kind and configuration
// select it (an account balance by endpoint, a processor balance by the
// gate's processor, a card-mapping balance by mapping, a gate-group
// balance by the group's gates), with the seed's sign; an added amount
// under a rule with a rolling reserve holds the reserve; a rate-only type
// takes only its fee.
func TestOperatorTransactionsEveryType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		start := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
		w := newWorld(t, kind, start)
		s, mp := w.s, w.mp
		m, _ := w.merchant(t, "op-"+kind)
		other, _ := w.merchant(t, "other-"+kind)
		ep2, err := s.CreateEndpoint(ctx, mp.ID, m.ID, "second", "USD")
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []merchants.GateInput{{Name: "acq1-visa", Processor: "acq1"}, {Name: "acq2-mc", Processor: "acq2"}, {Name: "acq3-amex", Processor: "acq3"}} {
			if _, err := s.CreateGate(ctx, mp.ID, g); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateGateGroup(ctx, mp.ID, "europe", []string{"acq1-visa", "acq2-mc"}); err != nil {
			t.Fatal(err)
		}
		for _, in := range []merchants.BalanceInput{
			// An endpoint balance configured first must not take the
			// default endpoint's transactions from every balance.
			{Name: "Second", Endpoints: []string{ep2.ID}},
			{Name: "Main"},
			{Name: "Acquirer one", Kind: "processor", Processors: []string{"acq1"}},
			{Name: "Mapped cards", Kind: "card_mapping"},
			{Name: "Europe", Kind: "gate_group", GateGroup: "europe"},
		} {
			if _, err := s.CreateBalance(ctx, mp.ID, m.ID, in); err != nil {
				t.Fatalf("%s: %v", in.Name, err)
			}
		}
		reserve, _ := money.ParseRate("10")
		// A rolling reserve of 10% on every added type; a fee of 0.25 on fraud.
		for typ, action := range seedTable {
			if action == "Add" {
				if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: typ, Action: "add", ReserveRate: reserve,
					ReservePeriodDays: 30, DateBump: "ASAP_plus_RR", EffectiveFrom: start.AddDate(0, 0, -1)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "fraud", Action: "rate_only", FeeFixedMinor: 25, DateBump: "ASAP",
			EffectiveFrom: start.AddDate(0, 0, -1)}); err != nil {
			t.Fatal(err)
		}

		model := map[string]*typeModelBalance{}
		for _, name := range []string{"Main", "Second", "Acquirer one", "Mapped cards", "Europe"} {
			model[name] = &typeModelBalance{}
		}
		cases := []kindCase{
			{gate: "acq1-visa", processor: "acq1"}, {gate: "acq2-mc", processor: "acq2", endpoint: ep2.ID},
			{gate: "acq3-amex", processor: "acq3", cardMapping: "cm-1"}, {gate: "card", processor: "balanced", endpoint: ep2.ID, cardMapping: "cm-2"},
		}
		var ins []merchants.TransactionInput
		n := 0
		for typ := range seedTable {
			for ci, c := range cases {
				n++
				amount := int64(1_000 + 37*ci)
				in := merchants.TransactionInput{ExternalID: fmt.Sprintf("tx-%d", n), Type: typ, AmountMinor: amount, Currency: "USD",
					Merchant: m.ID, Endpoint: c.endpoint, Gate: c.gate, CardMapping: c.cardMapping, OccurredAt: start.Add(-time.Duration(n) * time.Minute)}
				if strings.HasSuffix(typ, "card_mapping") && in.CardMapping == "" {
					continue // such a type always names its mapping
				}
				ins = append(ins, in)
				for _, name := range modelSelects(c, ep2.ID) {
					b := model[name]
					b.current += seedSign(typ) * amount
					if seedSign(typ) > 0 {
						b.rr += (amount*10 + 50) / 100 // 10%, to the nearest cent
					}
					if typ == "fraud" {
						b.current -= 25
					}
					b.count++
				}
			}
		}
		out, err := s.RecordTransactions(ctx, mp.ID, ins)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(ins) {
			t.Fatalf("%d recorded, want %d", len(out), len(ins))
		}
		got, err := s.MerchantBalances(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("%d balances, want 5: %+v", len(got), got)
		}
		for _, b := range got {
			want := model[b.Name]
			if b.CurrentMinor != want.current || b.RRMinor != want.rr || b.LiveMinor != want.current-want.rr || b.STHMinor != 0 {
				t.Errorf("%s: current %d rr %d live %d sth %d; the model says current %d rr %d live %d", b.Name,
					b.CurrentMinor, b.RRMinor, b.LiveMinor, b.STHMinor, want.current, want.rr, want.current-want.rr)
			}
		}
		// Each balance's export lists exactly the transactions it counted.
		for name, want := range model {
			rows := 0
			if err := s.ExportBalance(ctx, m, name, start.Add(-24*time.Hour), start.Add(time.Hour), func(d merchants.EntryDates) error {
				rows++
				if d.Balance != name {
					t.Errorf("%s's export has a row of %q", name, d.Balance)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if rows != want.count {
				t.Errorf("%s's export has %d rows, the model %d", name, rows, want.count)
			}
		}
		// The other merchant was named by nothing and has nothing.
		if ob, err := s.MerchantBalances(ctx, other); err != nil || ob[0].CurrentMinor != 0 {
			t.Fatalf("another merchant's balance: %+v %v", ob, err)
		}
		rec, err := s.Reconcile(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Differences) != 0 || rec.EntriesCompared != len(ins) {
			t.Fatalf("reconciliation: %d entries, differences %+v", rec.EntriesCompared, rec.Differences)
		}

		// Sent again, nothing changes and every one is a replay.
		again, err := s.RecordTransactions(ctx, mp.ID, ins)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range again {
			if !o.Replayed || o.ID != out[i].ID {
				t.Fatalf("line %d sent again: %+v, first %s", i+1, o, out[i].ID)
			}
		}
		after, _ := s.MerchantBalances(ctx, m)
		for i := range after {
			if after[i].Buckets != got[i].Buckets {
				t.Fatalf("sending again changed %s: %+v, was %+v", after[i].Name, after[i].Buckets, got[i].Buckets)
			}
		}
		// The same ID with other content is refused.
		changed := ins[0]
		changed.AmountMinor++
		if _, err := s.RecordTransaction(ctx, mp.ID, changed); err == nil || !strings.Contains(err.Error(), "other content") {
			t.Fatalf("the same ID with another amount: %v", err)
		}
	})
}

// One bad transaction refuses the whole set, naming its line, and
// nothing of the set is recorded.
func TestOperatorTransactionsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		start := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
		w := newWorld(t, kind, start)
		s, mp := w.s, w.mp
		m, _ := w.merchant(t, "aon-"+kind)
		ins := []merchants.TransactionInput{
			{ExternalID: "a", Type: "sale", AmountMinor: 500, Currency: "USD", Merchant: m.ID, Gate: "card", OccurredAt: start},
			{ExternalID: "b", Type: "sale", AmountMinor: 500, Currency: "USD", Merchant: m.ID, Gate: "nowhere", OccurredAt: start},
			{ExternalID: "c", Type: "refund", AmountMinor: 500, Currency: "USD", Merchant: m.ID, Gate: "card", OccurredAt: start},
			{ExternalID: "d", Type: "sale", AmountMinor: 500, Currency: "USD", Merchant: m.ID, Gate: "card", OccurredAt: start.Add(time.Hour)},
		}
		for i := range ins {
			ins[i].Line = i + 2
		}
		_, err := s.RecordTransactions(ctx, mp.ID, ins)
		var te *balances.TransactionsError
		if !errors.As(err, &te) || len(te.Lines) != 2 || te.Lines[0].Line != 3 || te.Lines[1].Line != 4 {
			t.Fatalf("refusal: %v", err)
		}
		// The future time is found once the other lines are right.
		ins = []merchants.TransactionInput{ins[0], ins[3]}
		if _, err = s.RecordTransactions(ctx, mp.ID, ins); !errors.As(err, &te) || te.Lines[0].Line != 5 || !strings.Contains(te.Lines[0].Message, "after the marketplace's time") {
			t.Fatalf("refusal: %v", err)
		}
		b, _ := s.MerchantBalances(ctx, m)
		if b[0].CurrentMinor != 0 {
			t.Fatalf("a refused set moved the balance to %d", b[0].CurrentMinor)
		}
		feed, _ := s.Feed(ctx, mp.ID, m.Link("customer"))
		if len(feed) != 0 {
			t.Fatalf("a refused set left %d feed entries", len(feed))
		}
	})
}

// Calls recording the same transactions at once record each one once:
// every call either records them, answers them as recorded, or is
// refused as a conflict to be sent again.
func TestOperatorTransactionsConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		start := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
		w := newWorld(t, kind, start)
		s, mp := w.s, w.mp
		m, _ := w.merchant(t, "race-"+kind)
		var ins []merchants.TransactionInput
		for i := 0; i < 200; i++ {
			ins = append(ins, merchants.TransactionInput{Line: i + 1, ExternalID: fmt.Sprintf("r%d", i), Type: "sale", AmountMinor: 100,
				Currency: "USD", Merchant: m.ID, Gate: "card", OccurredAt: start})
		}
		errs := make(chan error, 4)
		for g := 0; g < 4; g++ {
			go func() {
				_, err := s.RecordTransactions(ctx, mp.ID, ins)
				errs <- err
			}()
		}
		for g := 0; g < 4; g++ {
			if err := <-errs; err != nil && !strings.Contains(err.Error(), "send them again") {
				t.Errorf("a concurrent call: %v", err)
			}
		}
		if _, err := s.RecordTransactions(ctx, mp.ID, ins); err != nil {
			t.Fatal(err)
		}
		b, _ := s.MerchantBalances(ctx, m)
		if b[0].CurrentMinor != 200*100 {
			t.Fatalf("current %d, want %d", b[0].CurrentMinor, 200*100)
		}
	})
}
