package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/ledger"
)

// A COMMIT can succeed on the server while its answer never reaches the
// client: the connection drops after COMMIT was sent, the server is shut
// down, or the wait for a synchronous standby is cancelled. Taking that
// error for a failure and running the work again would apply it twice; taking
// it for success would acknowledge work a failover lost.
//
// So every PostgreSQL write transaction inserts a commit marker, a row
// with an ID of its own. When its COMMIT fails without a definite answer,
// the store asks the database, on another connection, by inserting the
// same marker with ON CONFLICT DO NOTHING. That insert waits for the
// original transaction if it is still finishing, then either finds its
// marker (it committed) or takes the ID itself, so that the original can
// no longer commit later (it did not). Only then does the caller hear:
// success, or ledger.ErrCommitLost.
//
// SQLite needs none of this: its commit is a local call whose answer
// cannot be lost.

const (
	// commitResolveTimeout bounds how long the store keeps asking while
	// the database does not answer (a failover takes about the DCS ttl,
	// 10 to 30 s). Past it the outcome stays unknown.
	commitResolveTimeout = 60 * time.Second
	// CommitMarkerRetention is how long markers are worth keeping.
	CommitMarkerRetention = time.Hour
)

// markCommit adds the transaction's commit marker, held back with its
// other writes, and returns its ID; "" where markers are not needed.
func (db *DB) markCommit(tx *Tx) string {
	if db.dialect.name != "postgres" {
		return ""
	}
	now := time.Now()
	marker := id.NewAt("CM", now)
	tx.deferInsert("commit_markers", "id, created_at_us", marker, now.UnixMicro())
	return marker
}

// commitAnswerLost reports whether err, from COMMIT, leaves the outcome
// unknown. An error the server sent about the transaction itself (a
// serialization failure, a constraint checked at commit) is a definite
// rollback; a lost connection, a shutdown or a cancelled wait is not.
func commitAnswerLost(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return true // no answer from the server at all
	}
	// query_canceled: the wait for the standby was cancelled after the
	// commit was written; the rest as for any statement (postgresLost).
	return pgErr.Code == "57014" || postgresLost(err)
}

// resolveCommit finds out whether the transaction whose COMMIT failed with
// commitErr committed: nil when it did, an Unavailable error wrapping
// ledger.ErrCommitLost when it did not or that cannot be told.
func (db *DB) resolveCommit(marker string, commitErr error) error {
	if !commitAnswerLost(commitErr) {
		return commitErr
	}
	ctx := context.Background() // the question outlives any caller
	deadline := time.Now().Add(commitResolveTimeout)
	wait := 50 * time.Millisecond
	for {
		taken, err := db.fenceCommit(ctx, marker)
		if err == nil {
			if !taken {
				slog.Warn("a commit's answer was lost; the transaction had committed", "marker", marker, "err", commitErr)
				return nil
			}
			slog.Warn("a commit's answer was lost; the transaction had not committed", "marker", marker, "err", commitErr)
			return &apperr.Error{Code: apperr.Unavailable,
				Message: "the database connection was lost while committing and nothing was written; retry",
				Err:     fmt.Errorf("%w: %w", ledger.ErrCommitLost, commitErr)}
		}
		if time.Now().After(deadline) {
			slog.Error("a commit's answer was lost and its outcome could not be established", "marker", marker, "err", commitErr, "lookup_err", err)
			return &apperr.Error{Code: apperr.Unavailable,
				Message: "the database connection was lost while committing and whether it committed is unknown; retry with the same Idempotency-Key",
				Err:     fmt.Errorf("%w: %w (lookup: %v)", ledger.ErrCommitLost, commitErr, err)}
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

// fenceCommit inserts marker unless it exists: taken is true when this
// call inserted it, that is when the transaction that wrote it first did
// not commit.
func (db *DB) fenceCommit(ctx context.Context, marker string) (taken bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := db.write.ExecContext(ctx, "INSERT INTO commit_markers (id, created_at_us) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		marker, time.Now().UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PurgeCommitMarkers deletes the commit markers made before cutoff (wall
// time: markers are not about any marketplace) and says how many.
func (db *DB) PurgeCommitMarkers(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM commit_markers WHERE created_at_us < ?", cutoff.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
