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
type typeModelBalance struct{ current, rr int64 }

// Every one of the seed's 23 types, recorded as the operator's own
// transaction, lands on the balance of its endpoint and on no other, with
// the seed's sign; an added amount under a rule with a rolling reserve
// holds the reserve; a rate-only type takes only its fee.
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
		if _, err := s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Main", Currency: "USD"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Second", Currency: "USD", Endpoints: []string{ep2.ID}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateGate(ctx, mp.ID, merchants.GateInput{Name: "acq1-visa", Processor: "acq1"}); err != nil {
			t.Fatal(err)
		}
		reserve, _ := money.ParseRate("10")
		// A rolling reserve of 10% on every added type; a fee of 0.25 on fraud.
		for typ, action := range seedTable {
			if action == "Add" {
				if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: typ, Action: "add", ReserveRate: reserve,
					ReservePeriodDays: 30, DateBump: "ASAP_plus_RR"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "fraud", Action: "rate_only", FeeFixedMinor: 25, DateBump: "ASAP"}); err != nil {
			t.Fatal(err)
		}

		model := map[string]*typeModelBalance{"Main": {}, "Second": {}}
		var ins []merchants.TransactionInput
		n := 0
		for typ := range seedTable {
			for _, to := range []struct {
				balance, endpoint string
				amount            int64
			}{{"Main", "", 1_000}, {"Second", ep2.ID, 37}} {
				n++
				in := merchants.TransactionInput{ExternalID: fmt.Sprintf("tx-%d", n), Type: typ, AmountMinor: to.amount, Currency: "USD",
					Merchant: m.ID, Endpoint: to.endpoint, Gate: "acq1-visa", OccurredAt: start.Add(-time.Duration(n) * time.Minute)}
				if strings.HasSuffix(typ, "card_mapping") {
					in.CardMapping = "cm-1"
				}
				ins = append(ins, in)
				b := model[to.balance]
				b.current += seedSign(typ) * to.amount
				if seedSign(typ) > 0 {
					b.rr += (to.amount*10 + 50) / 100 // 10%, to the nearest cent
				}
				if typ == "fraud" {
					b.current -= 25
				}
			}
		}
		out, err := s.RecordTransactions(ctx, mp.ID, ins)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 46 {
			t.Fatalf("%d recorded, want 46", len(out))
		}
		got, err := s.MerchantBalances(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d balances, want 2", len(got))
		}
		for _, b := range got {
			want := model[b.Name]
			if b.CurrentMinor != want.current || b.RRMinor != want.rr || b.LiveMinor != want.current-want.rr || b.STHMinor != 0 {
				t.Errorf("%s: current %d rr %d live %d sth %d; the model says current %d rr %d live %d", b.Name,
					b.CurrentMinor, b.RRMinor, b.LiveMinor, b.STHMinor, want.current, want.rr, want.current-want.rr)
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
		if len(rec.Differences) != 0 || rec.EntriesCompared != 46 {
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
