package scheduler_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

var start = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func TestJobsRunWhenDueOnceAndCatchUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		clk := clock.NewManual(start)
		s := scheduler.New(db, clk)
		var ran []string
		var mu sync.Mutex
		s.Handle("release", func(ctx context.Context, j scheduler.Job) error {
			mu.Lock()
			ran = append(ran, j.Key)
			mu.Unlock()
			return nil
		})
		for i, key := range []string{"a", "b", "c"} {
			id, err := s.Schedule(ctx, "release", key, "", start.Add(time.Duration(i+1)*time.Hour))
			if err != nil || id == "" {
				t.Fatal(err)
			}
		}
		if id, err := s.Schedule(ctx, "release", "a", "", start); err != nil || id != "" {
			t.Fatalf("a second pending job for one key was accepted: %q %v", id, err)
		}
		if _, err := s.Schedule(ctx, "unknown", "x", "", start); err == nil {
			t.Fatal("a job with no handler was accepted")
		}
		if n, _ := s.RunDue(ctx); n != 0 {
			t.Fatalf("%d jobs ran before they were due", n)
		}
		// Down for a day: everything overdue runs once on the next pass.
		clk.Advance(24 * time.Hour)
		if n, err := s.RunDue(ctx); err != nil || n != 3 {
			t.Fatalf("catch-up ran %d, %v", n, err)
		}
		if n, _ := s.RunDue(ctx); n != 0 {
			t.Fatalf("%d jobs ran twice", n)
		}
		if len(ran) != 3 {
			t.Fatalf("ran %v", ran)
		}
		// Once done, a key may be scheduled again (next period).
		if id, _ := s.Schedule(ctx, "release", "a", "", clk.Now()); id == "" {
			t.Fatal("could not schedule a key whose job is done")
		}
	})
}

func TestFailingJobsAreRetriedWithBackOffThenGivenUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		clk := clock.NewManual(start)
		s := scheduler.New(db, clk)
		var calls atomic.Int32
		s.Handle("flaky", func(ctx context.Context, j scheduler.Job) error {
			calls.Add(1)
			panic("boom")
		})
		id, _ := s.Schedule(ctx, "flaky", "k", "", start)
		s.RunDue(ctx)
		if calls.Load() != 1 {
			t.Fatalf("calls = %d", calls.Load())
		}
		s.RunDue(ctx)
		if calls.Load() != 1 {
			t.Fatal("retried before its back-off")
		}
		for i := 0; i < 30; i++ {
			clk.Advance(24 * time.Hour)
			s.RunDue(ctx)
		}
		status, attempts, err := db.JobStatus(ctx, id)
		if err != nil || status != "failed" || attempts != 10 || calls.Load() != 10 {
			t.Fatalf("status %s attempts %d calls %d, %v", status, attempts, calls.Load(), err)
		}
	})
}

// Two schedulers (two processes) sharing a database run each job once.
func TestTwoSchedulersRunEachJobOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		u := storetest.URL(t, kind)
		clk := clock.NewManual(start)
		var runs sync.Map
		var dup atomic.Int32
		handler := func(ctx context.Context, j scheduler.Job) error {
			if _, loaded := runs.LoadOrStore(j.ID, true); loaded {
				dup.Add(1)
			}
			return nil
		}
		var ss []*scheduler.Scheduler
		for i := 0; i < 2; i++ {
			s := scheduler.New(storetest.OpenURL(t, u), clk)
			s.Handle("k", handler)
			ss = append(ss, s)
		}
		for i := 0; i < 200; i++ {
			if _, err := ss[0].Schedule(ctx, "k", string(rune('A'+i%26))+time.Duration(i).String(), "", start); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var total atomic.Int32
		for _, s := range ss {
			wg.Add(1)
			go func(s *scheduler.Scheduler) {
				defer wg.Done()
				n, err := s.RunDue(ctx)
				if err != nil {
					t.Error(err)
				}
				total.Add(int32(n))
			}(s)
		}
		wg.Wait()
		if dup.Load() != 0 || total.Load() != 200 {
			t.Fatalf("%d jobs ran twice; %d ran in all", dup.Load(), total.Load())
		}
	})
}

// A job completed in the transaction of its effect: if the job is no
// longer the run's (its lease ran out and it was taken over), the effect is
// rolled back with the completion.
func TestCompletionInTheEffectsTransaction(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	clk := clock.NewManual(start)
	s := scheduler.New(db, clk)
	effect := errors.New("effect written")
	s.Handle("pay", func(ctx context.Context, j scheduler.Job) error {
		return db.Update(ctx, func(tx *store.Tx) error { return tx.CompleteJob(ctx, j.ID, clk.Now()) })
	})
	id, _ := s.Schedule(ctx, "pay", "k", "", start)
	if n, err := s.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("ran %d, %v", n, err)
	}
	if status, _, _ := db.JobStatus(ctx, id); status != "done" {
		t.Fatalf("status = %s", status)
	}
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CompleteJob(ctx, id, clk.Now()); err != nil {
			return err
		}
		return effect
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("completing a done job again: %v", err)
	}
}

// An instance that claimed a job and then lost its database (or died)
// before recording anything leaves the job leased: no other instance runs
// it while the lease lives, and the first to look once it has run out
// does, once.
func TestAJobWhoseClaimerDiedIsTakenOverWhenItsLeaseRunsOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		u := storetest.URL(t, kind)
		clk := clock.NewManual(start)
		var ranOn sync.Map
		runs := func(name string) scheduler.Handler {
			return func(ctx context.Context, j scheduler.Job) error {
				ranOn.Store(name, true)
				return nil
			}
		}
		// A's database goes away between its claim and its report: its
		// context ends inside the handler, so Done cannot be written.
		aCtx, cutA := context.WithCancel(ctx)
		a := scheduler.New(storetest.OpenURL(t, u), clk)
		a.Handle("k", func(ctx context.Context, j scheduler.Job) error {
			ranOn.Store("a", true)
			cutA()
			return nil
		})
		b := scheduler.New(storetest.OpenURL(t, u), clk)
		b.Handle("k", runs("b"))
		id, err := b.Schedule(ctx, "k", "only", "", start)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := a.RunDue(aCtx); err == nil || n != 0 {
			t.Fatalf("A reported %d done, %v; want its report to fail", n, err)
		}
		if n, err := b.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("within A's lease B ran %d, %v; want 0", n, err)
		}
		if _, ok := ranOn.Load("b"); ok {
			t.Fatal("B ran the job A holds")
		}
		clk.Advance(time.Minute)
		if n, err := b.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("after A's lease ran out B ran %d, %v; want 1", n, err)
		}
		db := storetest.OpenURL(t, u)
		if status, _, err := db.JobStatus(ctx, id); err != nil || status != "done" {
			t.Fatalf("job status = %q, %v; want done", status, err)
		}
		if n, err := a.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("A, back, ran %d, %v; want nothing left", n, err)
		}
	})
}
