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

// microsPerHour is the width of HourlyPostings' buckets.
const microsPerHour = int64(time.Hour / time.Microsecond)

// HourlyPostings sums the posted journal of accounts per hour of
// [from, to): for each account and hour with postings, what came in
// (positive legs) and what went out (negative legs, as a positive sum).
// One range of the postings key per account, grouped in the database, so
// a month reads at most 720 sums an account whatever its traffic.
func (db *DB) HourlyPostings(ctx context.Context, accountIDs []string, from, to time.Time,
	fn func(accountID string, hour time.Time, inMinor, outMinor int64) error) error {
	if len(accountIDs) == 0 {
		return nil
	}
	args := []any{microsPerHour}
	for _, id := range accountIDs {
		args = append(args, id)
	}
	args = append(args, from.UnixMicro(), to.UnixMicro())
	rows, err := db.Query(ctx, `SELECT account_id, created_at_us / ? AS hour,
		SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END)
		FROM postings WHERE account_id IN (`+placeholders(len(accountIDs))+`) AND created_at_us >= ? AND created_at_us < ?
		GROUP BY account_id, hour ORDER BY account_id, hour`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var hour, in, out int64
		if err := rows.Scan(&id, &hour, &in, &out); err != nil {
			return err
		}
		if err := fn(id, time.UnixMicro(hour*microsPerHour).UTC(), in, out); err != nil {
			return err
		}
	}
	return rows.Err()
}
