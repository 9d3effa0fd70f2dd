package balances_test

import (
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/money"
)

// Effects of the seed's cases, computed by hand.
func TestEffectOf(t *testing.T) {
	ny := clock.FedCalendar().Location()
	rate := func(s string) money.Rate { r, _ := money.ParseRate(s); return r }
	friday := time.Date(2026, 11, 20, 11, 30, 0, 0, ny)
	plan := balances.Rule{Type: "sale", Action: "add", FeeRate: rate("2.9"), FeeFixedMinor: 30, ReserveRate: rate("10"), ReservePeriodDays: 90, DateBump: "BDAY+2"}
	for _, tc := range []struct {
		name                       string
		rule                       balances.Rule
		txn                        balances.Txn
		signed, fee, rr, sth, live int64
		reserveUntil, holdUntil    time.Time
	}{
		{"the worked example's sale", plan, balances.Txn{Type: "sale", AmountMinor: 10_000, At: friday},
			10_000, 320, 1_000, 8_680, 0, time.Date(2027, 2, 19, 0, 0, 0, 0, ny), time.Date(2026, 11, 24, 12, 1, 0, 0, ny)},
		{"on the hour: one minute later", balances.Rule{Type: "sale", Action: "add", DateBump: "DAY+1"}, balances.Txn{Type: "sale", AmountMinor: 500, At: time.Date(2026, 11, 20, 11, 0, 0, 0, ny)},
			500, 0, 0, 500, 0, time.Time{}, time.Date(2026, 11, 21, 11, 1, 0, 0, ny)},
		{"ASAP keeps no reserve", balances.Rule{Type: "sale", Action: "add", ReserveRate: rate("10"), DateBump: "ASAP"}, balances.Txn{Type: "sale", AmountMinor: 1_000, At: friday},
			1_000, 0, 0, 0, 1_000, time.Time{}, time.Time{}},
		{"a refund is deducted from live", balances.DefaultRule("reversal"), balances.Txn{Type: "reversal", AmountMinor: 3_000, At: friday},
			-3_000, 0, 0, 0, -3_000, time.Time{}, time.Time{}},
		{"a debit adjustment as signed, its fee on its size", balances.Rule{Type: "adjustment", Action: "add", FeeFixedMinor: 100, DateBump: "ASAP"},
			balances.Txn{Type: "adjustment", AmountMinor: -500, At: friday}, -500, 100, 0, 0, -600, time.Time{}, time.Time{}},
		{"a fee larger than the sale holds a negative amount", balances.Rule{Type: "sale", Action: "add", FeeFixedMinor: 30, DateBump: "DAY+1"},
			balances.Txn{Type: "sale", AmountMinor: 10, At: friday}, 10, 30, 0, -20, 0, time.Time{}, time.Date(2026, 11, 21, 12, 1, 0, 0, ny)},
		{"rate only moves the fee", balances.Rule{Type: "preauth", Action: "rate_only", FeeRate: rate("1"), DateBump: "ASAP"},
			balances.Txn{Type: "preauth", AmountMinor: 10_000, At: friday}, 0, 100, 0, 0, -100, time.Time{}, time.Time{}},
	} {
		e, err := balances.EffectOf(tc.rule, tc.txn, clock.FedCalendar())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if e.SignedMinor != tc.signed || e.FeeMinor != tc.fee || e.ReserveMinor != tc.rr || e.STHMinor != tc.sth || e.LiveMinor != tc.live ||
			!e.ReserveUntil.Equal(tc.reserveUntil) || !e.STHUntil.Equal(tc.holdUntil) {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
}

// Resolution: an override before the main rule, the most specific of gate
// and endpoint first, the seed's table last.
func TestResolve(t *testing.T) {
	rules := balances.Rules{}
	for _, r := range []balances.Rule{
		{ID: "main", Type: "sale", Action: "add", DateBump: "ASAP"},
		{ID: "ach", Type: "sale", Action: "add", DateBump: "ASAP", Gate: "ach"},
		{ID: "card-ep", Type: "sale", Action: "add", DateBump: "ASAP", Gate: "card", Endpoint: "EP1"},
		{ID: "override", Type: "sale", Action: "add", DateBump: "ASAP", Balance: "Kiosk"},
	} {
		rules[balances.RuleKey(r.Balance, r.Type, r.Gate, r.Endpoint)] = r
	}
	for _, tc := range []struct {
		balance string
		txn     balances.Txn
		want    string
	}{
		{"", balances.Txn{Type: "sale", Gate: "card", Endpoint: "EP1"}, "card-ep"},
		{"", balances.Txn{Type: "sale", Gate: "card", Endpoint: "EP2"}, "main"},
		{"", balances.Txn{Type: "sale", Gate: "ach", Endpoint: "EP1"}, "ach"},
		{"Kiosk", balances.Txn{Type: "sale", Gate: "card", Endpoint: "EP1"}, "override"},
		{"Main", balances.Txn{Type: "sale", Gate: "card", Endpoint: "EP1"}, "card-ep"},
		{"", balances.Txn{Type: "refund"}, ""},
	} {
		if got := rules.Resolve(tc.balance, tc.txn); got.ID != tc.want {
			t.Errorf("%s %+v: rule %q, want %q", tc.balance, tc.txn, got.ID, tc.want)
		}
	}
}
