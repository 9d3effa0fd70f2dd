package ledger

import (
	"context"
	"errors"
	"time"
)

// Clock tells the ledger the time; internal/clock provides the real one and
// the manual clocks tests and test marketplaces use.
type Clock interface{ Now() time.Time }

// Store is what the ledger needs from a database. Implementations live in
// internal/store; the ledger itself knows no SQL.
type Store interface {
	// Update runs fn in one write transaction and commits it. It retries fn
	// from the start when the database reports a serialization failure, a
	// deadlock or a busy lock, so fn must have no effect outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	Account(ctx context.Context, id string) (Account, error)
	Transfer(ctx context.Context, id string) (Transfer, error)
	// PostedBalanceAt sums the posted amounts of an account up to and
	// including instant at.
	PostedBalanceAt(ctx context.Context, accountID string, at time.Time) (int64, error)
	// PendingDue lists pending transfers whose expiry is at or before now.
	PendingDue(ctx context.Context, now time.Time, limit int) ([]string, error)
	// ScanJournal streams every transfer with its postings, in no set
	// order, for the offline verifier.
	ScanJournal(ctx context.Context, fn func(Transfer) error) error
	// ScanPostedSums streams, per account, the sum of its rows in the
	// per-account posted journal, which the verifier checks against the
	// transfers.
	ScanPostedSums(ctx context.Context, fn func(accountID string, sumMinor int64) error) error
	// ScanAccounts streams every account with its materialized balance.
	ScanAccounts(ctx context.Context, fn func(Account) error) error
}

// Tx is one write transaction. Locks taken through it hold until commit, so
// two processes sharing a database never act on the same balance at once.
type Tx interface {
	// LockAccounts reads the named accounts and locks them against other
	// writers until the transaction ends. Implementations lock in ID order,
	// so two batches never deadlock on each other's accounts. Missing IDs
	// are simply absent from the result.
	LockAccounts(ctx context.Context, ids []string) ([]Account, error)
	// LockTransfer reads a transfer with its postings and locks it.
	LockTransfer(ctx context.Context, id string) (Transfer, error)
	InsertAccounts(ctx context.Context, accounts []Account) error
	InsertTransfers(ctx context.Context, transfers []Transfer) error
	// ResolvePending moves a stored pending transfer to a terminal status.
	// It must refuse (ErrNotPending) when the transfer is no longer pending,
	// which guards terminal states in the database itself.
	ResolvePending(ctx context.Context, id string, status Status, at time.Time, by string) error
	// SetBalances writes the balances of accounts locked in this
	// transaction. The database also checks every account's rule, so a bug
	// here cannot store a forbidden negative.
	SetBalances(ctx context.Context, accounts []Account) error
	// Prefetch reads and locks, in one go, what the batch's hints name (ids,
	// sorted, each once): the accounts, which it returns as LockAccounts
	// does, and the rows of the store's own, so that the batch's
	// operations find them without a round trip each. A hint may also name,
	// in the store's own terms, a question an operation will ask, which
	// the store may answer in the same go. IDs it keeps nothing under, and
	// hints it does not know, are ignored.
	Prefetch(ctx context.Context, ids []string) ([]Account, error)
	Savepoint(ctx context.Context, name string) error
	RollbackTo(ctx context.Context, name string) error
	Release(ctx context.Context, name string) error
}

var (
	// ErrCommitLost is wrapped by a store's error when a transaction's
	// COMMIT got no answer. The store first finds out whether it committed
	// (and then reports success); this error means it did not, or that
	// this could not be established. Either way its operations must not be
	// run again by the committer: a retry is the client's, with its
	// idempotency key.
	ErrCommitLost = errors.New("ledger: the commit's answer was lost")
	// ErrNotFound is returned by stores for a missing row.
	ErrNotFound = errors.New("ledger: not found")
	// ErrNotPending is returned by Tx.ResolvePending for a transfer already resolved.
	ErrNotPending = errors.New("ledger: transfer is not pending")
	// ErrDuplicate is returned by stores when an insert hits an existing key.
	ErrDuplicate = errors.New("ledger: duplicate key")
)
