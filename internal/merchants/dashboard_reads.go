package merchants

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/payments"
)

// Reads the dashboard makes of merchant balances that the API does not.

// DatedRelease is what falls due on one balance at one instant: the
// short-term holds and rolling reserves that become live then.
type DatedRelease struct {
	// Balance names the balance; the store leaves it empty, the service
	// fills it.
	Balance string
	DueAt   time.Time
	balances.Release
}

// ReleaseCalendar reads the releases still to come of a balance, soonest
// first: one index range over its pending due instants.
type ReleaseCalendar interface {
	UpcomingReleases(ctx context.Context, balanceKey string, after time.Time, limit int) ([]DatedRelease, error)
}

// UpcomingReleases lists up to limit of a party's releases due after the
// marketplace's now, soonest first, across its balances. A release already
// due is counted as live by MerchantBalances and is not listed.
func (s *Service) UpcomingReleases(ctx context.Context, party payments.Resource, limit int) ([]DatedRelease, error) {
	cal, ok := s.store.(ReleaseCalendar)
	if !ok {
		return nil, fmt.Errorf("merchants: the store (%T) cannot list upcoming releases", s.store)
	}
	set, err := s.balancesOf(ctx, party)
	if err != nil {
		return nil, err
	}
	now, err := s.pay.NowFor(ctx, party.Marketplace)
	if err != nil {
		return nil, err
	}
	var out []DatedRelease
	for _, name := range set.names {
		list, err := cal.UpcomingReleases(ctx, set.keys[name], now, limit)
		if err != nil {
			return nil, err
		}
		for _, r := range list {
			r.Balance = name
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out[:min(len(out), limit)], nil
}

// BalanceNames lists a party's balances by name, oldest first, as the
// balance API reports them (a party with none configured has one, named
// after its currency).
func (s *Service) BalanceNames(ctx context.Context, party payments.Resource) ([]string, error) {
	set, err := s.balancesOf(ctx, party)
	if err != nil {
		return nil, err
	}
	return set.names, nil
}

// BucketAccounts names the ledger accounts of one balance's buckets.
type BucketAccounts struct {
	Balance               string
	STH, RR, Live, Buffer string
}

// BalanceBucketAccounts lists the ledger accounts of each of a party's
// balances, oldest balance first, for reading their history from the
// ledger's posted journal.
func (s *Service) BalanceBucketAccounts(ctx context.Context, party payments.Resource) ([]BucketAccounts, error) {
	set, err := s.balancesOf(ctx, party)
	if err != nil {
		return nil, err
	}
	out := make([]BucketAccounts, len(set.names))
	for i, name := range set.names {
		key := set.keys[name]
		out[i] = BucketAccounts{Balance: name, STH: BalanceAccount(key, bucketSTH), RR: BalanceAccount(key, bucketRR),
			Live: BalanceAccount(key, bucketLive), Buffer: BalanceAccount(key, bucketBuf)}
	}
	return out, nil
}
