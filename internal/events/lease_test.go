package events_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// slowReceiver is a webhook endpoint that holds the requests it is told
// to hold (by their order of arrival, from 1) until released, as a slow
// receiver does, and counts what reaches it by event.
type slowReceiver struct {
	mu      sync.Mutex
	n       int
	hold    map[int]chan struct{}
	arrived chan int
	byEvent map[string]int
}

func (r *slowReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Events []struct{ ID string } `json:"events"`
	}
	json.NewDecoder(req.Body).Decode(&body)
	r.mu.Lock()
	r.n++
	n := r.n
	for _, ev := range body.Events {
		r.byEvent[ev.ID]++
	}
	gate := r.hold[n]
	r.mu.Unlock()
	r.arrived <- n
	if gate != nil {
		select {
		case <-gate:
		case <-req.Context().Done():
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (r *slowReceiver) received(eventID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byEvent[eventID]
}

// Two instances deliver the same events: a delivery one of them is sending
// is not sent by the other, and one whose sender died mid-send is sent by
// the other once the sender's lease has run out, not before.
func TestADeliveryIsSentByTheInstanceHoldingItsLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		f := newFixture(t, kind)
		db, clk, s, mp := f.db, f.clk, f.s, f.mp
		rcv := &slowReceiver{hold: map[int]chan struct{}{1: make(chan struct{}), 2: make(chan struct{})},
			arrived: make(chan int, 16), byEvent: map[string]int{}}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		render := func(ev payments.Resource) ([]byte, error) {
			return json.Marshal(map[string]any{"events": []any{map[string]any{"id": ev.ID}}})
		}
		// Two instances: two deliverers over one database.
		a := events.NewDeliverer(db, clk, srv.Client(), render)
		b := events.NewDeliverer(db, clk, srv.Client(), render)
		if _, err := s.CreateCallback(ctx, mp.ID, srv.URL+"/hook", "", ""); err != nil {
			t.Fatal(err)
		}
		eventOf := func(name string) string {
			t.Helper()
			cu, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{Fields: map[string]any{"name": name}})
			if err != nil {
				t.Fatal(err)
			}
			evs, _, _ := db.ListResources(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "events", LinkRel: "entity", LinkTarget: cu.ID, Limit: 1})
			if len(evs) != 1 {
				t.Fatalf("events of %s = %d", name, len(evs))
			}
			return evs[0].ID
		}

		// A sends the first event's delivery; the receiver is slow.
		first := eventOf("Ada")
		aDone := make(chan error, 1)
		go func() {
			_, _, err := a.RunOnce(ctx)
			aDone <- err
		}()
		<-rcv.arrived
		if _, sent, err := b.RunOnce(ctx); err != nil || sent != 0 {
			t.Fatalf("while A sends, B sent %d (%v); want 0", sent, err)
		}
		close(rcv.hold[1])
		if err := <-aDone; err != nil {
			t.Fatal(err)
		}
		if got := rcv.received(first); got != 1 {
			t.Fatalf("the first event reached the receiver %d times, want 1", got)
		}

		// A dies while sending the second: its request is cut and it
		// records nothing.
		second := eventOf("Bob")
		aCtx, kill := context.WithCancel(ctx)
		go func() {
			_, _, err := a.RunOnce(aCtx)
			aDone <- err
		}()
		<-rcv.arrived
		kill()
		if err := <-aDone; err == nil {
			t.Fatal("A's round ended without an error though it was cut off")
		}
		if _, sent, err := b.RunOnce(ctx); err != nil || sent != 0 {
			t.Fatalf("within A's lease, B sent %d (%v); want 0", sent, err)
		}
		if err := clk.Advance(time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, sent, err := b.RunOnce(ctx); err != nil || sent != 1 {
			t.Fatalf("after A's lease ran out, B sent %d (%v); want 1", sent, err)
		}
		<-rcv.arrived
		dels, err := db.DeliveriesOf(ctx, second)
		if err != nil || len(dels) != 1 || dels[0].Status != "succeeded" || dels[0].Attempts != 1 {
			t.Fatalf("the second event's delivery is %+v, %v; want succeeded at the first recorded attempt", dels, err)
		}
		if got := rcv.received(second); got != 2 {
			t.Fatalf("the second event reached the receiver %d times, want 2 (A's cut attempt and B's)", got)
		}
	})
}
