package payments

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/money"
)

// A balance rule says what one transaction type does to a merchant's
// balance: its action, the fee of its rate plan, the rolling reserve kept
// back, and when the rest becomes live (date bumping).
type BalanceRule struct {
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
	// Balance, when set, makes the rule an override of that balance: it
	// replaces the merchant's main rule for its type on that balance only.
	Balance string
	// Gate and Endpoint, when set, limit the rule to transactions of that
	// gate (card, ach, adjustment) or endpoint.
	Gate, Endpoint string
}

// validGates are the rails a transaction comes by.
var validGates = map[string]bool{"": true, "card": true, "ach": true, "adjustment": true}

var actions = map[string]int64{"add": 1, "deduct": -1, "rate_only": 0}

// defaultRule is the seed's balance-rules table with no fee, no reserve
// and ASAP date bumping.
func defaultRule(typ string) BalanceRule {
	action := "rate_only"
	switch defaultRules[typ] {
	case 1:
		action = "add"
	case -1:
		action = "deduct"
	}
	return BalanceRule{Type: typ, Action: action, DateBump: "ASAP"}
}

// parseDateBump reads a date bumping function: ASAP, ASAP_plus_RR, BDAY+n
// or DAY+n (n from 0 to 365).
func parseDateBump(s string) (kind string, days int, err error) {
	switch s {
	case "ASAP", "ASAP_plus_RR":
		return s, 0, nil
	}
	for _, k := range []string{"BDAY", "DAY"} {
		if rest, ok := strings.CutPrefix(s, k+"+"); ok {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n > 365 {
				break
			}
			return k, n, nil
		}
	}
	return "", 0, apperr.New(apperr.Invalid, "date bumping %q is not ASAP, ASAP_plus_RR, BDAY+n or DAY+n", s)
}

// usesReserve reports whether a date bumping function keeps a rolling reserve.
func usesReserve(kind string) bool { return kind != "ASAP" }

// shortTermHoldUntil is when an amount held under BDAY+n or DAY+n becomes
// live: n (business) days after the transaction, at the first minute after
// the transaction's hour: 11:01–11:59 are credited at 12:01 of the due day,
// 11:00 exactly at 11:01. Days and hours are judged in loc.
func shortTermHoldUntil(at time.Time, kind string, days int, cal clock.Calendar, loc *time.Location) time.Time {
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

// reserveUntil is when a rolling reserve is released: the transaction's
// date + 1 day + the plan's period, at the start of that day in loc.
func reserveUntil(at time.Time, periodDays int, loc *time.Location) time.Time {
	y, m, d := at.In(loc).Date()
	return time.Date(y, m, d+1+periodDays, 0, 0, 0, 0, loc)
}

// SetBalanceRule sets a merchant's rule for one transaction type,
// replacing the default.
func (s *Service) SetBalanceRule(ctx context.Context, marketplace, merchantID string, r BalanceRule) (Resource, error) {
	if _, ok := actions[r.Action]; !ok {
		return Resource{}, apperr.New(apperr.Invalid, "action must be add, deduct or rate_only")
	}
	if r.Type == "" {
		return Resource{}, apperr.New(apperr.Invalid, "type is required")
	}
	if _, _, err := parseDateBump(r.DateBump); err != nil {
		return Resource{}, err
	}
	if !validGates[r.Gate] {
		return Resource{}, apperr.New(apperr.Invalid, "gate must be card, ach or adjustment")
	}
	if r.Endpoint != "" {
		ep, err := s.GetTyped(ctx, marketplace, "endpoints", r.Endpoint)
		if err != nil {
			return Resource{}, err
		}
		if ep.Link("merchant") != merchantID && !oversees(ctx, s, marketplace, merchantID, ep.Link("merchant")) {
			return Resource{}, apperr.New(apperr.NotFound, "no endpoint %s of this owner", r.Endpoint)
		}
	}
	if r.FeeFixedMinor < 0 || r.ReservePeriodDays < 0 || r.ReservePeriodDays > 3650 {
		return Resource{}, apperr.New(apperr.Invalid, "fee_fixed and reserve_period_days must be zero or more (a period at most ten years)")
	}
	if r.Balance != "" {
		m, err := s.Get(ctx, marketplace, merchantID)
		if err != nil {
			return Resource{}, err
		}
		set, err := s.balancesOf(ctx, m)
		if err != nil {
			return Resource{}, err
		}
		if _, ok := set.endpoints[r.Balance]; !ok {
			return Resource{}, apperr.New(apperr.NotFound, "merchant %s has no balance named %q to override", merchantID, r.Balance)
		}
	}
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		if _, err := w.lockParty(ctx, marketplace, merchantID); err != nil {
			return nil, err
		}
		return w.Create(ctx, Resource{Marketplace: marketplace, Type: "balance_rules", Fields: map[string]any{
			"transaction_type": r.Type, "action": r.Action, "fee_rate": r.FeeRate.Decimal(), "fee_fixed": r.FeeFixedMinor,
			"reserve_rate": r.ReserveRate.Decimal(), "reserve_period_days": int64(r.ReservePeriodDays), "date_bump": r.DateBump,
			"balance": nilIfEmpty(r.Balance), "gate": nilIfEmpty(r.Gate), "endpoint": nilIfEmpty(r.Endpoint),
		}, Links: map[string]string{"merchant": merchantID}}, "BR")
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// ruleKey names a rule: its balance ("" for the main rule), its type, and
// its gate and endpoint filters ("" for any).
func ruleKey(balance, typ, gate, endpoint string) string {
	return balance + "\x00" + typ + "\x00" + gate + "\x00" + endpoint
}

// rulesOf reads a merchant's rules, main and overrides, keyed by ruleKey;
// the newest rule of a key wins.
func (s *Service) rulesOf(ctx context.Context, merchant Resource) (map[string]BalanceRule, error) {
	items, _, err := s.store.ListResources(ctx, ListQuery{Marketplace: merchant.Marketplace, Type: "balance_rules", LinkRel: "merchant", LinkTarget: merchant.ID, Limit: maxRulesPerMerchant})
	if err != nil {
		return nil, err
	}
	out := map[string]BalanceRule{}
	for _, r := range items { // newest first
		typ := Str(r.Fields["transaction_type"])
		key := ruleKey(Str(r.Fields["balance"]), typ, Str(r.Fields["gate"]), Str(r.Fields["endpoint"]))
		if _, seen := out[key]; seen {
			continue
		}
		fee, err1 := money.ParseRate(Str(r.Fields["fee_rate"]))
		res, err2 := money.ParseRate(Str(r.Fields["reserve_rate"]))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("payments: rule %s has malformed rates", r.ID)
		}
		out[key] = BalanceRule{Type: typ, Action: Str(r.Fields["action"]), FeeRate: fee, FeeFixedMinor: Int(r.Fields["fee_fixed"]),
			ReserveRate: res, ReservePeriodDays: int(Int(r.Fields["reserve_period_days"])), DateBump: Str(r.Fields["date_bump"]),
			Balance: Str(r.Fields["balance"]), Gate: Str(r.Fields["gate"]), Endpoint: Str(r.Fields["endpoint"])}
	}
	return out, nil
}

// maxRulesPerMerchant bounds the rules read for one balance.
const maxRulesPerMerchant = 1000

// oversees reports whether a manager oversees a merchant.
func oversees(ctx context.Context, s *Service, marketplace, managerID, merchantID string) bool {
	mg, err := s.GetTyped(ctx, marketplace, "managers", managerID)
	if err != nil {
		return false
	}
	for _, v := range mg.Fields["merchants"].([]any) {
		if Str(v) == merchantID {
			return true
		}
	}
	return false
}
