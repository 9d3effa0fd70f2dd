// Package merchants holds PayNet's merchant balances over the ledger:
// merchants and managers, their endpoints and balances, the rules that
// shape what a transaction does to a balance, adjustments (one by one,
// uploaded, scheduled), reserve moves, reconciliation and export, and the
// posting of Balanced transactions into balance accounts. The Balanced
// operations of internal/payments reach it only through the
// payments.BalanceFeed it implements; the arithmetic of rules lives in
// internal/balances.
package merchants

import (
	"context"
	"fmt"
	"time"

	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/vault"
)

// Service runs the operations of merchant balances. Its writes run as
// operations of the payments service, so they commit with their events and
// ledger transfers in one transaction.
type Service struct {
	pay   *payments.Service
	store Store
	// vault seals control keys.
	vault *vault.Vault
}

// New returns the merchant balance service over pay, reading from s, and
// sealing control keys with v, and sets it as pay's balance feed: from
// then on every Balanced transaction that reaches a merchant is posted into
// its balances.
func New(pay *payments.Service, s Store, v *vault.Vault) *Service {
	m := &Service{pay: pay, store: s, vault: v}
	pay.SetBalanceFeed(m)
	return m
}

// Store reads merchant balances outside an operation.
type Store interface {
	// ResourcesByID reads the resources of a marketplace with the given
	// IDs, in a few statements; an ID it lacks is absent from the map.
	ResourcesByID(ctx context.Context, marketplace string, ids []string) (map[string]payments.Resource, error)
	// FeedOf lists a customer's balance transactions, oldest first.
	FeedOf(ctx context.Context, marketplace, customer string) ([]payments.FeedEntry, error)
	// DueReleases sums what has fallen due on a balance by now and is not
	// yet posted: one index range over its pending due instants.
	DueReleases(ctx context.Context, balanceKey string, now time.Time) (balances.Release, error)
	// EffectsOfBalance streams the effects posted into a balance.
	EffectsOfBalance(ctx context.Context, balanceKey string, fn func(BalanceEffect) error) error
	// EffectOf reads what an entry did to a party's balances, first balance
	// first; ledger.ErrNotFound when it reached none of them.
	EffectOf(ctx context.Context, entryID, partyID string) (BalanceEffect, error)
	// ScanFeedEffects streams a customer's balance transactions in
	// [from, to), oldest first, each with its effect on the party's first
	// balance that counted it (nil when none did).
	ScanFeedEffects(ctx context.Context, marketplace, customer, partyID string, from, to time.Time, fn func(payments.FeedEntry, *BalanceEffect) error) error
	// PendingHistory lists up to limit parties whose history is still to
	// be posted, as (marketplace, party) pairs.
	PendingHistory(ctx context.Context, limit int) ([][2]string, error)
	// LinkedTo lists, newest first, the resources of a type whose link rel
	// names target.
	LinkedTo(ctx context.Context, marketplace, target, rel, typ string, limit int) ([]payments.Resource, error)
	// BalanceAccounts reads the accounts of a balance's buckets; a bucket
	// whose account does not exist yet reads zero.
	BalanceAccounts(ctx context.Context, accountIDs []string) (map[string]int64, error)
	ListResources(ctx context.Context, q payments.ListQuery) (items []payments.Resource, total int, err error)
	Logins
	OperatorReads
	// ScanBalanceEffects streams the transactions a balance counted in
	// [from, to), oldest first, each with its effect on it.
	ScanBalanceEffects(ctx context.Context, balanceKey string, from, to time.Time, fn func(payments.FeedEntry, BalanceEffect) error) error
}

// Tx writes merchant balances inside an operation, in the transaction of
// the payments operation it is part of.
type Tx interface {
	payments.Tx
	InsertFeed(ctx context.Context, e payments.FeedEntry) error
	// CustomerFeed lists up to limit of a customer's balance transactions,
	// oldest first, as this transaction sees them.
	CustomerFeed(ctx context.Context, marketplace, customer string, limit int) ([]payments.FeedEntry, error)
	InsertBalanceEffect(ctx context.Context, be BalanceEffect) error
	// AddRelease adds to what falls due on a balance at an instant.
	AddRelease(ctx context.Context, balanceKey string, due time.Time, r balances.Release) error
	// TakeRelease reads and deletes what falls due on a balance at an
	// instant; found is false when it was taken before.
	TakeRelease(ctx context.Context, balanceKey string, due time.Time) (r balances.Release, found bool, err error)
	// TakePendingHistory forgets that a party's history is to be posted;
	// false when it was not (any more).
	TakePendingHistory(ctx context.Context, partyID string) (bool, error)
	// ClearReserveReleases forgets the reserves still to be released on a
	// balance (they were moved by hand).
	ClearReserveReleases(ctx context.Context, balanceKey string) error
	// EffectsOfSource lists what the entries of a source resource did to
	// balances.
	EffectsOfSource(ctx context.Context, sourceID string) ([]BalanceEffect, error)
	LoginTx
	AdjustmentTx
	OperatorTx
}

// op is a payments operation seen by merchant balances: its writer, and
// the balance side of its transaction.
type op struct {
	*payments.Writer
	tx Tx
	// releases, when set, gathers the releases the operation books, by
	// balance and due instant, to be booked once each at its end (see
	// flushReleases): a bulk import books one row and one job per
	// instant, not per transaction.
	releases map[releaseKey]balances.Release
	// effects, when gathering, are the balance effects to be stored at
	// the end, all at once.
	effects   []BalanceEffect
	gathering bool
}

// releaseKey is a balance and a due instant.
type releaseKey struct {
	key string
	due int64
}

// opOf gives w's operation with the balance side of its transaction.
func opOf(w *payments.Writer) (*op, error) {
	ltx, err := w.Writer.Tx()
	if err != nil {
		return nil, err
	}
	tx, ok := ltx.(Tx)
	if !ok {
		return nil, fmt.Errorf("merchants: the store's transaction (%T) does not keep merchant balances", ltx)
	}
	return &op{Writer: w, tx: tx}, nil
}

// write runs fn as one operation of the payments service for marketplace.
func (s *Service) write(ctx context.Context, marketplace string, hint []string, fn func(ctx context.Context, w *op) (any, error)) (any, error) {
	return s.pay.Write(ctx, marketplace, hint, func(ctx context.Context, pw *payments.Writer) (any, error) {
		w, err := opOf(pw)
		if err != nil {
			return nil, err
		}
		return fn(ctx, w)
	})
}

// Fed records a Balanced transaction that reached a merchant and posts it
// into the balances it reaches (payments.BalanceFeed).
func (s *Service) Fed(ctx context.Context, pw *payments.Writer, e payments.FeedEntry, source payments.Resource) error {
	w, err := opOf(pw)
	if err != nil {
		return err
	}
	return w.fed(ctx, e, source)
}

// PayoutDone ends what a payout held in the buffers of the balances it
// reached (payments.BalanceFeed).
func (s *Service) PayoutDone(ctx context.Context, pw *payments.Writer, payoutID string) error {
	w, err := opOf(pw)
	if err != nil {
		return err
	}
	return w.releaseBuffer(ctx, payoutID)
}

// Hint names what feeding an entry for merchant asks first: which
// merchants the customer is (payments.BalanceFeed).
func (s *Service) Hint(marketplace, merchant string) []string {
	return []string{payments.LinkedHint(partiesOf(marketplace, merchant))}
}

// Ready says whether the store's transactions keep merchant balances
// (payments.BalanceFeed); serve checks it before it serves.
func (s *Service) Ready(pw *payments.Writer) error {
	_, err := opOf(pw)
	return err
}

// fed records an entry of the feed and posts it.
func (w *op) fed(ctx context.Context, e payments.FeedEntry, source payments.Resource) error {
	if err := w.tx.InsertFeed(ctx, e); err != nil {
		return err
	}
	return w.postEntry(ctx, e, source)
}

// Feed lists a merchant's balance transactions, oldest first.
func (s *Service) Feed(ctx context.Context, marketplace, merchant string) ([]payments.FeedEntry, error) {
	return s.store.FeedOf(ctx, marketplace, merchant)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
