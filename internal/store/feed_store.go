package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/poise-payments/poise/internal/payments"
)

const feedColumns = "id, marketplace_id, merchant_id, type, amount, currency, gate, source_id, occurred_at_us, endpoint_id"

// InsertFeed implements payments.FeedTx.
func (t *Tx) InsertFeed(ctx context.Context, e payments.FeedEntry) error {
	_, err := t.Exec(ctx, "INSERT INTO balance_transactions ("+feedColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.ID, e.Marketplace, e.Merchant, e.Type, e.AmountMinor, e.Currency, e.Gate, e.SourceID, e.OccurredAt.UnixMicro(), e.Endpoint)
	return err
}

// FeedOf lists a merchant's balance transactions, oldest first.
func (db *DB) FeedOf(ctx context.Context, marketplace, merchant string) ([]payments.FeedEntry, error) {
	rows, err := db.Query(ctx, "SELECT "+feedColumns+" FROM balance_transactions WHERE marketplace_id = ? AND merchant_id = ? ORDER BY occurred_at_us, id",
		marketplace, merchant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []payments.FeedEntry
	for rows.Next() {
		var e payments.FeedEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.Marketplace, &e.Merchant, &e.Type, &e.AmountMinor, &e.Currency, &e.Gate, &e.SourceID, &at, &e.Endpoint); err != nil {
			return nil, err
		}
		e.OccurredAt = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// InsertLogin implements payments.LoginTx: ErrDuplicate when taken.
func (t *Tx) InsertLogin(ctx context.Context, login, marketplace, resourceID string) error {
	_, err := t.Exec(ctx, "INSERT INTO paynet_logins (login, marketplace_id, resource_id) VALUES (?, ?, ?)", login, marketplace, resourceID)
	return err
}

// Login finds who a login belongs to.
func (db *DB) Login(ctx context.Context, login string) (marketplace, resourceID string, err error) {
	err = db.QueryRow(ctx, "SELECT marketplace_id, resource_id FROM paynet_logins WHERE login = ?", login).Scan(&marketplace, &resourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return marketplace, resourceID, err
}

// ClaimExternalID implements payments.AdjustmentTx: ErrDuplicate when the
// external ID was used before, with the adjustment that used it.
func (t *Tx) ClaimExternalID(ctx context.Context, marketplace, externalID, adjustmentID string) (string, error) {
	var existing string
	err := t.QueryRow(ctx, "SELECT adjustment_id FROM adjustment_external_ids WHERE marketplace_id = ? AND external_id = ?", marketplace, externalID).Scan(&existing)
	if err == nil {
		return existing, ErrDuplicate
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	_, err = t.Exec(ctx, "INSERT INTO adjustment_external_ids (marketplace_id, external_id, adjustment_id) VALUES (?, ?, ?)", marketplace, externalID, adjustmentID)
	return "", err
}
