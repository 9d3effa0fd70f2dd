package store

import (
	"context"

	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
)

// InsertFeedEntries implements merchants.OperatorTx: many feed entries in
// statements of at most 256 rows (eachChunk), for a bulk import.
func (t *Tx) InsertFeedEntries(ctx context.Context, rows []payments.FeedEntry) error {
	return eachChunk(len(rows), func(start, size int) error {
		args := make([]any, 0, size*10)
		for _, e := range rows[start : start+size] {
			args = append(args, e.ID, e.Marketplace, e.Merchant, e.Type, e.AmountMinor, e.Currency, e.Gate, e.SourceID, e.OccurredAt.UnixMicro(), e.Endpoint)
		}
		_, err := t.Exec(ctx, "INSERT INTO balance_transactions ("+feedColumns+") VALUES "+valuesList(size, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), args...)
		return err
	})
}

// InsertBalanceEffects implements merchants.OperatorTx: many balance
// effects in statements of at most 256 rows.
func (t *Tx) InsertBalanceEffects(ctx context.Context, rows []merchants.BalanceEffect) error {
	return eachChunk(len(rows), func(start, size int) error {
		args := make([]any, 0, size*14)
		for _, be := range rows[start : start+size] {
			args = append(args, be.EntryID, be.BalanceKey, be.PartyID, be.BalanceName, be.SourceID, be.RuleJSON, be.SignedMinor, be.FeeMinor,
				be.ReserveMinor, be.STHMinor, be.LiveMinor, be.BufferMinor, microsOrZero(be.ReserveUntil), microsOrZero(be.STHUntil))
		}
		_, err := t.Exec(ctx, "INSERT INTO balance_effects ("+effectColumns+") VALUES "+
			valuesList(size, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), args...)
		return err
	})
}
