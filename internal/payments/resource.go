// Package payments holds marketplaces and their resources: customers,
// funding instruments, orders and the transactions that move money
// between them. Resources are documents; money moves only through the
// ledger, in the same committer operation as the resource change.
package payments

import (
	"context"
	"time"

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
	ACHFileStore
	achEntryReader
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
	// HasCallbacks reports whether marketplace has a callback that is not
	// deleted, as this transaction sees it.
	HasCallbacks(ctx context.Context, marketplace string) (bool, error)
	JobShifter
	stepTx
	achWindowTx
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
