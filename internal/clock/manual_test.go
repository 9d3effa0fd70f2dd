package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
)

var (
	_ clock.Clock = clock.System()
	_ clock.Clock = (*clock.Manual)(nil)
)

func TestSystemClockIsUTC(t *testing.T) {
	before := time.Now()
	now := clock.System().Now()
	if now.Location() != time.UTC {
		t.Fatalf("System().Now() in %s, want UTC", now.Location())
	}
	if now.Before(before.Add(-time.Second)) || now.After(time.Now().Add(time.Second)) {
		t.Fatalf("System().Now() = %s is not the real time", now)
	}
}

func TestManualReadsWhatItIsTold(t *testing.T) {
	start := time.Date(2026, 3, 6, 15, 0, 0, 0, mustZone(t, "America/Los_Angeles"))
	m := clock.NewManual(start)
	if got := m.Now(); !got.Equal(start) || got.Location() != time.UTC {
		t.Fatalf("Now() = %s, want %s in UTC", got, start)
	}

	if err := m.Advance(90 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := m.Now(), start.Add(90*time.Minute); !got.Equal(want) {
		t.Fatalf("after Advance: %s, want %s", got, want)
	}

	later := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	if err := m.Set(later); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(later); err != nil {
		t.Fatalf("setting the time the clock already reads: %v", err)
	}
	if err := m.Advance(0); err != nil {
		t.Fatalf("advancing by zero: %v", err)
	}
	if got := m.Now(); !got.Equal(later) {
		t.Fatalf("after Set: %s, want %s", got, later)
	}
}

func TestManualNeverGoesBackwards(t *testing.T) {
	now := time.Date(2026, 1, 16, 12, 0, 0, 0, time.UTC)
	m := clock.NewManual(now)

	err := m.Set(now.Add(-time.Nanosecond))
	if !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("Set to an earlier time: %v, want a conflict", err)
	}
	err = m.Advance(-time.Second)
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("Advance by a negative duration: %v, want invalid", err)
	}
	if got := m.Now(); !got.Equal(now) {
		t.Fatalf("a refused move changed the clock to %s", got)
	}
}

func TestManualWakesSubscribers(t *testing.T) {
	m := clock.NewManual(time.Date(2026, 1, 16, 12, 0, 0, 0, time.UTC))
	other := clock.NewManual(time.Date(2026, 1, 16, 12, 0, 0, 0, time.UTC))
	wake := make(chan struct{}, 1)
	m.Subscribe(wake)
	m.Subscribe(wake) // twice is once
	other.Subscribe(wake)

	expectWakes := func(step string, want int) {
		t.Helper()
		if got := len(wake); got != want {
			t.Fatalf("%s: %d wakes waiting, want %d", step, got, want)
		}
		for len(wake) > 0 {
			<-wake
		}
	}

	_ = m.Advance(0)
	_ = m.Set(m.Now())
	expectWakes("a move that does not change the time", 0)

	_ = m.Advance(time.Hour)
	_ = m.Advance(time.Hour)
	_ = m.Set(m.Now().Add(time.Hour))
	expectWakes("three moves", 1) // coalesced: never blocks the mover

	_ = other.Advance(time.Minute)
	expectWakes("a move of another clock sharing the channel", 1)

	m.Unsubscribe(wake)
	_ = m.Advance(time.Hour)
	expectWakes("a move after Unsubscribe", 0)
	_ = other.Advance(time.Minute)
	expectWakes("the other clock, still subscribed", 1)

	m.Unsubscribe(make(chan struct{}, 1)) // never subscribed: nothing happens
}

func TestManualSubscribeRefusesChannelsThatWouldMissWakes(t *testing.T) {
	m := clock.NewManual(time.Time{})
	for name, ch := range map[string]chan struct{}{"nil": nil, "unbuffered": make(chan struct{})} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Subscribe did not panic")
				}
			}()
			m.Subscribe(ch)
		})
	}
}

// TestManualConcurrentUse is meant for the race detector: movers, readers and
// a scheduler-like subscriber all at once.
func TestManualConcurrentUse(t *testing.T) {
	const (
		movers          = 8
		movesPerMover   = 200
		readers         = 4
		readsPerReader  = 500
		stepDuration    = time.Second
		subscribeRounds = 50
	)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(movers * movesPerMover * stepDuration)
	m := clock.NewManual(start)

	// A scheduler waits for the end time, waking only on the clock's signal.
	wake := make(chan struct{}, 1)
	m.Subscribe(wake)
	reachedEnd := make(chan struct{})
	go func() {
		defer close(reachedEnd)
		for !m.Now().Equal(end) {
			select {
			case <-wake:
			case <-time.After(10 * time.Second):
				t.Error("the subscriber was not woken for the last move")
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range movers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range movesPerMover {
				if err := m.Advance(stepDuration); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// A setter races the movers without moving the clock: setting the time
	// just read either does nothing or, if a mover got in between, is
	// refused as a step backwards.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range movesPerMover {
			if err := m.Set(m.Now()); err != nil && !apperr.Is(err, apperr.Conflict) {
				t.Error(err)
				return
			}
		}
	}()
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := m.Now()
			for range readsPerReader {
				now := m.Now()
				if now.Before(last) {
					t.Errorf("time went backwards: %s after %s", now, last)
					return
				}
				last = now
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range subscribeRounds {
			ch := make(chan struct{}, 1)
			m.Subscribe(ch)
			m.Unsubscribe(ch)
		}
	}()
	wg.Wait()
	<-reachedEnd

	if got := m.Now(); !got.Equal(end) {
		t.Fatalf("after every move: %s, want %s", got, end)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// An Offset clock reads its base plus the offset, follows the base as it
// moves, and leaves the base alone.
func TestOffsetFollowsItsBase(t *testing.T) {
	start := time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC)
	base := clock.NewManual(start)
	week := 7 * 24 * time.Hour
	c := clock.Offset(base, week)
	if got := c.Now(); !got.Equal(start.Add(week)) {
		t.Fatalf("offset clock reads %s, want %s", got, start.Add(week))
	}
	if err := base.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(start.Add(week + time.Hour)) {
		t.Fatalf("after the base moved an hour: %s", got)
	}
	if got := base.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("the base moved with its offset: %s", got)
	}
}
