package store

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
)

// ScanBalanceEffects implements merchants.Store: the transactions a
// balance counted in [from, to), oldest first, each with its effect on
// that balance, in memory bounded by one row.
func (db *DB) ScanBalanceEffects(ctx context.Context, balanceKey string, from, to time.Time, fn func(payments.FeedEntry, merchants.BalanceEffect) error) error {
	rows, err := db.Query(ctx, `SELECT t.id, t.marketplace_id, t.merchant_id, t.type, t.amount, t.currency, t.gate, t.source_id, t.occurred_at_us, t.endpoint_id,
		e.entry_id, e.balance_key, e.party_id, e.balance_name, e.source_id, e.rule, e.signed_amount, e.fee, e.reserve, e.sth, e.live, e.buffer,
		e.reserve_until_us, e.sth_until_us
		FROM balance_effects e JOIN balance_transactions t ON t.id = e.entry_id
		WHERE e.balance_key = ? AND t.occurred_at_us >= ? AND t.occurred_at_us < ?
		ORDER BY t.occurred_at_us, t.id`, balanceKey, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e payments.FeedEntry
		var be merchants.BalanceEffect
		var at, rrUntil, sthUntil int64
		if err := rows.Scan(&e.ID, &e.Marketplace, &e.Merchant, &e.Type, &e.AmountMinor, &e.Currency, &e.Gate, &e.SourceID, &at, &e.Endpoint,
			&be.EntryID, &be.BalanceKey, &be.PartyID, &be.BalanceName, &be.SourceID, &be.RuleJSON, &be.SignedMinor, &be.FeeMinor,
			&be.ReserveMinor, &be.STHMinor, &be.LiveMinor, &be.BufferMinor, &rrUntil, &sthUntil); err != nil {
			return err
		}
		e.OccurredAt = fromMicros(at)
		be.ReserveUntil, be.STHUntil = timeOrZero(rrUntil), timeOrZero(sthUntil)
		if be.Rule, err = merchants.DecodeRule(be.RuleJSON); err != nil {
			return err
		}
		if err := fn(e, be); err != nil {
			return err
		}
	}
	return rows.Err()
}
