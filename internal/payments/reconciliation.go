package payments

import (
	"context"
	"fmt"
	"time"
)

// Difference is one disagreement reconciliation found.
type Difference struct {
	SourceID string
	Problem  string
}

// Reconciliation compares a merchant balance with what fed it.
type Reconciliation struct {
	BalanceMinor    int64
	TransactionsSum int64
	AdjustmentsSum  int64
	// FeesSum is what the merchant\'s rate plans took.
	FeesSum         int64
	Differences     []Difference
	EntriesCompared int
}

// feedTypeOf is the feed type each resource type may cause.
var feedTypeOf = map[string][]string{
	"debits":                     {FeedSale, FeedCapture},
	"refunds":                    {FeedReversal},
	"credits":                    {FeedPayout},
	"reversals":                  {FeedPayoutCancel},
	"card_holds":                 {FeedPreauth, FeedVoid},
	"disputes":                   {FeedChargeback},
	"bank_account_verifications": {FeedAccountVerification},
	"adjustments":                {FeedAdjustment},
}

// Reconcile recomputes a merchant's balance from its feed, split into
// transactions, adjustments and fees, and checks every feed entry against the
// resource that caused it: that it exists, is of a type that causes such an
// entry, did not fail, and moved the same amount.
func (s *Service) Reconcile(ctx context.Context, merchant Resource) (Reconciliation, error) {
	var rec Reconciliation
	balances, err := s.MerchantBalances(ctx, merchant)
	if err != nil {
		return rec, err
	}
	// Every transaction is counted by exactly one balance when endpoints are
	// claimed once and one balance catches the rest; the sum must match.
	for _, b := range balances {
		rec.BalanceMinor += b.CurrentMinor
	}
	feed, err := s.partyFeed(ctx, merchant)
	if err != nil {
		return rec, err
	}
	rules, err := s.rulesOf(ctx, merchant)
	if err != nil {
		return rec, err
	}
	set, err := s.balancesOf(ctx, merchant)
	if err != nil {
		return rec, err
	}
	for _, e := range feed {
		e = set.resolve(e)
		rec.EntriesCompared++
		for _, name := range set.names {
			if !set.counts(name, e.Endpoint) {
				continue
			}
			_, sign, fee, err := effect(rules, name, e)
			if err != nil {
				return rec, err
			}
			rec.FeesSum += fee
			if e.Type == FeedAdjustment {
				rec.AdjustmentsSum += sign * e.AmountMinor
			} else {
				rec.TransactionsSum += sign * e.AmountMinor
			}
		}
		src, err := s.Get(ctx, merchant.Marketplace, e.SourceID)
		if err != nil {
			rec.Differences = append(rec.Differences, Difference{e.SourceID, fmt.Sprintf("%s entry names no resource", e.Type)})
			continue
		}
		ok := false
		for _, t := range feedTypeOf[src.Type] {
			ok = ok || t == e.Type
		}
		switch {
		case !ok:
			rec.Differences = append(rec.Differences, Difference{e.SourceID, fmt.Sprintf("a %s does not cause a %s entry", src.Type, e.Type)})
		case src.Status == "failed":
			rec.Differences = append(rec.Differences, Difference{e.SourceID, fmt.Sprintf("%s entry for a failed %s", e.Type, src.Type)})
		case src.Type == "bank_account_verifications":
		case src.Type == "adjustments" && Int(src.Fields["amount"]) != e.AmountMinor,
			src.Type != "adjustments" && e.Type != FeedCapture && Int(src.Fields["amount"]) != e.AmountMinor:
			rec.Differences = append(rec.Differences, Difference{e.SourceID, fmt.Sprintf("%s entry of %d, but the %s is of %d", e.Type, e.AmountMinor, src.Type, Int(src.Fields["amount"]))})
		}
	}
	if sum := rec.TransactionsSum + rec.AdjustmentsSum - rec.FeesSum; sum != rec.BalanceMinor {
		rec.Differences = append(rec.Differences, Difference{"", fmt.Sprintf("the balances sum to %d but what fed them sums to %d (an endpoint counted by several balances, or by none?)", rec.BalanceMinor, sum)})
	}
	return rec, nil
}

// FeedBetween lists a merchant's balance transactions in [from, to).
func (s *Service) FeedBetween(ctx context.Context, merchant Resource, from, to time.Time) ([]FeedEntry, error) {
	feed, err := s.partyFeed(ctx, merchant)
	if err != nil {
		return nil, err
	}
	var out []FeedEntry
	for _, e := range feed {
		if !e.OccurredAt.Before(from) && e.OccurredAt.Before(to) {
			out = append(out, e)
		}
	}
	return out, nil
}
