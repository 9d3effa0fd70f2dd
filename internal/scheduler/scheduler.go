// Package scheduler runs due work durably: each job is a row with a due
// time, claimed by one process at a time, retried with back-off when it
// fails, and run late rather than never after downtime.
//
// A handler must make its effect and the job's completion one transaction
// to run exactly once; Complete does that, through the store transaction it
// is given. A handler that dies mid-job leaves nothing half-done: its lease
// runs out and another run takes the job over.
package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
)

// Limits.
const (
	// lease is how long a claimed job is its claimer's. A job is a few
	// database statements; a minute means only a dead process loses one.
	lease = time.Minute
	// maxAttempts bounds retries of a failing job before it is marked
	// failed for an operator to look at.
	maxAttempts = 10
	// firstRetryDelay doubles per failed attempt: 30 s, 1 min, 2 min ...
	firstRetryDelay = 30 * time.Second
	// claimBatch bounds the jobs one pass claims.
	claimBatch = 100
	// maxErrorLen bounds the error text kept on a job.
	maxErrorLen = 500
)

// Job is one piece of due work.
type Job struct {
	ID       string
	Kind     string
	Key      string
	Payload  string
	DueAt    time.Time
	Status   string
	Attempts int
}

// Store keeps jobs.
type Store interface {
	// Schedule adds a pending job and returns its ID; a pending job of the
	// same kind and key makes it a no-op (empty ID).
	Schedule(ctx context.Context, j Job, now time.Time) (string, error)
	// Claim takes up to limit due jobs whose lease is free, leasing them
	// until leaseUntil.
	Claim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Job, error)
	// Done marks a claimed job done, unless its handler already did so in
	// the transaction of its effect.
	Done(ctx context.Context, id string, now time.Time) error
	// Fail records a failed attempt: the job is due again at retryAt, or
	// failed for good when retryAt is zero.
	Fail(ctx context.Context, id string, attempts int, retryAt time.Time, msg string) error
}

// Clock tells the scheduler the time.
type Clock interface{ Now() time.Time }

// Handler runs one kind of job and returns nil when it is done, or an error
// to have it retried. To run exactly once, a handler completes the job in
// the transaction of its effect (the store's Tx.CompleteJob); otherwise the
// scheduler marks it done after the handler returns, and a crash between the
// two runs it again.
type Handler func(ctx context.Context, j Job) error

// Scheduler claims and runs due jobs.
type Scheduler struct {
	store    Store
	clock    Clock
	handlers map[string]Handler
}

// New returns a scheduler with no handlers.
func New(s Store, clk Clock) *Scheduler {
	return &Scheduler{store: s, clock: clk, handlers: map[string]Handler{}}
}

// Handle registers the handler of a kind of job.
func (s *Scheduler) Handle(kind string, h Handler) { s.handlers[kind] = h }

// Schedule adds a job due at due; see Store.Schedule.
func (s *Scheduler) Schedule(ctx context.Context, kind, key, payload string, due time.Time) (string, error) {
	if _, ok := s.handlers[kind]; !ok {
		return "", apperr.New(apperr.Invalid, "no handler for jobs of kind %q", kind)
	}
	return s.store.Schedule(ctx, Job{Kind: kind, Key: key, Payload: payload, DueAt: due}, s.clock.Now())
}

// RunDue runs every job due now, including those overdue after downtime,
// and reports how many completed.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	done := 0
	for {
		now := s.clock.Now()
		jobs, err := s.store.Claim(ctx, now, now.Add(lease), claimBatch)
		if err != nil || len(jobs) == 0 {
			return done, err
		}
		for _, j := range jobs {
			h := s.handlers[j.Kind]
			var err error
			if h == nil {
				err = fmt.Errorf("no handler for jobs of kind %q", j.Kind)
			} else {
				err = runSafely(ctx, h, j)
			}
			if err == nil {
				if err := s.store.Done(ctx, j.ID, s.clock.Now()); err != nil {
					return done, err
				}
				done++
				continue
			}
			attempts := j.Attempts + 1
			retryAt := now.Add(firstRetryDelay << min(attempts-1, 20))
			if attempts >= maxAttempts {
				retryAt = time.Time{}
			}
			msg := err.Error()
			if len(msg) > maxErrorLen {
				msg = msg[:maxErrorLen]
			}
			if ferr := s.store.Fail(ctx, j.ID, attempts, retryAt, msg); ferr != nil {
				return done, ferr
			}
		}
		// Another process may have claimed part of what was due, so a short
		// claim says nothing; only an empty one means nothing is left.
		if len(jobs) == 0 {
			return done, nil
		}
	}
}

// runSafely runs a handler, turning a panic into an error so that one bad
// job cannot stop the others.
func runSafely(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job %s panicked: %v", j.ID, r)
		}
	}()
	return h(ctx, j)
}

// Run calls RunDue every interval, and whenever wake fires (a test clock
// advanced), until ctx ends.
func (s *Scheduler) Run(ctx context.Context, interval time.Duration, wake <-chan struct{}, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}
