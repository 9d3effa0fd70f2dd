package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store"
)

// upkeepInterval is how often a server expires due pending ledger transfers
// and purges old idempotency records. Pending transfers are set to expire in
// days, so a minute late is nothing to their owners, and each sweep is one
// indexed query when nothing is due.
//
// Card holds made since holds follow their marketplace's clock carry no
// ledger expiry: their expiry job (payments.JobExpireHold) releases them on
// that clock. The sweep still expires the pending transfers that do carry
// one, holds made before among them, on the process's time.
const upkeepInterval = time.Minute

type holdExpirer interface {
	ExpireDue(ctx context.Context) (int, error)
}

type idempotencyPurger interface {
	PurgeIdempotency(ctx context.Context, cutoff time.Time) (int64, error)
}

// noncePurger forgets OAuth nonces; requests older than the timestamp
// window are refused by their timestamp, so their nonces are not needed.
type noncePurger interface {
	PurgeNonces(ctx context.Context, cutoff time.Time) (int64, error)
}

// markerPurger forgets commit markers, which matter only in the seconds
// after a commit whose answer was lost (store/commit_outcome.go).
type markerPurger interface {
	PurgeCommitMarkers(ctx context.Context, cutoff time.Time) (int64, error)
}

// upkeep is the work a server does on its own, not in answer to a request.
// Every sweep is safe to run in two processes at once: the ledger skips a
// hold another process resolved, and a purge deletes what it finds.
type upkeep struct {
	log     *slog.Logger
	ledger  holdExpirer
	records idempotencyPurger
	// nonces, when set, are purged past twice the OAuth timestamp window.
	nonces noncePurger
	// markers, when set, are purged past their retention.
	markers markerPurger
	clock   ledger.Clock
}

// run sweeps at once, to catch up with what fell due while the server was
// down, then every upkeepInterval until ctx ends.
func (u *upkeep) run(ctx context.Context) {
	tick := time.NewTicker(upkeepInterval)
	defer tick.Stop()
	for {
		u.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sweep runs each chore once. A failing chore is logged and tried again at
// the next sweep; it does not stop the other.
func (u *upkeep) sweep(ctx context.Context) {
	expired, err := u.ledger.ExpireDue(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		u.log.Error("expiring due holds", "err", err, "expired", expired)
	case expired > 0:
		u.log.Info("expired due holds", "expired", expired)
	}
	purged, err := u.records.PurgeIdempotency(ctx, u.clock.Now().Add(-idempotency.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		u.log.Error("purging idempotency records", "err", err)
	case purged > 0:
		u.log.Info("purged idempotency records", "purged", purged, "older_than", idempotency.Retention.String())
	}
	if u.nonces != nil {
		if _, err := u.nonces.PurgeNonces(ctx, u.clock.Now().Add(-2*paynet.TimestampWindow)); err != nil && ctx.Err() == nil {
			u.log.Error("purging OAuth nonces", "err", err)
		}
	}
	if u.markers != nil {
		if _, err := u.markers.PurgeCommitMarkers(ctx, time.Now().Add(-store.CommitMarkerRetention)); err != nil && ctx.Err() == nil {
			u.log.Error("purging commit markers", "err", err)
		}
	}
}
