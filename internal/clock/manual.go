package clock

import (
	"sync"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
)

// Manual is a clock that moves only when told to: the clock of tests, and the
// "test clock" of a test-mode marketplace that the API advances.
//
// Time never goes backwards on a Manual clock. Everything Poise schedules
// (settlements, releases, retries) is due at some instant and runs once;
// moving back would make work that already ran due again, or make a debit
// settle before it was created.
//
// A Manual clock is safe for concurrent use. Its times are in UTC, like
// System's.
type Manual struct {
	mu  sync.Mutex
	now time.Time
	// subscribers are woken, without blocking, each time the clock moves.
	subscribers map[chan<- struct{}]struct{}
}

// NewManual returns a Manual clock that reads start until it is moved.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start.UTC()}
}

// Now returns the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Set moves the clock to t. Setting the time it already reads is allowed and
// does nothing; an earlier time is refused with apperr.Conflict, because
// whether t is acceptable depends on where the clock is now.
func (m *Manual) Set(t time.Time) error {
	t = t.UTC()
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.Before(m.now) {
		return apperr.New(apperr.Conflict,
			"a test clock cannot move backwards: it reads %s, asked for %s",
			m.now.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano))
	}
	m.moveLocked(t)
	return nil
}

// Advance moves the clock forward by d. A negative d is refused with
// apperr.Invalid; a zero d does nothing.
func (m *Manual) Advance(d time.Duration) error {
	if d < 0 {
		return apperr.New(apperr.Invalid, "a test clock can only advance: got %s", d)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.moveLocked(m.now.Add(d))
	return nil
}

// moveLocked sets the time and wakes the subscribers if it changed. The
// sends happen under the lock so that Unsubscribe can promise that no wake
// arrives after it returns, and so that a woken subscriber that calls Now
// sees at least the time that woke it.
func (m *Manual) moveLocked(t time.Time) {
	if t.Equal(m.now) {
		return
	}
	m.now = t
	for ch := range m.subscribers {
		select {
		case ch <- struct{}{}:
		default:
			// A wake is already waiting; the subscriber reads Now when it
			// gets to it, so one wake covers any number of moves.
		}
	}
}

// Subscribe asks the clock to send on ch each time it moves, so that a
// scheduler sleeping on real time also wakes when a test clock is advanced.
//
// Sends never block: ch must be buffered (Subscribe panics otherwise, since
// an unbuffered channel would miss every wake that finds its reader busy).
// Wakes coalesce: a wake says "the time changed, read Now", not by how much.
// One channel may be subscribed to many clocks, so one scheduler can watch
// the test clocks of every marketplace. Subscribing a channel twice is the
// same as once.
func (m *Manual) Subscribe(ch chan<- struct{}) {
	if ch == nil {
		panic("clock: Subscribe with a nil channel")
	}
	if cap(ch) == 0 {
		panic("clock: Subscribe with an unbuffered channel would miss wakes")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subscribers == nil {
		m.subscribers = make(map[chan<- struct{}]struct{})
	}
	m.subscribers[ch] = struct{}{}
}

// Unsubscribe stops the sends to ch. Once it returns, the clock sends
// nothing more on ch; a wake sent before may still be buffered in it.
// Unsubscribing a channel that is not subscribed does nothing.
func (m *Manual) Unsubscribe(ch chan<- struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.subscribers, ch)
}
