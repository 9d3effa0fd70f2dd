package merchants

import (
	"context"
	"errors"
	"github.com/poise-payments/poise/internal/payments"
	"sort"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/ledger"
)

// MerchantBalance is a merchant balance as the balance API reports it.
type MerchantBalance struct {
	Name     string
	Currency string
	// Kind is account, processor, card_mapping or gate_group.
	Kind               string
	MerchantLogin      string
	ExternalMerchantID any
	balances.Buckets
}

// partyFeed is what feeds a party's balances, each entry naming the
// endpoint it came through: a merchant's own feed, or for a manager the
// feeds of the merchants it oversees.
func (s *Service) partyFeed(ctx context.Context, party payments.Resource) ([]payments.FeedEntry, error) {
	if party.Type == "managers" {
		var all []payments.FeedEntry
		for _, v := range party.Fields["merchants"].([]any) {
			m, err := s.pay.GetTyped(ctx, party.Marketplace, "merchants", payments.Str(v))
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
func (s *Service) HasOwnBalances(ctx context.Context, party payments.Resource) (bool, error) {
	items, _, err := s.store.ListResources(ctx, payments.ListQuery{Marketplace: party.Marketplace, Type: "balances", LinkRel: "merchant", LinkTarget: party.ID, Limit: 1})
	return len(items) > 0, err
}

// MerchantBalances reads a party's balances at the marketplace's time:
// for each balance, the accounts of its buckets (see BalanceAccount), with
// the releases already due but not yet posted counted as posted. The cost
// is a few account reads and one index range per balance, whatever the
// history. Until balances are configured, a party has one balance per
// currency, named after the currency.
func (s *Service) MerchantBalances(ctx context.Context, party payments.Resource) ([]MerchantBalance, error) {
	set, err := s.balancesOf(ctx, party)
	if err != nil {
		return nil, err
	}
	now, err := s.pay.NowFor(ctx, party.Marketplace)
	if err != nil {
		return nil, err
	}
	out := make([]MerchantBalance, len(set.names))
	for i, name := range set.names {
		b, err := s.bucketsOf(ctx, set.keys[name], now)
		if err != nil {
			return nil, err
		}
		out[i] = MerchantBalance{Name: name, Currency: set.currencyOf(name), Kind: set.defs[name].kind, MerchantLogin: payments.Str(party.Fields["login"]),
			ExternalMerchantID: party.Fields["external_merchant_id"], Buckets: b}
	}
	return out, nil
}

// bucketsOf reads one balance's buckets at instant now.
func (s *Service) bucketsOf(ctx context.Context, key string, now time.Time) (balances.Buckets, error) {
	sth, rr, live, buf := BalanceAccount(key, bucketSTH), BalanceAccount(key, bucketRR), BalanceAccount(key, bucketLive), BalanceAccount(key, bucketBuf)
	a, err := s.store.BalanceAccounts(ctx, []string{sth, rr, live, buf})
	if err != nil {
		return balances.Buckets{}, err
	}
	due, err := s.store.DueReleases(ctx, key, now)
	if err != nil {
		return balances.Buckets{}, err
	}
	b := balances.Buckets{CurrentMinor: a[sth] + a[rr] + a[live], STHMinor: a[sth], RRMinor: a[rr], LiveMinor: a[live], BufferMinor: a[buf]}
	return b.Released(due), nil
}

// MoveReserve releases a party's rolling reserve now, before its dates:
// every reserve of a transaction up to this moment becomes live.
func (s *Service) MoveReserve(ctx context.Context, marketplace, merchantID string) (payments.Resource, error) {
	return s.moveReserve(ctx, marketplace, merchantID, "")
}

// MoveBalanceReserve releases the rolling reserve of one balance of a
// party now, before its dates.
func (s *Service) MoveBalanceReserve(ctx context.Context, marketplace, partyID, balance string) (payments.Resource, error) {
	if balance == "" {
		return payments.Resource{}, apperr.New(apperr.Invalid, "name the balance whose reserve to move")
	}
	return s.moveReserve(ctx, marketplace, partyID, balance)
}

func (s *Service) moveReserve(ctx context.Context, marketplace, merchantID, only string) (payments.Resource, error) {
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		m, err := w.lockParty(ctx, marketplace, merchantID)
		if err != nil {
			return nil, err
		}
		set, err := w.partyBalances(ctx, m)
		if err != nil {
			return nil, err
		}
		if only != "" && !set.has(only) {
			return nil, apperr.New(apperr.NotFound, "%s has no balance named %q", merchantID, only)
		}
		mv, err := w.Create(ctx, payments.Resource{Marketplace: marketplace, Type: "reserve_moves", Fields: map[string]any{
			"moved_at": w.Now().UTC().Format(time.RFC3339Nano), "balance": nilIfEmpty(only)}, Links: map[string]string{"merchant": merchantID}}, "RM")
		if err != nil {
			return nil, err
		}
		for _, name := range set.names {
			if only != "" && name != only {
				continue
			}
			key := set.keys[name]
			rr, err := w.Account(BalanceAccount(key, bucketRR))
			if apperr.Is(err, apperr.NotFound) {
				continue // nothing was ever posted to it
			}
			if err != nil {
				return nil, err
			}
			if err := w.moveBuckets(key, "balance_reserve_move", mv.ID, map[string]int64{
				bucketRR: -rr.PostedMinor, bucketLive: rr.PostedMinor}); err != nil {
				return nil, err
			}
			if err := w.tx.ClearReserveReleases(ctx, key); err != nil {
				return nil, err
			}
		}
		return mv, nil
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

// EntryDates are when a feed entry's amounts affect the balance, and the
// rule and fee that applied, as fixed when it happened: its rolling
// reserve's release and its short-term hold's end (each the transaction's
// own time when it has none).
type EntryDates struct {
	Entry payments.FeedEntry
	// Balance names the balance whose effect the row shows ("" when the
	// transaction reached none).
	Balance          string
	Rule             balances.Rule
	FeeMinor         int64
	ReserveDate      time.Time
	ShortTermHoldEnd time.Time
}

// ExportFeed streams a merchant's transactions in [from, to), oldest
// first, each with what applied to it when it happened, in memory bounded
// by one row whatever the period's size.
func (s *Service) ExportFeed(ctx context.Context, merchant payments.Resource, from, to time.Time, fn func(EntryDates) error) error {
	set, err := s.balancesOf(ctx, merchant)
	if err != nil {
		return err
	}
	return s.store.ScanFeedEffects(ctx, merchant.Marketplace, merchant.Link("customer"), merchant.ID, from, to, func(e payments.FeedEntry, be *BalanceEffect) error {
		d := EntryDates{Entry: set.resolve(e), ReserveDate: e.OccurredAt, ShortTermHoldEnd: e.OccurredAt, Rule: balances.DefaultRule(e.Type)}
		if be != nil {
			d.Rule, d.FeeMinor, d.Balance = be.Rule, be.FeeMinor, be.BalanceName
			if !be.ReserveUntil.IsZero() {
				d.ReserveDate = be.ReserveUntil
			}
			if !be.STHUntil.IsZero() {
				d.ShortTermHoldEnd = be.STHUntil
			}
		}
		return fn(d)
	})
}

// DatesOf gives the dates of a party's feed entries as they were fixed in
// its first balance that counted them.
func (s *Service) DatesOf(ctx context.Context, party payments.Resource, entries []payments.FeedEntry) ([]EntryDates, error) {
	out := make([]EntryDates, len(entries))
	for i, e := range entries {
		d := EntryDates{Entry: e, ReserveDate: e.OccurredAt, ShortTermHoldEnd: e.OccurredAt, Rule: balances.DefaultRule(e.Type)}
		be, err := s.store.EffectOf(ctx, e.ID, party.ID)
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			if d.Rule, err = DecodeRule(be.RuleJSON); err != nil {
				return nil, err
			}
			d.FeeMinor = be.FeeMinor
			if !be.ReserveUntil.IsZero() {
				d.ReserveDate = be.ReserveUntil
			}
			if !be.STHUntil.IsZero() {
				d.ShortTermHoldEnd = be.STHUntil
			}
		}
		out[i] = d
	}
	return out, nil
}

// ExportBalance streams the transactions one balance of a party counted
// in [from, to), oldest first, each with what applied to it on that
// balance when it happened.
func (s *Service) ExportBalance(ctx context.Context, party payments.Resource, balance string, from, to time.Time, fn func(EntryDates) error) error {
	set, err := s.balancesOf(ctx, party)
	if err != nil {
		return err
	}
	if !set.has(balance) {
		return apperr.New(apperr.NotFound, "%s has no balance named %q", party.ID, balance)
	}
	return s.store.ScanBalanceEffects(ctx, set.keys[balance], from, to, func(e payments.FeedEntry, be BalanceEffect) error {
		d := EntryDates{Entry: set.resolve(e), Balance: balance, Rule: be.Rule, FeeMinor: be.FeeMinor, ReserveDate: e.OccurredAt, ShortTermHoldEnd: e.OccurredAt}
		if !be.ReserveUntil.IsZero() {
			d.ReserveDate = be.ReserveUntil
		}
		if !be.STHUntil.IsZero() {
			d.ShortTermHoldEnd = be.STHUntil
		}
		return fn(d)
	})
}
