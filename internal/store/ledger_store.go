package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	return s.db.inTx(ctx, func(tx *Tx) error { return fn(tx) })
}

const accountColumns = "id, owner, kind, currency, may_go_negative, posted, pending_in, pending_out, created_at_us"

func scanAccount(row interface{ Scan(...any) error }) (ledger.Account, error) {
	var a ledger.Account
	var created int64
	err := row.Scan(&a.ID, &a.Owner, &a.Kind, &a.Currency, &a.MayGoNegative,
		&a.PostedMinor, &a.PendingInMinor, &a.PendingOutMinor, &created)
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
		"SELECT SUM(amount) FROM postings WHERE account_id = ? AND moves_posted AND created_at_us <= ?",
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
	rows, err := s.db.Query(ctx, `SELECT t.id, t.kind, t.status, p.account_id, p.currency, p.amount
		FROM transfers t LEFT JOIN postings p ON p.transfer_id = t.id ORDER BY t.id, p.seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cur ledger.Transfer
	for rows.Next() {
		var tid, kind, status string
		var account, currency sql.NullString
		var amount sql.NullInt64
		if err := rows.Scan(&tid, &kind, &status, &account, &currency, &amount); err != nil {
			return err
		}
		if tid != cur.ID {
			if cur.ID != "" {
				if err := fn(cur); err != nil {
					return err
				}
			}
			cur = ledger.Transfer{ID: tid, Kind: ledger.Kind(kind), Status: ledger.Status(status)}
		}
		if account.Valid {
			cur.Postings = append(cur.Postings, ledger.Posting{AccountID: account.String, Currency: currency.String, AmountMinor: amount.Int64})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur.ID != "" {
		return fn(cur)
	}
	return nil
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
	var kind, status string
	var pending, resolvedBy sql.NullString
	var created int64
	var expires, resolved sql.NullInt64
	err := q.QueryRowContext(ctx, d.rebind(`SELECT id, kind, status, pending_id, code, ref, created_at_us, expires_at_us, resolved_at_us, resolved_by
		FROM transfers WHERE id = ?`+lock), id).
		Scan(&t.ID, &kind, &status, &pending, &t.Code, &t.Ref, &created, &expires, &resolved, &resolvedBy)
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
	rows, err := q.QueryContext(ctx, d.rebind("SELECT account_id, currency, amount FROM postings WHERE transfer_id = ? ORDER BY seq"), id)
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var p ledger.Posting
		if err := rows.Scan(&p.AccountID, &p.Currency, &p.AmountMinor); err != nil {
			return t, err
		}
		t.Postings = append(t.Postings, p)
	}
	return t, rows.Err()
}

// LockAccounts implements ledger.Tx. Rows come back, and on PostgreSQL are
// locked, in ID order, so two batches never wait on each other in a cycle.
func (t *Tx) LockAccounts(ctx context.Context, ids []string) ([]ledger.Account, error) {
	out := make([]ledger.Account, 0, len(ids))
	for start := 0; start < len(ids); start += t.d.maxParams {
		chunk := ids[start:min(len(ids), start+t.d.maxParams)]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := t.Query(ctx, "SELECT "+accountColumns+" FROM accounts WHERE id IN ("+placeholders(len(chunk))+") ORDER BY id"+t.d.lockSuffix, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LockTransfer implements ledger.Tx.
func (t *Tx) LockTransfer(ctx context.Context, id string) (ledger.Transfer, error) {
	return readTransfer(ctx, t.tx, t.d, id, t.d.lockSuffix)
}

// InsertAccounts implements ledger.Tx.
func (t *Tx) InsertAccounts(ctx context.Context, accounts []ledger.Account) error {
	rows := make([]any, 0, len(accounts)*9)
	for _, a := range accounts {
		rows = append(rows, a.ID, a.Owner, a.Kind, a.Currency, a.MayGoNegative,
			a.PostedMinor, a.PendingInMinor, a.PendingOutMinor, a.CreatedAt.UnixMicro())
	}
	return t.insertRows(ctx, "accounts", accountColumns, 9, rows)
}

// InsertTransfers implements ledger.Tx: the transfers, then their postings,
// each in as few statements as the parameter limit allows.
func (t *Tx) InsertTransfers(ctx context.Context, transfers []ledger.Transfer) error {
	rows := make([]any, 0, len(transfers)*10)
	postings := make([]any, 0, len(transfers)*2*7)
	for _, tr := range transfers {
		rows = append(rows, tr.ID, string(tr.Kind), string(tr.Status), nullString(tr.PendingID), tr.Code, tr.Ref,
			tr.CreatedAt.UnixMicro(), nullMicros(tr.ExpiresAt), nullMicros(tr.ResolvedAt), nullString(tr.ResolvedBy))
		moves := tr.Kind == ledger.KindPosted || tr.Kind == ledger.KindPost
		for i, p := range tr.Postings {
			postings = append(postings, tr.ID, i, p.AccountID, p.Currency, p.AmountMinor, moves, tr.CreatedAt.UnixMicro())
		}
	}
	if err := t.insertRows(ctx, "transfers",
		"id, kind, status, pending_id, code, ref, created_at_us, expires_at_us, resolved_at_us, resolved_by", 10, rows); err != nil {
		return err
	}
	return t.insertRows(ctx, "postings",
		"transfer_id, seq, account_id, currency, amount, moves_posted, created_at_us", 7, postings)
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

// SetBalances implements ledger.Tx with one UPDATE ... FROM (VALUES ...)
// per chunk. The accounts table's CHECK constraints refuse a forbidden
// negative whatever the caller computed.
func (t *Tx) SetBalances(ctx context.Context, accounts []ledger.Account) error {
	const cols = 4
	per := t.d.maxParams / cols
	for start := 0; start < len(accounts); start += per {
		chunk := accounts[start:min(len(accounts), start+per)]
		var b strings.Builder
		b.WriteString("UPDATE accounts SET posted = v.column2, pending_in = v.column3, pending_out = v.column4 FROM (VALUES ")
		args := make([]any, 0, len(chunk)*cols)
		for i, a := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))")
			args = append(args, a.ID, a.PostedMinor, a.PendingInMinor, a.PendingOutMinor)
		}
		b.WriteString(") AS v WHERE accounts.id = v.column1")
		res, err := t.Exec(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n != int64(len(chunk)) {
			return fmt.Errorf("store: updated %d balances, expected %d", n, len(chunk))
		}
	}
	return nil
}

// Savepoint implements ledger.Tx.
func (t *Tx) Savepoint(ctx context.Context, name string) error {
	_, err := t.tx.ExecContext(ctx, "SAVEPOINT "+name)
	return err
}

// RollbackTo implements ledger.Tx.
func (t *Tx) RollbackTo(ctx context.Context, name string) error {
	_, err := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name)
	return err
}

// Release implements ledger.Tx.
func (t *Tx) Release(ctx context.Context, name string) error {
	_, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// insertRows inserts flat rows of width columns, in chunks that keep each
// statement under the dialect's parameter limit.
func (t *Tx) insertRows(ctx context.Context, table, columns string, width int, flat []any) error {
	per := t.d.maxParams / width
	row := "(" + placeholders(width) + ")"
	for start := 0; start < len(flat); start += per * width {
		end := min(len(flat), start+per*width)
		n := (end - start) / width
		var b strings.Builder
		b.Grow(len(table) + len(columns) + 24 + n*(len(row)+1))
		b.WriteString("INSERT INTO ")
		b.WriteString(table)
		b.WriteString(" (")
		b.WriteString(columns)
		b.WriteString(") VALUES ")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(row)
		}
		if _, err := t.Exec(ctx, b.String(), flat[start:end]...); err != nil {
			return err
		}
	}
	return nil
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
