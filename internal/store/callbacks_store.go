package store

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/payments"
)

// UndispatchedEvents implements events.Store: the oldest events whose
// deliveries are not made yet.
func (db *DB) UndispatchedEvents(ctx context.Context, limit int) ([]payments.Resource, error) {
	return collectWith(scanResource)(db.Query(ctx, "SELECT "+resourceColumns+" FROM resources WHERE type = 'events' AND status = 'pending' ORDER BY created_at_us LIMIT ?", limit))
}

const deliveryColumns = "id, marketplace_id, event_id, callback_id, status, attempts, next_attempt_us, created_at_us"

// DispatchEvents implements events.Store. The status condition makes a
// second dispatcher (another process) skip an event already dispatched.
func (db *DB) DispatchEvents(ctx context.Context, dispatches []events.Dispatch) error {
	return db.inTx(ctx, func(tx *Tx) error {
		for _, dp := range dispatches {
			res, err := tx.Exec(ctx, "UPDATE resources SET status = 'dispatched' WHERE id = ? AND type = 'events' AND status = 'pending'", dp.EventID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				if err != nil {
					return err
				}
				continue
			}
			for _, d := range dp.Deliveries {
				if _, err := tx.Exec(ctx, "INSERT INTO callback_deliveries ("+deliveryColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
					d.ID, d.Marketplace, d.EventID, d.CallbackID, d.Status, d.Attempts, d.NextAttempt.UnixMicro(), d.CreatedAt.UnixMicro()); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (db *DB) scanDeliveries(ctx context.Context, query string, args ...any) ([]events.Delivery, error) {
	return collectWith(func(row rowScanner) (events.Delivery, error) {
		var d events.Delivery
		var next, created int64
		err := row.Scan(&d.ID, &d.Marketplace, &d.EventID, &d.CallbackID, &d.Status, &d.Attempts, &next, &created)
		d.NextAttempt, d.CreatedAt = fromMicros(next), fromMicros(created)
		return d, err
	})(db.Query(ctx, query, args...))
}

// DueDeliveries implements events.Store: due deliveries that no other
// process holds a live lease on.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, owner string, limit int) ([]events.Delivery, error) {
	return db.scanDeliveries(ctx, "SELECT "+deliveryColumns+" FROM callback_deliveries WHERE status IN ('pending', 'retrying') AND next_attempt_us <= ? AND (lease_owner = ? OR lease_owner = '' OR leased_until_us <= ?) ORDER BY next_attempt_us LIMIT ?",
		now.UnixMicro(), owner, now.UnixMicro(), limit)
}

// ClaimDelivery implements events.Store. The lease conditions are checked
// in the UPDATE itself, so of two processes claiming at once one wins.
func (db *DB) ClaimDelivery(ctx context.Context, d events.Delivery, owner string, now, until time.Time) (bool, error) {
	claimed := false
	err := db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, "UPDATE callback_deliveries SET lease_owner = ?, leased_until_us = ? WHERE id = ? AND status IN ('pending', 'retrying') AND attempts = ? AND (lease_owner = ? OR lease_owner = '' OR leased_until_us <= ?)",
			owner, until.UnixMicro(), d.ID, d.Attempts, owner, now.UnixMicro())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
}

// DeliveriesOf implements events.Store.
func (db *DB) DeliveriesOf(ctx context.Context, eventID string) ([]events.Delivery, error) {
	return db.scanDeliveries(ctx, "SELECT "+deliveryColumns+" FROM callback_deliveries WHERE event_id = ? ORDER BY created_at_us, id", eventID)
}

// RecordAttempt implements events.Store.
func (db *DB) RecordAttempt(ctx context.Context, d events.Delivery, a events.Attempt) error {
	return db.inTx(ctx, func(tx *Tx) error {
		// The attempt is over: its lease ends, and the next attempt, if
		// any, is any process's to take.
		if _, err := tx.Exec(ctx, "UPDATE callback_deliveries SET status = ?, attempts = ?, next_attempt_us = ?, lease_owner = '', leased_until_us = 0 WHERE id = ?",
			d.Status, d.Attempts, d.NextAttempt.UnixMicro(), d.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO callback_attempts (delivery_id, attempt, attempted_at_us, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
			a.DeliveryID, a.Attempt, a.AttemptedAt.UnixMicro(), a.StatusCode, a.Error, a.DurationMs)
		return err
	})
}

// AttemptsOf lists the attempts of a delivery, oldest first.
func (db *DB) AttemptsOf(ctx context.Context, deliveryID string) ([]events.Attempt, error) {
	return collectWith(func(row rowScanner) (events.Attempt, error) {
		var a events.Attempt
		var at int64
		err := row.Scan(&a.DeliveryID, &a.Attempt, &at, &a.StatusCode, &a.Error, &a.DurationMs)
		a.AttemptedAt = fromMicros(at)
		return a, err
	})(db.Query(ctx, "SELECT delivery_id, attempt, attempted_at_us, status_code, error, duration_ms FROM callback_attempts WHERE delivery_id = ? ORDER BY attempt", deliveryID))
}
