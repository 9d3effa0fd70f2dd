package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/ledger"
)

const idempotencyColumns = "scope, key, request_hash, status_code, response, created_at_us"

func scanIdempotency(row rowScanner) (idempotency.Record, error) {
	var r idempotency.Record
	var body string
	var created int64
	err := row.Scan(&r.Scope, &r.Key, &r.RequestHash, &r.StatusCode, &body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ledger.ErrNotFound
	}
	r.Response, r.CreatedAt = []byte(body), fromMicros(created)
	return r, err
}

// LookupIdempotency implements idempotency.Store.
func (db *DB) LookupIdempotency(ctx context.Context, scope, key string) (idempotency.Record, error) {
	return scanIdempotency(db.QueryRow(ctx, "SELECT "+idempotencyColumns+" FROM idempotency_keys WHERE scope = ? AND key = ?", scope, key))
}

// LookupIdempotency implements idempotency.Tx.
func (t *Tx) LookupIdempotency(ctx context.Context, scope, key string) (idempotency.Record, error) {
	return scanIdempotency(t.QueryRow(ctx, "SELECT "+idempotencyColumns+" FROM idempotency_keys WHERE scope = ? AND key = ?", scope, key))
}

// InsertIdempotency implements idempotency.Tx.
func (t *Tx) InsertIdempotency(ctx context.Context, r idempotency.Record) error {
	_, err := t.Exec(ctx, "INSERT INTO idempotency_keys ("+idempotencyColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		r.Scope, r.Key, r.RequestHash, r.StatusCode, string(r.Response), r.CreatedAt.UnixMicro())
	return err
}

// PurgeIdempotency deletes records created before cutoff and says how many.
func (db *DB) PurgeIdempotency(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM idempotency_keys WHERE created_at_us < ?", cutoff.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
