package ledger

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
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
	// DefaultAdmissionTimeout is the server's bound on how long an
	// operation may wait, from its caller's arrival (see WithArrival), for
	// the writer to start it. A batch commits in milliseconds, so an
	// operation not started after a quarter second is behind more work
	// than the writer can do soon; telling its caller to retry keeps every
	// answer prompt under any load, where waiting would only grow every
	// caller's latency.
	DefaultAdmissionTimeout = 250 * time.Millisecond
)

// ErrOverloaded is returned when the committer's queue is full, or when an
// operation could not start within the admission timeout. Callers should
// retry later; the API answers 503 with Retry-After.
var ErrOverloaded = apperr.New(apperr.Overloaded, "the write path is at capacity; retry shortly")

type arrivalKey struct{}

// WithArrival records when the work ctx belongs to arrived (an HTTP
// request's first byte), so that the admission timeout counts the time
// spent before the operation was queued too.
func WithArrival(ctx context.Context, at time.Time) context.Context {
	return context.WithValue(ctx, arrivalKey{}, at)
}

// arrival is when ctx's work arrived, or now when nobody said.
func arrival(ctx context.Context) time.Time {
	if at, ok := ctx.Value(arrivalKey{}).(time.Time); ok {
		return at
	}
	return time.Now()
}

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
	// admission bounds the wait of an operation for its start.
	admission time.Duration
	queue     chan *request
	// opCost is the writer's moving average of the time one operation of
	// a batch takes, commit included (see batchLimit). Only the writer
	// goroutine touches it.
	opCost time.Duration

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
	// Withdrawn counts operations whose callers stopped waiting before
	// the writer started them (admission timeout or a cancelled caller).
	Withdrawn int64
}

// Snapshot returns the counters.
func (s *Stats) Snapshot() (batches, ops, fallbacks int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Batches, s.Ops, s.Fallbacks
}

// WithdrawnCount returns how many operations were withdrawn unstarted.
func (s *Stats) WithdrawnCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Withdrawn
}

// A request's state moves once, from queued to started (the writer took
// it into a batch) or to withdrawn (its caller gave up first). Whichever
// side moves it decides: a started operation is always answered with its
// outcome, a withdrawn one never runs.
const (
	requestQueued int32 = iota
	requestStarted
	requestWithdrawn
)

type request struct {
	ctx   context.Context
	hint  []string
	op    Op
	done  chan outcome
	state atomic.Int32
}

type outcome struct {
	value any
	err   error
}

// CommitterOptions sets the committer's limits; zero values take defaults.
type CommitterOptions struct {
	MaxBatch int
	QueueLen int
	// AdmissionTimeout bounds the wait for an operation's start; zero
	// means no bound (callers wait for the writer however long it takes,
	// as a batch job or a test of exact outcomes wants). A server facing
	// clients sets it, by default to DefaultAdmissionTimeout.
	AdmissionTimeout time.Duration
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
		store:     store,
		clock:     clk,
		maxBatch:  opts.MaxBatch,
		admission: opts.AdmissionTimeout,
		queue:     make(chan *request, opts.QueueLen),
		done:      make(chan struct{}),
	}
	go c.run()
	return c
}

// Do queues op and waits for its outcome. hint lists the IDs of accounts
// op will touch, and of the store's rows it will read (see Tx.Prefetch);
// they are locked with the rest of the batch's up front, in one statement
// each.
//
// With an admission timeout set, an operation the writer has not started
// by the admission deadline (the caller's arrival plus the timeout) is
// withdrawn and answered
// ErrOverloaded; one whose caller's ctx ends before it started is
// withdrawn and answered ctx's error. Either way it never runs. Once
// started, an operation is answered only after its batch committed or
// failed, so a caller never hears "done" for work that is not durable,
// nor "refused" for work that is.
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
	var admission <-chan time.Time
	if c.admission > 0 {
		timer := time.NewTimer(time.Until(arrival(ctx).Add(c.admission)))
		defer timer.Stop()
		admission = timer.C
	}
	select {
	case o := <-r.done:
		return o.value, o.err
	case <-admission:
		if c.withdraw(r) {
			return nil, ErrOverloaded
		}
	case <-ctx.Done():
		if c.withdraw(r) {
			return nil, ctx.Err()
		}
	}
	o := <-r.done
	return o.value, o.err
}

// withdraw takes r back if the writer has not started it.
func (c *Committer) withdraw(r *request) bool {
	if !r.state.CompareAndSwap(requestQueued, requestWithdrawn) {
		return false
	}
	c.stats.mu.Lock()
	c.stats.Withdrawn++
	c.stats.mu.Unlock()
	return true
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

// maxBatchTime is how long a batch should take at most. Everything a batch
// holds is answered when it commits, so under overload a request waits up
// to the admission timeout to start and then for its whole batch: batches
// of hundreds of slow operations (PostgreSQL on a busy machine) would
// double what a client waits. The writer sizes batches from what its
// operations have lately cost so that one takes about this long.
const maxBatchTime = 100 * time.Millisecond

// minBatch is the smallest batch the time budget may shrink batches to:
// below it the commit's own cost would dominate.
const minBatch = 16

func (c *Committer) run() {
	defer close(c.done)
	reqs := make([]*request, 0, c.maxBatch)
	last := 0
	for first := range c.queue {
		reqs = append(reqs[:0], first)
		reqs = c.fill(reqs, last, c.batchLimit())
		last = len(reqs)
		reqs = start(reqs)
		if len(reqs) > 0 {
			began := time.Now()
			c.runBatch(reqs)
			c.learnCost(time.Since(began), len(reqs))
		}
	}
}

// batchLimit is how many operations the next batch may take: as many as
// fit maxBatchTime at the recent cost of one, within [minBatch, maxBatch].
func (c *Committer) batchLimit() int {
	if c.opCost <= 0 {
		return c.maxBatch
	}
	n := int(maxBatchTime / c.opCost)
	return min(max(n, minBatch), c.maxBatch)
}

// learnCost folds a batch's duration into the moving average of one
// operation's cost (an eighth of the weight to the newest batch).
func (c *Committer) learnCost(took time.Duration, ops int) {
	per := took / time.Duration(ops)
	if c.opCost == 0 {
		c.opCost = per
		return
	}
	c.opCost += (per - c.opCost) / 8
}

// start marks reqs started and returns those whose callers still wait,
// in their order.
func start(reqs []*request) []*request {
	kept := reqs[:0]
	for _, r := range reqs {
		if r.state.CompareAndSwap(requestQueued, requestStarted) {
			kept = append(kept, r)
		}
	}
	return kept
}

// fill adds queued requests to reqs. When the queue runs dry with fewer
// than the previous batch held, the load is steady and the missing callers
// are most likely just being answered, so it lingers briefly for them.
func (c *Committer) fill(reqs []*request, last, limit int) []*request {
	var linger <-chan time.Time
	for len(reqs) < limit {
		select {
		case r, ok := <-c.queue:
			if !ok {
				return reqs
			}
			reqs = append(reqs, r)
			continue
		default:
		}
		if len(reqs) >= min(last, limit) {
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
	c.runBatchTries(reqs, 1)
}

// duplicateTries is how often one operation alone is run when its commit
// finds a key taken. Rows an operation writes are held back until the
// commit, so a key another transaction took meanwhile (an idempotency key
// of a concurrent duplicate request) shows there, not inside the
// operation; run again, the operation reads the other's row and answers
// from it.
const duplicateTries = 2

func (c *Committer) runBatchTries(reqs []*request, try int) {
	outcomes, err := c.apply(reqs)
	c.stats.mu.Lock()
	c.stats.Batches++
	c.stats.Ops += int64(len(reqs))
	if err != nil && len(reqs) > 1 && !errors.Is(err, ErrCommitLost) {
		c.stats.Fallbacks++
	}
	c.stats.mu.Unlock()
	switch {
	case errors.Is(err, ErrCommitLost):
		// The batch did not commit, or nobody can tell: running its
		// operations again could apply them twice. Every caller hears
		// that the service is unavailable, and may retry.
		outcomes = make([]outcome, len(reqs))
		for i := range outcomes {
			outcomes[i] = outcome{err: storeFailure(err)}
		}
	case err != nil:
		if len(reqs) > 1 {
			for _, r := range reqs {
				c.runBatchTries([]*request{r}, 1)
			}
			return
		}
		if errors.Is(err, ErrDuplicate) && try < duplicateTries {
			c.runBatchTries(reqs, try+1)
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
		if err := b.prefetch(dedup(hint)); err != nil {
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

// dedup returns ids sorted, each once.
func dedup(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return dedupSorted(out)
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
