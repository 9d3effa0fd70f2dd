// Package ledger is Poise's double-entry ledger: accounts with materialized
// balances, immutable transfers whose postings sum to zero, two-phase
// (pending) transfers, and the batching committer every write of money goes
// through. It knows neither HTTP nor SQL; a Store gives it a database.
package ledger

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
)

// Ledger is the entry point for moving money.
type Ledger struct {
	store     Store
	clock     Clock
	committer *Committer
}

// New returns a ledger writing through a new committer over store.
func New(store Store, clk Clock, opts CommitterOptions) *Ledger {
	return &Ledger{store: store, clock: clk, committer: NewCommitter(store, clk, opts)}
}

// Now is the ledger's time: the instant its next batch would carry.
func (l *Ledger) Now() time.Time { return l.clock.Now() }

// Close drains the committer: queued work is finished, new work refused.
func (l *Ledger) Close(ctx context.Context) error { return l.committer.Close(ctx) }

// Committer exposes the write path for operations that combine money with
// writes of their own (a debit and its event, an idempotency record).
func (l *Ledger) Committer() *Committer { return l.committer }

// Do runs op through the committer; see Committer.Do.
func (l *Ledger) Do(ctx context.Context, hint []string, op Op) (any, error) {
	return l.committer.Do(ctx, hint, op)
}

// CreateAccount opens an account.
func (l *Ledger) CreateAccount(ctx context.Context, a Account) (Account, error) {
	v, err := l.committer.Do(ctx, nil, func(_ context.Context, w *Writer) (any, error) {
		return w.CreateAccount(a)
	})
	if err != nil {
		return Account{}, err
	}
	return v.(Account), nil
}

// Transfer moves (or, when req.Pending, reserves) money.
func (l *Ledger) Transfer(ctx context.Context, req TransferRequest) (Transfer, error) {
	hint := make([]string, len(req.Postings))
	for i, p := range req.Postings {
		hint[i] = p.AccountID
	}
	return l.transfer(ctx, hint, func(w *Writer) (Transfer, error) { return w.Transfer(req) })
}

// Post posts a pending transfer: amountMinor of it, or all when zero.
func (l *Ledger) Post(ctx context.Context, pendingID string, amountMinor int64) (Transfer, error) {
	return l.transfer(ctx, nil, func(w *Writer) (Transfer, error) { return w.Post(pendingID, amountMinor) })
}

// Void releases a pending transfer.
func (l *Ledger) Void(ctx context.Context, pendingID string) (Transfer, error) {
	return l.transfer(ctx, nil, func(w *Writer) (Transfer, error) { return w.Void(pendingID) })
}

func (l *Ledger) transfer(ctx context.Context, hint []string, fn func(w *Writer) (Transfer, error)) (Transfer, error) {
	v, err := l.committer.Do(ctx, hint, func(_ context.Context, w *Writer) (any, error) { return fn(w) })
	if err != nil {
		return Transfer{}, err
	}
	return v.(Transfer), nil
}

// maxExpiriesPerSweep bounds how many due holds one listing returns; a
// backlog after downtime is worked through in sweeps of this size, so it
// never becomes one giant list in memory.
const maxExpiriesPerSweep = 1000

// ExpireDue expires every pending transfer whose time has come and reports
// how many it expired. A transfer posted or voided meanwhile is skipped.
func (l *Ledger) ExpireDue(ctx context.Context) (int, error) {
	expired := 0
	for {
		due, err := l.store.PendingDue(ctx, l.clock.Now(), maxExpiriesPerSweep)
		if err != nil {
			return expired, err
		}
		for _, pid := range due {
			_, err := l.transfer(ctx, nil, func(w *Writer) (Transfer, error) { return w.Expire(pid) })
			switch {
			case err == nil:
				expired++
			case apperr.Is(err, apperr.Conflict):
				// resolved since it was listed
			default:
				return expired, err
			}
		}
		if len(due) < maxExpiriesPerSweep {
			return expired, nil
		}
	}
}

// Account reads an account and its balance: one row, whatever its history.
func (l *Ledger) Account(ctx context.Context, id string) (Account, error) {
	a, err := l.store.Account(ctx, id)
	if err == ErrNotFound {
		return Account{}, apperr.New(apperr.NotFound, "account %s does not exist", id)
	}
	return a, err
}

// Transfer reads a transfer with its postings.
func (l *Ledger) GetTransfer(ctx context.Context, id string) (Transfer, error) {
	t, err := l.store.Transfer(ctx, id)
	if err == ErrNotFound {
		return Transfer{}, apperr.New(apperr.NotFound, "transfer %s does not exist", id)
	}
	return t, err
}

// PostedBalanceAt returns an account's posted balance as of instant at,
// summed from the journal.
func (l *Ledger) PostedBalanceAt(ctx context.Context, accountID string, at time.Time) (int64, error) {
	if _, err := l.Account(ctx, accountID); err != nil {
		return 0, err
	}
	return l.store.PostedBalanceAt(ctx, accountID, at)
}
