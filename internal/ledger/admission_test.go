package ledger_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// An operation the writer cannot start in time is withdrawn: its caller
// hears "overloaded" (503 and Retry-After at the API) at the deadline, not
// whenever the writer gets to it, and it never runs. One the writer did
// start is answered with its real outcome however long it took.
func TestAdmissionWithdrawsWhatCouldNotStartInTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		const admission = 50 * time.Millisecond
		l := ledger.New(db.Ledger(), clock.NewManual(epoch), ledger.CommitterOptions{AdmissionTimeout: admission})
		defer l.Close(context.Background())
		ctx := context.Background()
		c := l.Committer()

		// The first operation holds the writer until released.
		release := make(chan struct{})
		held := make(chan struct{})
		first := make(chan error, 1)
		go func() {
			_, err := c.Do(ctx, nil, func(ctx context.Context, w *ledger.Writer) (any, error) {
				close(held)
				<-release
				return nil, nil
			})
			first <- err
		}()
		<-held

		var ran atomic.Bool
		late := func(ctx context.Context, w *ledger.Writer) (any, error) {
			ran.Store(true)
			return nil, nil
		}
		start := time.Now()
		_, err := c.Do(ctx, nil, late)
		waited := time.Since(start)
		if !apperr.Is(err, apperr.Overloaded) {
			t.Fatalf("an operation behind a held writer = %v, want overloaded", err)
		}
		if waited < admission {
			t.Errorf("withdrawn after %s, before its admission timeout of %s", waited, admission)
		}

		// A caller that stopped waiting also withdraws its operation.
		cancelled, cancel := context.WithCancel(ctx)
		go func() { time.Sleep(admission / 5); cancel() }()
		if _, err := c.Do(cancelled, nil, late); !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled caller's operation = %v, want context.Canceled", err)
		}

		// The arrival of the caller's work counts, not its queueing.
		if _, err := c.Do(ledger.WithArrival(ctx, time.Now().Add(-time.Hour)), nil, late); !apperr.Is(err, apperr.Overloaded) {
			t.Fatalf("an operation whose request arrived an hour ago = %v, want overloaded", err)
		}

		close(release)
		// The held operation, started long before, is answered with its
		// own outcome, and the writer skips what was withdrawn.
		if err := <-first; err != nil {
			t.Fatalf("the started operation = %v", err)
		}
		if _, err := c.Do(ctx, nil, func(ctx context.Context, w *ledger.Writer) (any, error) { return nil, nil }); err != nil {
			t.Fatalf("after the writer is free: %v", err)
		}
		if ran.Load() {
			t.Error("a withdrawn operation ran")
		}
		if got := c.Stats().WithdrawnCount(); got != 3 {
			t.Errorf("withdrawn = %d, want 3", got)
		}
	})
}
