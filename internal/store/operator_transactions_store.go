package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/poise-payments/poise/internal/merchants"
)

const operatorTxnColumns = `marketplace_id, external_id, id, entry_id, merchant_id, type, amount, currency, endpoint_id, gate, processor,
	card_mapping, occurred_at_us, recorded_at_us, fingerprint`

// InsertOperatorTransactions implements merchants.OperatorTx: the rows in
// statements of at most 256 (eachChunk), 15 parameters each, well under
// both databases' limit on parameters.
func (t *Tx) InsertOperatorTransactions(ctx context.Context, rows []merchants.OperatorTransaction) error {
	return eachChunk(len(rows), func(start, size int) error {
		args := make([]any, 0, size*15)
		for _, o := range rows[start : start+size] {
			args = append(args, o.Marketplace, o.ExternalID, o.ID, o.EntryID, o.Merchant, o.Type, o.AmountMinor, o.Currency, o.Endpoint,
				o.Gate, o.Processor, o.CardMapping, o.OccurredAt.UnixMicro(), o.RecordedAt.UnixMicro(), o.Fingerprint)
		}
		_, err := t.Exec(ctx, "INSERT INTO operator_transactions ("+operatorTxnColumns+") VALUES "+
			valuesList(size, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), args...)
		return err
	})
}

// OperatorTransactionsByExternalID implements merchants.OperatorTx: the
// recorded transactions of a marketplace among externalIDs, by external
// ID, as the transaction sees them.
func (t *Tx) OperatorTransactionsByExternalID(ctx context.Context, marketplace string, externalIDs []string) (map[string]merchants.OperatorTransaction, error) {
	return marketplaceRowsByID(ctx, t.Query, "SELECT "+operatorTxnColumns+" FROM operator_transactions", "external_id", marketplace, externalIDs,
		scanOperatorTxn, func(o merchants.OperatorTransaction) string { return o.ExternalID })
}

// OperatorTransaction implements merchants.Store: a recorded transaction
// by its ID, ErrNotFound when the marketplace has none such.
func (db *DB) OperatorTransaction(ctx context.Context, marketplace, id string) (merchants.OperatorTransaction, error) {
	o, err := scanOperatorTxn(db.QueryRow(ctx, "SELECT "+operatorTxnColumns+" FROM operator_transactions WHERE id = ? AND marketplace_id = ?", id, marketplace))
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

func scanOperatorTxn(row rowScanner) (merchants.OperatorTransaction, error) {
	var o merchants.OperatorTransaction
	var at, rec int64
	err := row.Scan(&o.Marketplace, &o.ExternalID, &o.ID, &o.EntryID, &o.Merchant, &o.Type, &o.AmountMinor, &o.Currency, &o.Endpoint,
		&o.Gate, &o.Processor, &o.CardMapping, &at, &rec, &o.Fingerprint)
	o.OccurredAt, o.RecordedAt = fromMicros(at), fromMicros(rec)
	return o, err
}

// AnalyzeOperatorTransactions implements merchants.Store: it refreshes the
// planner's statistics of operator_transactions. After a large import the
// table is far larger than they say, and PostgreSQL would scan it whole to
// look up a list of IDs until autovacuum catches up.
// SQLite plans the lookup by its primary key whatever its statistics, and
// its ANALYZE would take the write lock from the committer: it is left
// alone.
func (db *DB) AnalyzeOperatorTransactions(ctx context.Context) error {
	if db.dialect.name != "postgres" {
		return nil
	}
	_, err := db.write.ExecContext(ctx, "ANALYZE operator_transactions")
	return err
}

// OperatorTransactionsByID implements merchants.Store: the recorded
// transactions of a marketplace among ids, by ID, read in statements of at
// most 256 IDs.
func (db *DB) OperatorTransactionsByID(ctx context.Context, marketplace string, ids []string) (map[string]merchants.OperatorTransaction, error) {
	return marketplaceRowsByID(ctx, db.Query, "SELECT "+operatorTxnColumns+" FROM operator_transactions", "id", marketplace, ids,
		scanOperatorTxn, func(o merchants.OperatorTransaction) string { return o.ID })
}
