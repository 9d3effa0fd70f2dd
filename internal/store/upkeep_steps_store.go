package store

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/payments"
)

// ScanInstruments implements payments.StepStore: cards and bank accounts of
// every marketplace (and unclaimed ones), in id order, after afterID.
func (db *DB) ScanInstruments(ctx context.Context, afterID string, limit int) ([]payments.Resource, error) {
	return collectWith(scanResource)(db.Query(ctx, "SELECT "+resourceColumns+" FROM resources WHERE id > ? AND type IN ('cards', 'bank_accounts') ORDER BY id LIMIT ?",
		afterID, limit))
}

// StepDone implements payments.StepStore.
func (db *DB) StepDone(ctx context.Context, name string) (bool, error) {
	var n int
	err := db.QueryRow(ctx, "SELECT COUNT(*) FROM upkeep_steps WHERE name = ?", name).Scan(&n)
	return n > 0, err
}

// RecordStep marks a start-up step done, in the transaction of its last
// change. Two processes finishing the same step at once both succeed.
func (t *Tx) RecordStep(ctx context.Context, name string, now time.Time) error {
	_, err := t.Exec(ctx, "INSERT INTO upkeep_steps (name, done_at_us) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, now.UnixMicro())
	return err
}
