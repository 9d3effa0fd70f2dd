package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
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

// maxFlowIntervals bounds the intervals one IntervalPostings reads: a
// chart's 30 days and the one before, with room to spare.
const maxFlowIntervals = 64

// IntervalPostings reads an account's posted balance and, for each
// interval [bounds[i], bounds[i+1]) of its posted journal (the last one
// open: [bounds[len-1], ∞)), what came in and what went out, in one
// statement and so from one snapshot: the balance and the sums agree even
// while the committer writes. Each interval is one range of the postings
// key. An account nothing has posted to yet holds nothing.
func (db *DB) IntervalPostings(ctx context.Context, accountID string, bounds []time.Time,
	fn func(interval int, inMinor, outMinor int64)) (postedMinor int64, err error) {
	if len(bounds) == 0 || len(bounds) > maxFlowIntervals {
		return 0, fmt.Errorf("store: %d intervals of the journal asked, want 1 to %d", len(bounds), maxFlowIntervals)
	}
	// One aggregate over one key range per interval: each branch is
	// planned alone, as the index range it is, on both stores.
	var q strings.Builder
	q.WriteString("SELECT -1, posted, 0 FROM accounts WHERE id = ?")
	args := []any{accountID}
	for i, lo := range bounds {
		hi := int64(math.MaxInt64)
		if i+1 < len(bounds) {
			hi = bounds[i+1].UnixMicro()
		}
		q.WriteString(` UNION ALL SELECT ` + strconv.Itoa(i) + `, COALESCE(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END), 0)
			FROM postings WHERE account_id = ? AND created_at_us >= ? AND created_at_us < ?`)
		args = append(args, accountID, lo.UnixMicro(), hi)
	}
	rows, err := db.Query(ctx, q.String(), args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var in, out int64
		if err := rows.Scan(&i, &in, &out); err != nil {
			return 0, err
		}
		if i < 0 {
			postedMinor = in
			continue
		}
		fn(i, in, out)
	}
	return postedMinor, rows.Err()
}
