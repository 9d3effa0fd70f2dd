package payments

import (
	"context"
	"sort"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/money"
)

// defaultRules is the seed's balance-rules table: how each transaction
// type moves a merchant's balance when no rule of the merchant's says
// otherwise. +1 adds, -1 deducts; types absent (preauth, cancel, fraud,
// retrieval, void, account_verification) are "rate only": they move no
// money, only fees.
var defaultRules = map[string]int64{
	"sale": 1, "capture": 1, "dispute": 1, "chargeback_reversal": 1, "arbitration": 1, "payout_cancel": 1,
	// An adjustment's amount is signed: a credit adds, a debit deducts.
	"adjustment": 1,
	"chargeback": -1, "prearbitration": -1, "reversal": -1, "payout": -1, "transfer": -1,
}

// MerchantBalance is a merchant balance as the balance API reports it.
type MerchantBalance struct {
	Name               string
	Currency           string
	MerchantLogin      string
	ExternalMerchantID any
	// CurrentMinor includes short-term holds and rolling reserve;
	// LiveMinor = CurrentMinor − STHMinor − RRMinor.
	CurrentMinor, LiveMinor, STHMinor, RRMinor int64
	// BufferMinor is what outgoing operations without a final status hold.
	BufferMinor int64
}

// partyFeed is what feeds a party's balances, each entry naming the
// endpoint it came through: a merchant's own feed, or for a manager the
// feeds of the merchants it oversees.
func (s *Service) partyFeed(ctx context.Context, party Resource) ([]FeedEntry, error) {
	if party.Type == "managers" {
		var all []FeedEntry
		for _, v := range party.Fields["merchants"].([]any) {
			m, err := s.GetTyped(ctx, party.Marketplace, "merchants", Str(v))
			if err != nil {
				return nil, err
			}
			feed, err := s.partyFeed(ctx, m)
			if err != nil {
				return nil, err
			}
			all = append(all, feed...)
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].OccurredAt.Before(all[j].OccurredAt) })
		return all, nil
	}
	feed, err := s.Feed(ctx, party.Marketplace, party.Link("customer"))
	if err != nil {
		return nil, err
	}
	set, err := s.balancesOf(ctx, party)
	if err != nil {
		return nil, err
	}
	for i := range feed {
		feed[i] = set.resolve(feed[i])
	}
	return feed, nil
}

// HasOwnBalances reports whether a party has balances configured.
func (s *Service) HasOwnBalances(ctx context.Context, party Resource) (bool, error) {
	items, _, err := s.store.ListResources(ctx, ListQuery{Marketplace: party.Marketplace, Type: "balances", LinkRel: "merchant", LinkTarget: party.ID, Limit: 1})
	return len(items) > 0, err
}

// MerchantBalances computes a merchant's balance at the service's time
// from its feed, under its rules (the seed's table where it has none):
//
//   - current moves by each transaction's action (add, deduct, rate only),
//     less the fee of its rate plan, at the transaction's time;
//   - of an added amount, the rolling reserve (reserve rate × amount) is
//     held until the transaction's date + 1 day + the plan's period, or
//     until the merchant's reserve is moved by hand, unless the date
//     bumping is ASAP;
//   - under BDAY+n or DAY+n, the rest (amount − fee − reserve) is a
//     short-term hold until n (business) days later, at the first minute
//     after the transaction's hour;
//   - live = current − short-term hold − rolling reserve;
//   - the buffer hold is what payouts without a final status hold.
//
// Days are judged on the Federal Reserve calendar in New York time. Until
// balances are configured, a merchant has one balance per currency, named
// after the currency.
func (s *Service) MerchantBalances(ctx context.Context, merchant Resource) ([]MerchantBalance, error) {
	feed, err := s.partyFeed(ctx, merchant)
	if err != nil {
		return nil, err
	}
	rules, err := s.rulesOf(ctx, merchant)
	if err != nil {
		return nil, err
	}
	movedAt, err := s.lastReserveMove(ctx, merchant)
	if err != nil {
		return nil, err
	}
	set, err := s.balancesOf(ctx, merchant)
	if err != nil {
		return nil, err
	}
	now, err := s.NowFor(ctx, merchant.Marketplace)
	if err != nil {
		return nil, err
	}
	cal := clock.FedCalendar()
	out := make([]MerchantBalance, len(set.names))
	for i, name := range set.names {
		out[i] = MerchantBalance{Name: name, Currency: Currency, MerchantLogin: Str(merchant.Fields["login"]),
			ExternalMerchantID: merchant.Fields["external_merchant_id"]}
	}
	for _, e := range feed {
		e = set.resolve(e)
		for i, name := range set.names {
			if !set.counts(name, e.Endpoint) {
				continue
			}
			if err := s.applyEntry(ctx, &out[i], rules, e, now, movedAt, cal, merchant); err != nil {
				return nil, err
			}
		}
	}
	for i := range out {
		out[i].LiveMinor = out[i].CurrentMinor - out[i].STHMinor - out[i].RRMinor
	}
	return out, nil
}

// effect is what a feed entry does to a balance: the balance's override
// for its type, else the merchant's main rule, else the seed's table.
func effect(rules map[string]BalanceRule, balance string, e FeedEntry) (rule BalanceRule, sign, fee int64, err error) {
	rule, ok := matchRule(rules, balance, e)
	if !ok && balance != "" {
		rule, ok = matchRule(rules, "", e)
	}
	if !ok {
		rule = defaultRule(e.Type)
	}
	sign = actions[rule.Action]
	if e.Type == FeedAdjustment {
		sign = 1 // an adjustment is applied as signed
	}
	fee, err = money.Fee(abs(e.AmountMinor), rule.FeeRate, rule.FeeFixedMinor)
	return rule, sign, fee, err
}

// matchRule finds the rule of a balance ("" for the main rules) for an
// entry: one limited to its gate and endpoint before one limited to either,
// before one for any.
func matchRule(rules map[string]BalanceRule, balance string, e FeedEntry) (BalanceRule, bool) {
	for _, k := range []struct{ gate, endpoint string }{{e.Gate, e.Endpoint}, {"", e.Endpoint}, {e.Gate, ""}, {"", ""}} {
		if r, ok := rules[ruleKey(balance, e.Type, k.gate, k.endpoint)]; ok {
			return r, true
		}
	}
	return BalanceRule{}, false
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// MoveReserve releases a merchant's rolling reserve now, before its dates:
// every reserve of a transaction up to this moment becomes live.
func (s *Service) MoveReserve(ctx context.Context, marketplace, merchantID string) (Resource, error) {
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		if _, err := w.Lock(ctx, marketplace, "merchants", merchantID); err != nil {
			return nil, err
		}
		return w.Create(ctx, Resource{Marketplace: marketplace, Type: "reserve_moves", Fields: map[string]any{
			"moved_at": w.Now().UTC().Format(time.RFC3339Nano)}, Links: map[string]string{"merchant": merchantID}}, "RM")
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

func (s *Service) lastReserveMove(ctx context.Context, merchant Resource) (time.Time, error) {
	items, _, err := s.store.ListResources(ctx, ListQuery{Marketplace: merchant.Marketplace, Type: "reserve_moves", LinkRel: "merchant", LinkTarget: merchant.ID, Limit: 1})
	if err != nil || len(items) == 0 {
		return time.Time{}, err
	}
	return items[0].CreatedAt, nil
}

// EntryDates are when a feed entry's amounts affect the balance: its
// rolling reserve's release and its short-term hold's end (each the
// transaction's own time when it has none).
type EntryDates struct {
	Entry            FeedEntry
	ReserveDate      time.Time
	ShortTermHoldEnd time.Time
}

// DatesOf gives the dates of a merchant's feed entries under its rules.
func (s *Service) DatesOf(ctx context.Context, merchant Resource, entries []FeedEntry) ([]EntryDates, error) {
	rules, err := s.rulesOf(ctx, merchant)
	if err != nil {
		return nil, err
	}
	cal := clock.FedCalendar()
	out := make([]EntryDates, len(entries))
	set, err := s.balancesOf(ctx, merchant)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		e = set.resolve(e)
		// The export is the merchant's: dates under its main rules.
		rule, _, _, err := effect(rules, "", e)
		if err != nil {
			return nil, err
		}
		d := EntryDates{Entry: e, ReserveDate: e.OccurredAt, ShortTermHoldEnd: e.OccurredAt}
		kind, days, err := parseDateBump(rule.DateBump)
		if err != nil {
			return nil, err
		}
		if actions[rule.Action] > 0 && usesReserve(kind) && rule.ReserveRate != (money.Rate{}) {
			d.ReserveDate = reserveUntil(e.OccurredAt, rule.ReservePeriodDays, cal.Location())
		}
		if actions[rule.Action] > 0 && (kind == "BDAY" || kind == "DAY") {
			d.ShortTermHoldEnd = shortTermHoldUntil(e.OccurredAt, kind, days, cal, cal.Location())
		}
		out[i] = d
	}
	return out, nil
}

// applyEntry adds what one feed entry does to one balance at instant now.
func (s *Service) applyEntry(ctx context.Context, b *MerchantBalance, rules map[string]BalanceRule, e FeedEntry,
	now, movedAt time.Time, cal clock.Calendar, merchant Resource) error {
	rule, sign, fee, err := effect(rules, b.Name, e)
	if err != nil {
		return err
	}
	amount := e.AmountMinor
	b.CurrentMinor += sign*amount - fee
	if e.Type == FeedPayout {
		src, err := s.Get(ctx, merchant.Marketplace, e.SourceID)
		if err != nil {
			return err
		}
		if src.Status == "pending" {
			b.BufferMinor += amount
		}
	}
	if sign <= 0 || amount <= 0 {
		return nil
	}
	kind, days, err := parseDateBump(rule.DateBump)
	if err != nil {
		return err
	}
	loc := cal.Location()
	var reserve int64
	if usesReserve(kind) {
		if reserve, err = money.Percent(amount, rule.ReserveRate); err != nil {
			return err
		}
		released := !now.Before(reserveUntil(e.OccurredAt, rule.ReservePeriodDays, loc)) ||
			(!movedAt.IsZero() && !e.OccurredAt.After(movedAt))
		if !released {
			b.RRMinor += reserve
		}
	}
	if (kind == "BDAY" || kind == "DAY") && now.Before(shortTermHoldUntil(e.OccurredAt, kind, days, cal, loc)) {
		b.STHMinor += amount - fee - reserve
	}
	return nil
}
