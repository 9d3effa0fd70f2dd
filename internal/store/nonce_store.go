package store

import (
	"context"
	"time"
)

// UseNonce records a consumer's nonce; it returns an error wrapping
// ErrDuplicate when the nonce was used before.
func (db *DB) UseNonce(ctx context.Context, consumer, nonce string, at time.Time) error {
	return db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO oauth_nonces (consumer_key, nonce, seen_at_us) VALUES (?, ?, ?)", consumer, nonce, at.UnixMicro())
		return err
	})
}

// PurgeNonces forgets nonces seen before cutoff: older requests are refused
// by their timestamp anyway.
func (db *DB) PurgeNonces(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM oauth_nonces WHERE seen_at_us < ?", cutoff.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
