package events_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A server makes events far faster than one batch a second. One tick of
// the deliverer must work through a backlog of several batches, or events
// pile up undelivered for as long as the load lasts.
func TestOneTickDispatchesABacklogOfSeveralBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		f := newFixture(t, kind)
		db, clk, s, mp := f.db, f.clk, f.s, f.mp
		rcv := &receiver{}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		if _, err := s.CreateCallback(ctx, mp.ID, srv.URL+"/hook", "", ""); err != nil {
			t.Fatal(err)
		}
		// About three and a half batches of events.
		const customers = 350
		var wg sync.WaitGroup
		for w := 0; w < 10; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < customers/10; i++ {
					if _, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		pending, err := db.UndispatchedEvents(ctx, 10*customers)
		if err != nil || len(pending) < customers {
			t.Fatalf("%d events waiting (%v), want at least %d", len(pending), err, customers)
		}

		d := events.NewDeliverer(db, clk, srv.Client(), func(ev payments.Resource) ([]byte, error) {
			return json.Marshal(map[string]any{"events": []any{map[string]any{"id": ev.ID}}})
		})
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		// An hour between ticks: only the first tick can do the work.
		go func() { d.Run(runCtx, time.Hour, func(err error) { t.Error(err) }); close(done) }()
		deadline := time.Now().Add(30 * time.Second)
		for {
			rcv.mu.Lock()
			got := len(rcv.bodies)
			rcv.mu.Unlock()
			if got >= len(pending) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events delivered in the first tick", got, len(pending))
			}
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		<-done
		if left, err := db.UndispatchedEvents(ctx, 1); err != nil || len(left) != 0 {
			t.Errorf("events left undispatched: %d (%v)", len(left), err)
		}
	})
}
