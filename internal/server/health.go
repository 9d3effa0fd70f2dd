package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/poise-payments/poise/internal/ledger"
)

// readyTimeout bounds each readiness check. Orchestrators probe every few
// seconds with a timeout of about a second or two; a check slower than this
// means the instance cannot serve in time either.
const readyTimeout = 2 * time.Second

// handleHealth answers as long as the process can serve HTTP at all:
// liveness, which should restart the process only when it is wedged, must
// not depend on the database.
func handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readiness answers 200 only when a request could be served now: the store
// answers and the committer takes work and commits it. A load balancer stops
// sending traffic to an instance that is not ready, such as one whose
// database is gone, whose write path is full, or which is shutting down.
type readiness struct {
	log    *slog.Logger
	store  Pinger
	ledger *ledger.Ledger
}

type readyReport struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	report := readyReport{Status: "ready", Checks: map[string]string{}}
	checks := []struct {
		name string
		run  func(context.Context) error
	}{
		{"store", rd.store.Ping},
		{"primary", rd.primaryTakesWrites},
		{"committer", rd.committerAccepts},
	}
	for _, c := range checks {
		if err := c.run(ctx); err != nil {
			// The cause goes to the log only: it may name hosts or users.
			rd.log.Warn("not ready", "check", c.name, "err", err)
			report.Status = "unavailable"
			report.Checks[c.name] = "failing"
			continue
		}
		report.Checks[c.name] = "ok"
	}
	status := http.StatusOK
	if report.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, report)
}

// PrimaryPinger is a store that can tell whether the database it reaches
// takes writes: on a replicated PostgreSQL, whether it is the primary.
type PrimaryPinger interface {
	PingPrimary(ctx context.Context) error
}

// primaryTakesWrites fails while the store reaches no writable database:
// during a failover, or when its URL led it to a standby. The committer's
// empty operation cannot tell, since an empty transaction commits on a
// standby too.
func (rd *readiness) primaryTakesWrites(ctx context.Context) error {
	p, ok := rd.store.(PrimaryPinger)
	if !ok {
		return nil
	}
	return p.PingPrimary(ctx)
}

// committerAccepts sends an empty operation through the write path. It
// shares the next batch's commit, so it costs the committer almost
// nothing, and it proves what a ping cannot: that the queue has room, the
// writer is running, and a write transaction can begin and commit.
func (rd *readiness) committerAccepts(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		_, err := rd.ledger.Do(ctx, nil, func(context.Context, *ledger.Writer) (any, error) { return nil, nil })
		done <- err
	}()
	// The committer answers only once the batch is done; do not wait for a
	// stuck one past the probe's own deadline.
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
