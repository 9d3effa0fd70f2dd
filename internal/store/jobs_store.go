package store

import (
	"context"
	"errors"
	"time"

	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/scheduler"
)

// ErrNotFound is returned for a missing row.
var ErrNotFound = ledger.ErrNotFound

// Schedule implements scheduler.Store.
func (db *DB) Schedule(ctx context.Context, j scheduler.Job, now time.Time) (string, error) {
	if j.ID == "" {
		j.ID = id.NewAt("JB", now)
	}
	err := db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO jobs (id, kind, key, payload, due_at_us, status, attempts, lease_until_us, last_error, created_at_us)
			VALUES (?, ?, ?, ?, ?, 'pending', 0, 0, '', ?)`, j.ID, j.Kind, j.Key, j.Payload, j.DueAt.UnixMicro(), now.UnixMicro())
		return err
	})
	if errors.Is(err, ErrDuplicate) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return j.ID, nil
}

// Claim implements scheduler.Store: a conditional update per job, so a job
// another process claimed meanwhile is simply skipped.
func (db *DB) Claim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]scheduler.Job, error) {
	rows, err := db.Query(ctx, `SELECT id, kind, key, payload, due_at_us, status, attempts FROM jobs
		WHERE status IN ('pending', 'running') AND due_at_us <= ? AND lease_until_us <= ? ORDER BY due_at_us LIMIT ?`,
		now.UnixMicro(), now.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	var candidates []scheduler.Job
	for rows.Next() {
		var j scheduler.Job
		var due int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.Key, &j.Payload, &due, &j.Status, &j.Attempts); err != nil {
			rows.Close()
			return nil, err
		}
		j.DueAt = fromMicros(due)
		candidates = append(candidates, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var claimed []scheduler.Job
	for _, j := range candidates {
		var n int64
		err := db.inTx(ctx, func(tx *Tx) error {
			res, err := tx.Exec(ctx, `UPDATE jobs SET status = 'running', lease_until_us = ?
				WHERE id = ? AND status IN ('pending', 'running') AND lease_until_us <= ?`, leaseUntil.UnixMicro(), j.ID, now.UnixMicro())
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return claimed, err
		}
		if n == 1 {
			j.Status = "running"
			claimed = append(claimed, j)
		}
	}
	return claimed, nil
}

// Fail implements scheduler.Store.
func (db *DB) Fail(ctx context.Context, jobID string, attempts int, retryAt time.Time, msg string) error {
	status, due := "pending", retryAt.UnixMicro()
	if retryAt.IsZero() {
		status, due = "failed", 0
	}
	return db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, "UPDATE jobs SET status = ?, attempts = ?, due_at_us = ?, lease_until_us = 0, last_error = ? WHERE id = ?",
			status, attempts, due, msg, jobID)
		return err
	})
}

// Done implements scheduler.Store: a job its handler did not complete in
// its own transaction is marked done after it returned.
func (db *DB) Done(ctx context.Context, jobID string, now time.Time) error {
	return db.inTx(ctx, func(tx *Tx) error {
		err := tx.CompleteJob(ctx, jobID, now)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
}

// CompleteJob marks a job done inside tx, the transaction that made its
// effect. It refuses (ErrNotFound) when the job is no longer this run's,
// which rolls the effect back: the job ran elsewhere.
func (t *Tx) CompleteJob(ctx context.Context, jobID string, now time.Time) error {
	res, err := t.Exec(ctx, "UPDATE jobs SET status = 'done', done_at_us = ?, lease_until_us = 0 WHERE id = ? AND status = 'running'", now.UnixMicro(), jobID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return ErrNotFound
	}
	return nil
}

// JobStatus reads a job's status and attempts, for tests and operators.
func (db *DB) JobStatus(ctx context.Context, jobID string) (status string, attempts int, err error) {
	err = db.QueryRow(ctx, "SELECT status, attempts FROM jobs WHERE id = ?", jobID).Scan(&status, &attempts)
	return status, attempts, err
}

// ScheduleJob adds a pending job inside tx, so that work and the job that
// follows it up commit together. A pending job of the same kind and key
// makes it a no-op.
func (t *Tx) ScheduleJob(ctx context.Context, j scheduler.Job, now time.Time) error {
	if j.ID == "" {
		j.ID = id.NewAt("JB", now)
	}
	// Held back and written in bulk with the transaction's other rows
	// (write_behind.go); a job already scheduled under its kind and key
	// stays as it is.
	t.deferInsertOr(" ON CONFLICT DO NOTHING", "jobs", "id, kind, key, payload, due_at_us, status, attempts, lease_until_us, last_error, created_at_us",
		j.ID, j.Kind, j.Key, j.Payload, j.DueAt.UnixMicro(), "pending", 0, 0, "", now.UnixMicro())
	return nil
}

// ShiftJobs brings the pending jobs of a marketplace (jobs name their
// marketplace in their payload) forward by d, when its test clock
// advances by d: work due at a time of the marketplace falls due when the
// marketplace's clock reaches it.
func (t *Tx) ShiftJobs(ctx context.Context, marketplace string, d time.Duration) error {
	_, err := t.Exec(ctx, "UPDATE jobs SET due_at_us = due_at_us - ? WHERE payload = ? AND status IN ('pending', 'running')", d.Microseconds(), marketplace)
	return err
}
