package store

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/merchants"
)

// UpcomingReleases implements merchants.ReleaseCalendar: one range of the
// balance_releases primary key.
func (db *DB) UpcomingReleases(ctx context.Context, balanceKey string, after time.Time, limit int) ([]merchants.DatedRelease, error) {
	rows, err := db.Query(ctx, `SELECT due_at_us, sth_amount, rr_amount FROM balance_releases
		WHERE balance_key = ? AND due_at_us > ? ORDER BY due_at_us LIMIT ?`, balanceKey, after.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []merchants.DatedRelease
	for rows.Next() {
		var r merchants.DatedRelease
		var at int64
		if err := rows.Scan(&at, &r.STHMinor, &r.RRMinor); err != nil {
			return nil, err
		}
		r.DueAt = fromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
