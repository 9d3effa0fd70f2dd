// Package balances is the merchant-balance domain: balance rules and their
// resolution, date bumping, the effects a transaction has on a balance
// when it happens, and the dates those effects are released. It imports
// neither SQL nor HTTP; payments posts the effects it computes into ledger
// accounts.
package balances

import (
	"strconv"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/money"
)

// A Rule says what one transaction type does to a merchant's balance: its
// action, the fee of its rate plan, the rolling reserve kept back, and
// when the rest becomes live (date bumping).
type Rule struct {
	// ID names the stored rule; empty for the seed's default table.
	ID     string
	Type   string
	Action string // add, deduct or rate_only
	// FeeRate and FeeFixedMinor are the rate plan's fee, taken from the
	// balance whatever the action.
	FeeRate       money.Rate
	FeeFixedMinor int64
	// ReserveRate of an added amount is held as rolling reserve until the
	// transaction's date + 1 day + ReservePeriodDays.
	ReserveRate       money.Rate
	ReservePeriodDays int
	// DateBump is ASAP, ASAP_plus_RR, BDAY+n or DAY+n.
	DateBump string
	// ReserveOnDeduct makes a deduct rule's reserve rate hold a reserve
	// too (the seed: "Apply direction parameter affects only Rolling
	// reserve"): the reserve part of the deduction reaches live only at
	// the reserve's release. Effects stored before it existed were made
	// without it and keep reading so.
	ReserveOnDeduct bool
	// EffectiveFrom and EffectiveUntil bound when a stored rule is in
	// force: from EffectiveFrom (zero: its creation) until EffectiveUntil
	// (zero: until it is ended). A transaction is posted under the rules
	// in force when it happened.
	EffectiveFrom, EffectiveUntil time.Time
	// Balance, when set, makes the rule an override of that balance: it
	// replaces the party's main rule for its type on that balance only.
	Balance string
	// Gate and Endpoint, when set, limit the rule to transactions of that
	// gate (card, ach, adjustment) or endpoint.
	Gate     string
	Endpoint string
}

// ValidGates are the rails a transaction comes by.
var ValidGates = map[string]bool{"": true, "card": true, "ach": true, "adjustment": true}

// Actions are the signs of the rule actions.
var Actions = map[string]int64{"add": 1, "deduct": -1, "rate_only": 0}

// Adjustment is the transaction type of a balance adjustment; its amount
// is signed (a credit adds, a debit deducts).
const Adjustment = "adjustment"

// defaultSigns is the seed's balance-rules table: how each transaction
// type moves a merchant's balance when no rule of the merchant's says
// otherwise. +1 adds, -1 deducts; types absent (preauth, cancel, fraud,
// retrieval, void, account_verification) are "rate only": they move no
// money, only fees.
var defaultSigns = map[string]int64{
	"sale": 1, "capture": 1, "dispute": 1, "chargeback_reversal": 1, "arbitration": 1, "payout_cancel": 1,
	// An adjustment's amount is signed: a credit adds, a debit deducts.
	Adjustment:   1,
	"chargeback": -1, "prearbitration": -1, "reversal": -1, "payout": -1, "transfer": -1,
}

// DefaultRule is the seed's balance-rules table with no fee, no reserve
// and ASAP date bumping.
func DefaultRule(typ string) Rule {
	action := "rate_only"
	switch defaultSigns[typ] {
	case 1:
		action = "add"
	case -1:
		action = "deduct"
	}
	return Rule{Type: typ, Action: action, DateBump: "ASAP"}
}

// ParseDateBump reads a date bumping function: ASAP, ASAP_plus_RR, BDAY+n
// or DAY+n (n from 0 to maxBumpDays).
func ParseDateBump(s string) (kind string, days int, err error) {
	switch s {
	case "ASAP", "ASAP_plus_RR":
		return s, 0, nil
	}
	for _, k := range []string{"BDAY", "DAY"} {
		if rest, ok := strings.CutPrefix(s, k+"+"); ok {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n > maxBumpDays {
				break
			}
			return k, n, nil
		}
	}
	return "", 0, apperr.New(apperr.Invalid, "date bumping %q is not ASAP, ASAP_plus_RR, BDAY+n or DAY+n", s)
}

// maxBumpDays bounds n in BDAY+n and DAY+n: a year is past any hold a
// rate plan keeps short-term.
const maxBumpDays = 365

// UsesReserve reports whether a date bumping kind keeps a rolling reserve.
func UsesReserve(kind string) bool { return kind != "ASAP" }

// ShortTermHoldUntil is when an amount held under BDAY+n or DAY+n becomes
// live: n (business) days after the transaction, at the first minute after
// the transaction's hour: 11:01–11:59 are credited at 12:01 of the due day,
// 11:00 exactly at 11:01. Days and hours are judged in the calendar's
// location (New York).
func ShortTermHoldUntil(at time.Time, kind string, days int, cal clock.Calendar) time.Time {
	loc := cal.Location()
	local := at.In(loc)
	var due time.Time
	if kind == "BDAY" {
		due = cal.AddBusinessDays(local, days).In(loc)
	} else {
		due = local.AddDate(0, 0, days)
	}
	hour := due.Truncate(time.Hour)
	if local.Minute() != 0 || local.Second() != 0 || local.Nanosecond() != 0 {
		hour = hour.Add(time.Hour)
	}
	return hour.Add(time.Minute)
}

// ReserveUntil is when a rolling reserve is released: the transaction's
// date + 1 day + the plan's period, at the start of that day in loc.
func ReserveUntil(at time.Time, periodDays int, loc *time.Location) time.Time {
	y, m, d := at.In(loc).Date()
	return time.Date(y, m, d+1+periodDays, 0, 0, 0, 0, loc)
}

// RuleKey names a rule: its balance ("" for the main rule), its type, and
// its gate and endpoint filters ("" for any).
func RuleKey(balance, typ, gate, endpoint string) string {
	return balance + "\x00" + typ + "\x00" + gate + "\x00" + endpoint
}

// Rules are a party's rules in force, keyed by RuleKey.
type Rules map[string]Rule

// Resolve finds the rule that applies to a transaction on a balance: the
// balance's override for its type, else the party's main rule, else the
// seed's table; among rules of one level, the one limited to both the
// transaction's gate and endpoint before one limited to either, before one
// for any.
func (rs Rules) Resolve(balance string, t Txn) Rule {
	if r, ok := rs.match(balance, t); ok {
		return r
	}
	if balance != "" {
		if r, ok := rs.match("", t); ok {
			return r
		}
	}
	return DefaultRule(t.Type)
}

func (rs Rules) match(balance string, t Txn) (Rule, bool) {
	for _, k := range []struct{ gate, endpoint string }{{t.Gate, t.Endpoint}, {"", t.Endpoint}, {t.Gate, ""}, {"", ""}} {
		if r, ok := rs[RuleKey(balance, t.Type, k.gate, k.endpoint)]; ok {
			return r, true
		}
	}
	return Rule{}, false
}
