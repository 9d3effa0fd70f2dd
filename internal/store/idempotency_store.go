package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// LookupIdempotency implements idempotency.Tx: a record this transaction
// holds back first (an earlier request of the same batch with the same
// key), then the database, where the held-back rows cannot matter.
func (t *Tx) LookupIdempotency(ctx context.Context, scope, key string) (idempotency.Record, error) {
	if args, ok := t.heldBackIdempotency(scope, key); ok {
		return idempotency.Record{Scope: scope, Key: key, RequestHash: args[2].(string), StatusCode: args[3].(int),
			Response: []byte(args[4].(string)), CreatedAt: fromMicros(args[5].(int64))}, nil
	}
	return scanIdempotency(t.queryRowDirect(ctx, "SELECT "+idempotencyColumns+" FROM idempotency_keys WHERE scope = ? AND key = ?", scope, key))
}

// InsertIdempotency implements idempotency.Tx. The row is held back and
// written in bulk with the transaction's others; a key this transaction
// holds back already is a duplicate at once, one another transaction
// committed is one at the flush.
func (t *Tx) InsertIdempotency(ctx context.Context, r idempotency.Record) error {
	if _, ok := t.heldBackIdempotency(r.Scope, r.Key); ok {
		return fmt.Errorf("%w: idempotency key %s held back twice", ErrDuplicate, r.Key)
	}
	t.deferInsert("idempotency_keys", idempotencyColumns,
		r.Scope, r.Key, r.RequestHash, r.StatusCode, string(r.Response), r.CreatedAt.UnixMicro())
	return nil
}

// heldBackIdempotency finds the held-back record of scope and key.
func (t *Tx) heldBackIdempotency(scope, key string) ([]any, bool) {
	for i := len(t.pending) - 1; i >= 0; i-- {
		w := t.pending[i]
		if w.table == "idempotency_keys" && w.args[0] == scope && w.args[1] == key {
			return w.args, true
		}
	}
	return nil, false
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
