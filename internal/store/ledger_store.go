package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/ledger"
)

// ErrDuplicate marks an insert that hit an existing key.
var ErrDuplicate = ledger.ErrDuplicate

// Ledger returns the store as the ledger sees it.
func (db *DB) Ledger() ledger.Store { return ledgerStore{db} }

type ledgerStore struct{ db *DB }

func (s ledgerStore) Update(ctx context.Context, fn func(tx ledger.Tx) error) error {
	return s.db.inCachedTx(ctx, func(tx *Tx) error { return fn(tx) })
}

const accountColumns = "id, owner, kind, currency, may_go_negative, posted, pending_in, pending_out, created_at_us, tally"

func scanAccount(row rowScanner) (ledger.Account, error) {
	var a ledger.Account
	var created int64
	err := row.Scan(&a.ID, &a.Owner, &a.Kind, &a.Currency, &a.MayGoNegative,
		&a.PostedMinor, &a.PendingInMinor, &a.PendingOutMinor, &created, &a.TallyMinor)
	a.CreatedAt = fromMicros(created)
	return a, err
}

func (s ledgerStore) Account(ctx context.Context, id string) (ledger.Account, error) {
	a, err := scanAccount(s.db.QueryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ledger.ErrNotFound
	}
	return a, err
}

func (s ledgerStore) Transfer(ctx context.Context, id string) (ledger.Transfer, error) {
	return readTransfer(ctx, s.db.read, s.db.dialect, id, "")
}

func (s ledgerStore) PostedBalanceAt(ctx context.Context, accountID string, at time.Time) (int64, error) {
	var sum sql.NullInt64
	err := s.db.QueryRow(ctx,
		"SELECT SUM(amount) FROM postings WHERE account_id = ? AND created_at_us <= ?",
		accountID, at.UnixMicro()).Scan(&sum)
	return sum.Int64, err
}

func (s ledgerStore) PendingDue(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.db.Query(ctx,
		"SELECT id FROM transfers WHERE status = 'pending' AND expires_at_us IS NOT NULL AND expires_at_us <= ? ORDER BY expires_at_us LIMIT ?",
		now.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (s ledgerStore) ScanJournal(ctx context.Context, fn func(ledger.Transfer) error) error {
	rows, err := s.db.Query(ctx, "SELECT id, kind, status, legs FROM transfers")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t ledger.Transfer
		var kind, status, legs string
		if err := rows.Scan(&t.ID, &kind, &status, &legs); err != nil {
			return err
		}
		t.Kind, t.Status = ledger.Kind(kind), ledger.Status(status)
		if t.Postings, err = decodeLegs(legs); err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s ledgerStore) ScanPostedSums(ctx context.Context, fn func(accountID string, sumMinor int64) error) error {
	rows, err := s.db.Query(ctx, "SELECT account_id, SUM(amount) FROM postings GROUP BY account_id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var aid string
		var sum int64
		if err := rows.Scan(&aid, &sum); err != nil {
			return err
		}
		if err := fn(aid, sum); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s ledgerStore) ScanAccounts(ctx context.Context, fn func(ledger.Account) error) error {
	rows, err := s.db.Query(ctx, "SELECT "+accountColumns+" FROM accounts")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryer is what reads need from a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readTransfer(ctx context.Context, q queryer, d *dialect, id, lock string) (ledger.Transfer, error) {
	var t ledger.Transfer
	var kind, status, legs string
	var pending, resolvedBy sql.NullString
	var created int64
	var expires, resolved sql.NullInt64
	err := q.QueryRowContext(ctx, d.rebind(`SELECT id, kind, status, pending_id, code, ref, legs, created_at_us, expires_at_us, resolved_at_us, resolved_by
		FROM transfers WHERE id = ?`+lock), id).
		Scan(&t.ID, &kind, &status, &pending, &t.Code, &t.Ref, &legs, &created, &expires, &resolved, &resolvedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ledger.ErrNotFound
	}
	if err != nil {
		return t, err
	}
	t.Kind, t.Status, t.PendingID, t.ResolvedBy = ledger.Kind(kind), ledger.Status(status), pending.String, resolvedBy.String
	t.CreatedAt = fromMicros(created)
	if expires.Valid {
		t.ExpiresAt = fromMicros(expires.Int64)
	}
	if resolved.Valid {
		t.ResolvedAt = fromMicros(resolved.Int64)
	}
	t.Postings, err = decodeLegs(legs)
	return t, err
}

// LockAccounts implements ledger.Tx. Rows are locked (on PostgreSQL) in ID
// order, so two batches never wait on each other in a cycle.
func (t *Tx) LockAccounts(ctx context.Context, ids []string) ([]ledger.Account, error) {
	return t.d.bulk.lockAccounts(ctx, t, ids)
}

// LockTransfer implements ledger.Tx.
func (t *Tx) LockTransfer(ctx context.Context, id string) (ledger.Transfer, error) {
	run, err := t.runner(ctx)
	if err != nil {
		return ledger.Transfer{}, err
	}
	return readTransfer(ctx, run, t.d, id, t.d.lockSuffix)
}

// InsertAccounts implements ledger.Tx.
func (t *Tx) InsertAccounts(ctx context.Context, accounts []ledger.Account) error {
	return t.d.bulk.insertAccounts(ctx, t, accounts)
}

// InsertTransfers implements ledger.Tx: the transfers, then their postings.
func (t *Tx) InsertTransfers(ctx context.Context, transfers []ledger.Transfer) error {
	if err := t.d.bulk.insertTransfers(ctx, t, transfers); err != nil {
		return err
	}
	return t.d.bulk.insertPostings(ctx, t, transfers)
}

// ResolvePending implements ledger.Tx. The status condition makes the
// database itself refuse to move a transfer out of a terminal state.
func (t *Tx) ResolvePending(ctx context.Context, id string, status ledger.Status, at time.Time, by string) error {
	res, err := t.Exec(ctx,
		"UPDATE transfers SET status = ?, resolved_at_us = ?, resolved_by = ? WHERE id = ? AND kind = 'pending' AND status = 'pending'",
		string(status), at.UnixMicro(), by, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return ledger.ErrNotPending
	}
	return nil
}

// SetBalances implements ledger.Tx. The accounts table's CHECK constraints
// refuse a forbidden negative whatever the caller computed.
func (t *Tx) SetBalances(ctx context.Context, accounts []ledger.Account) error {
	return t.d.bulk.setBalances(ctx, t, accounts)
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
