package ledger

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
)

// Op is one unit of work for the committer. It runs inside the batch's
// database transaction and either succeeds whole or is undone whole. It may
// run more than once when the database asks for a retry, so it must have no
// effect outside the Writer it is given.
type Op func(ctx context.Context, w *Writer) (any, error)

// Default limits of the write path.
const (
	// DefaultMaxBatch bounds how many operations share one commit. Past a
	// few hundred the fsync is already shared so widely that larger batches
	// only make each caller wait longer and each statement bigger.
	DefaultMaxBatch = 512
	// DefaultQueueLen bounds how many operations may wait for the writer.
	// It is a few batches deep: enough to keep the writer busy while the
	// previous batch commits, short enough that a caller told to wait is
	// answered within a few commits rather than after a long backlog.
	DefaultQueueLen = 4 * DefaultMaxBatch
)

// ErrOverloaded is returned when the committer's queue is full. Callers
// should retry later; the API answers 503 with Retry-After.
var ErrOverloaded = apperr.New(apperr.Overloaded, "the write path is at capacity; retry shortly")

// ErrClosed is returned for work submitted after the committer closed.
var ErrClosed = apperr.New(apperr.Unavailable, "the ledger is shutting down")

// Committer is the ledger's one writer. Callers queue operations; the writer
// takes up to MaxBatch of them, applies each in turn inside one database
// transaction (each undone alone if it fails), commits once, and then
// answers every caller. One fsync serves the whole batch.
type Committer struct {
	store    Store
	clock    Clock
	maxBatch int
	queue    chan *request

	mu     sync.RWMutex
	closed bool
	done   chan struct{}

	stats Stats
}

// Stats counts the committer's work, for metrics and benchmarks.
type Stats struct {
	mu        sync.Mutex
	Batches   int64
	Ops       int64
	Fallbacks int64
}

// Snapshot returns the counters.
func (s *Stats) Snapshot() (batches, ops, fallbacks int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Batches, s.Ops, s.Fallbacks
}

type request struct {
	ctx  context.Context
	hint []string
	op   Op
	done chan outcome
}

type outcome struct {
	value any
	err   error
}

// CommitterOptions sets the committer's limits; zero values take defaults.
type CommitterOptions struct {
	MaxBatch int
	QueueLen int
}

// NewCommitter starts a committer over store.
func NewCommitter(store Store, clk Clock, opts CommitterOptions) *Committer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	c := &Committer{
		store:    store,
		clock:    clk,
		maxBatch: opts.MaxBatch,
		queue:    make(chan *request, opts.QueueLen),
		done:     make(chan struct{}),
	}
	go c.run()
	return c
}

// Do queues op and waits for its outcome. hint lists accounts op will touch;
// they are locked with the rest of the batch's up front, in one statement.
// Once queued, an operation is answered only after its batch committed or
// failed, so a caller never hears "done" for work that is not durable.
func (c *Committer) Do(ctx context.Context, hint []string, op Op) (any, error) {
	r := &request{ctx: ctx, hint: hint, op: op, done: make(chan outcome, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case c.queue <- r:
	default:
		c.mu.RUnlock()
		return nil, ErrOverloaded
	}
	c.mu.RUnlock()
	o := <-r.done
	return o.value, o.err
}

// Close stops taking work, finishes everything already queued, and returns
// when the last batch has committed or ctx ends.
func (c *Committer) Close(ctx context.Context) error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the committer's counters.
func (c *Committer) Stats() *Stats { return &c.stats }

// maxLinger bounds how long the writer waits for a batch to fill. A few
// hundred microseconds is well under one commit, so a caller never waits
// noticeably longer, while callers answered by the previous batch have time
// to send their next operation and share this commit.
const maxLinger = 200 * time.Microsecond

func (c *Committer) run() {
	defer close(c.done)
	reqs := make([]*request, 0, c.maxBatch)
	last := 0
	for first := range c.queue {
		reqs = append(reqs[:0], first)
		reqs = c.fill(reqs, last)
		last = len(reqs)
		c.runBatch(reqs)
	}
}

// fill adds queued requests to reqs. When the queue runs dry with fewer
// than the previous batch held, the load is steady and the missing callers
// are most likely just being answered, so it lingers briefly for them.
func (c *Committer) fill(reqs []*request, last int) []*request {
	var linger <-chan time.Time
	for len(reqs) < c.maxBatch {
		select {
		case r, ok := <-c.queue:
			if !ok {
				return reqs
			}
			reqs = append(reqs, r)
			continue
		default:
		}
		if len(reqs) >= last {
			return reqs
		}
		if linger == nil {
			linger = time.After(maxLinger)
		}
		select {
		case r, ok := <-c.queue:
			if !ok {
				return reqs
			}
			reqs = append(reqs, r)
		case <-linger:
			return reqs
		}
	}
	return reqs
}

// runBatch applies reqs in one transaction and answers each. When the batch
// as a whole fails (a statement the batch shares was refused, such as a
// duplicate ID at the bulk insert), each operation is run again in a
// transaction of its own, so the failure reaches only the operation that
// caused it.
func (c *Committer) runBatch(reqs []*request) {
	outcomes, err := c.apply(reqs)
	c.stats.mu.Lock()
	c.stats.Batches++
	c.stats.Ops += int64(len(reqs))
	if err != nil && len(reqs) > 1 {
		c.stats.Fallbacks++
	}
	c.stats.mu.Unlock()
	if err != nil {
		if len(reqs) > 1 {
			for _, r := range reqs {
				c.runBatch([]*request{r})
			}
			return
		}
		outcomes = []outcome{{err: storeFailure(err)}}
	}
	for i, r := range reqs {
		r.done <- outcomes[i]
	}
}

func (c *Committer) apply(reqs []*request) ([]outcome, error) {
	outcomes := make([]outcome, len(reqs))
	ctx := context.Background() // the batch belongs to no single caller
	err := c.store.Update(ctx, func(tx Tx) error {
		b := newBatch(ctx, tx, c.clock.Now())
		var hint []string
		for _, r := range reqs {
			hint = append(hint, r.hint...)
		}
		if err := b.lock(hint); err != nil {
			return err
		}
		for i, r := range reqs {
			if err := r.ctx.Err(); err != nil {
				outcomes[i] = outcome{err: err}
				continue
			}
			w := newWriter(b)
			value, err := r.op(r.ctx, w)
			if err != nil && !isRefusal(err) {
				// The transaction itself may be unusable: let Update retry
				// or fail the batch.
				return err
			}
			if ferr := w.finish(err == nil); ferr != nil {
				return ferr
			}
			outcomes[i] = outcome{value: value, err: err}
		}
		return b.flush()
	})
	return outcomes, err
}

// isRefusal reports whether err is an operation's own answer (bad input,
// not enough money) rather than a failure of the database.
func isRefusal(err error) bool {
	var e *apperr.Error
	return errors.As(err, &e) && e.Code != apperr.Internal
}

// storeFailure turns a store error into what the caller of one operation
// should see.
func storeFailure(err error) error {
	switch {
	case errors.Is(err, ErrDuplicate):
		return &apperr.Error{Code: apperr.Conflict, Message: "a record with that ID exists already", Err: err}
	case isRefusal(err):
		return err
	default:
		return &apperr.Error{Code: apperr.Internal, Message: "the ledger could not commit", Err: err}
	}
}
