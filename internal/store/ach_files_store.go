package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/poise-payments/poise/internal/payments"
)

const achFileColumns = "id, marketplace_id, cutoff_at_us, created_at_us, effective_date, file_id_modifier, entry_count, entry_hash, debit_cents, credit_cents"

func scanACHFile(row interface{ Scan(...any) error }, extra ...any) (payments.ACHFile, error) {
	var f payments.ACHFile
	var cutoff, created int64
	dest := append([]any{&f.ID, &f.Marketplace, &cutoff, &created, &f.EffectiveDate, &f.FileIDModifier,
		&f.EntryCount, &f.EntryHash, &f.DebitCents, &f.CreditCents}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return f, ErrNotFound
		}
		return f, err
	}
	f.CutoffAt, f.CreatedAt = fromMicros(cutoff), fromMicros(created)
	return f, nil
}

// ListACHFiles implements payments.ACHFileStore: newest first, without
// their content.
func (db *DB) ListACHFiles(ctx context.Context, marketplace string, limit, offset int) ([]payments.ACHFile, int, error) {
	var total int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM ach_files WHERE marketplace_id = ?", marketplace).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.Query(ctx, "SELECT "+achFileColumns+" FROM ach_files WHERE marketplace_id = ? ORDER BY created_at_us DESC, id DESC LIMIT ? OFFSET ?",
		marketplace, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []payments.ACHFile
	for rows.Next() {
		f, err := scanACHFile(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, f)
	}
	return out, total, rows.Err()
}

// GetACHFile implements payments.ACHFileStore. Another marketplace's file
// is missing, like one that does not exist.
func (db *DB) GetACHFile(ctx context.Context, marketplace, id string, withContent bool) (payments.ACHFile, error) {
	if !withContent {
		return scanACHFile(db.QueryRow(ctx, "SELECT "+achFileColumns+" FROM ach_files WHERE id = ? AND marketplace_id = ?", id, marketplace))
	}
	var content string
	f, err := scanACHFile(db.QueryRow(ctx, "SELECT "+achFileColumns+", content FROM ach_files WHERE id = ? AND marketplace_id = ?", id, marketplace), &content)
	f.Content = []byte(content)
	return f, err
}

// ACHWindowClosed reports, inside a close's transaction, whether the window
// was closed already.
func (t *Tx) ACHWindowClosed(ctx context.Context, marketplace string, cutoff time.Time) (bool, error) {
	var n int
	err := t.QueryRow(ctx, "SELECT COUNT(*) FROM ach_windows WHERE marketplace_id = ? AND cutoff_at_us = ?", marketplace, cutoff.UnixMicro()).Scan(&n)
	return n > 0, err
}

// CloseACHWindow records a window closed, with its file and entries. Two
// closes of one window racing meet at the window's primary key: the loser
// fails and, run again, finds the window closed.
func (t *Tx) CloseACHWindow(ctx context.Context, marketplace string, cutoff, now time.Time, f *payments.ACHFile, entries []payments.ACHEntry) error {
	fileID := ""
	if f != nil {
		fileID = f.ID
	}
	if _, err := t.Exec(ctx, "INSERT INTO ach_windows (marketplace_id, cutoff_at_us, file_id, closed_at_us) VALUES (?, ?, ?, ?)",
		marketplace, cutoff.UnixMicro(), fileID, now.UnixMicro()); err != nil {
		return err
	}
	if f == nil {
		return nil
	}
	if _, err := t.Exec(ctx, "INSERT INTO ach_files ("+achFileColumns+", content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		f.ID, marketplace, cutoff.UnixMicro(), f.CreatedAt.UnixMicro(), f.EffectiveDate, f.FileIDModifier,
		f.EntryCount, f.EntryHash, f.DebitCents, f.CreditCents, string(f.Content)); err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := t.Exec(ctx, "INSERT INTO ach_entries (marketplace_id, trace_number, file_id, resource_id, amount_cents) VALUES (?, ?, ?, ?, ?)",
			marketplace, e.TraceNumber, e.FileID, e.ResourceID, e.AmountCents); err != nil {
			return err
		}
	}
	return nil
}

// ACHEntryByTrace finds the entry a marketplace's files sent under a trace
// number.
func (db *DB) ACHEntryByTrace(ctx context.Context, marketplace, trace string) (payments.ACHEntry, error) {
	var e payments.ACHEntry
	err := db.QueryRow(ctx, "SELECT trace_number, file_id, resource_id, amount_cents FROM ach_entries WHERE marketplace_id = ? AND trace_number = ?",
		marketplace, trace).Scan(&e.TraceNumber, &e.FileID, &e.ResourceID, &e.AmountCents)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}
