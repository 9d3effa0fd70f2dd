// Package payments holds marketplaces and their resources: customers,
// funding instruments, orders and the transactions that move money
// between them. Resources are documents; money moves only through the
// ledger, in the same committer operation as the resource change.
package payments

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/scheduler"
)

// Resource is one stored resource of a marketplace.
type Resource struct {
	ID          string
	Marketplace string
	// Type is the plural resource name ("customers", "debits", ...).
	Type      string
	Status    string
	Hidden    bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// Fields are the resource's own fields as the API shows them, except
	// id, href, created_at, updated_at and links.
	Fields map[string]any
	// Links name related resources by id; an empty string is a null link.
	Links map[string]string
	// Private holds what the server keeps about a resource but never shows
	// (an encrypted card number, the ledger transfer behind a debit, what a
	// test instrument is set to do).
	Private map[string]any
}

// Link returns the id a link names, or "".
func (r *Resource) Link(rel string) string { return r.Links[rel] }

// Store reads resources outside a write transaction.
type Store interface {
	GetResource(ctx context.Context, marketplace, id string) (Resource, error)
	ListResources(ctx context.Context, q ListQuery) (items []Resource, total int, err error)
	APIKeyBySecretHash(ctx context.Context, hash string) (APIKey, error)
	// ListAPIKeys reads live keys of q.Marketplace; of q only IDs, Filters,
	// Order, Limit and Offset apply.
	ListAPIKeys(ctx context.Context, q ListQuery) ([]APIKey, int, error)
	LookupIdempotency(ctx context.Context, scope, key string) (idempotency.Record, error)
	BalanceReads
	Logins
}

// BalanceReads are the reads of merchant balances outside an operation.
type BalanceReads interface {
	// FeedOf lists a customer's balance transactions, oldest first.
	FeedOf(ctx context.Context, marketplace, customer string) ([]FeedEntry, error)
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
	ScanFeedEffects(ctx context.Context, marketplace, customer, partyID string, from, to time.Time, fn func(FeedEntry, *BalanceEffect) error) error
	// PendingHistory lists up to limit parties whose history is still to
	// be posted, as (marketplace, party) pairs.
	PendingHistory(ctx context.Context, limit int) ([][2]string, error)
	// LinkedTo lists, newest first, the resources of a type whose link rel
	// names target.
	LinkedTo(ctx context.Context, marketplace, target, rel, typ string, limit int) ([]Resource, error)
	// BalanceAccounts reads the accounts of a balance's buckets; a bucket
	// whose account does not exist yet reads zero.
	BalanceAccounts(ctx context.Context, accountIDs []string) (map[string]int64, error)
}

// Tx writes resources inside a committer operation. Reads through it lock
// the row, so an operation checking a rule (a refund against what is left
// of its debit) holds it until commit, also against other processes.
type Tx interface {
	LockResource(ctx context.Context, marketplace, id string) (Resource, error)
	InsertResource(ctx context.Context, r Resource) error
	UpdateResource(ctx context.Context, r Resource) error
	InsertAPIKey(ctx context.Context, k APIKey) error
	UpdateAPIKey(ctx context.Context, k APIKey) error
	// ScheduleJob adds due work that follows this transaction up (an ACH
	// transfer settling days later), committed with it.
	ScheduleJob(ctx context.Context, j scheduler.Job, now time.Time) error
	// CompleteJob marks a job done in the transaction of its effect.
	CompleteJob(ctx context.Context, jobID string, now time.Time) error
	// LinkedTo lists, newest first, the resources of a type whose link rel
	// names target, as this transaction sees them (no lock).
	LinkedTo(ctx context.Context, marketplace, target, rel, typ string, limit int) ([]Resource, error)
	BalanceTx
}

// BalanceTx writes merchant balances inside an operation.
type BalanceTx interface {
	InsertFeed(ctx context.Context, e FeedEntry) error
	// CustomerFeed lists up to limit of a customer's balance transactions,
	// oldest first, as this transaction sees them.
	CustomerFeed(ctx context.Context, marketplace, customer string, limit int) ([]FeedEntry, error)
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
	JobShifter
}

// APIKey authenticates a client. Only a hash of its secret is stored.
type APIKey struct {
	ID          string
	SecretHash  string
	Marketplace string
	Meta        map[string]string
	CreatedAt   time.Time
	Deleted     bool
}
