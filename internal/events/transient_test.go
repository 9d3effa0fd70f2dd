package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// flakyReads is the real store with an injected outage: its next
// failReads reads of one resource fail, as a dropped connection would.
type flakyReads struct {
	*store.DB
	id        string
	failReads atomic.Int32
}

func (f *flakyReads) GetResource(ctx context.Context, marketplace, id string) (payments.Resource, error) {
	if id == f.id && f.failReads.Add(-1) >= 0 {
		return payments.Resource{}, errors.New("connection reset by peer")
	}
	return f.DB.GetResource(ctx, marketplace, id)
}

// A database failure while sending is not the receiver's doing nor a
// deleted callback: the delivery stays due, and goes out when the database
// answers again. Only a callback really deleted gives a delivery up.
func TestDeliveryOutlivesADatabaseFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		f := newFixture(t, kind)
		db, clk, s, mp := f.db, f.clk, f.s, f.mp
		rcv := &receiver{}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		cb, err := s.CreateCallback(ctx, mp.ID, srv.URL+"/hook", "", "")
		if err != nil {
			t.Fatal(err)
		}
		flaky := &flakyReads{DB: db, id: cb.ID}
		flaky.failReads.Store(1)
		d := events.NewDeliverer(flaky, clk, srv.Client(), func(ev payments.Resource) ([]byte, error) {
			return json.Marshal(map[string]any{"events": []any{map[string]any{"id": ev.ID}}})
		})
		cu, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{Fields: map[string]any{"name": "Ada"}})
		if err != nil {
			t.Fatal(err)
		}
		evs, _, _ := db.ListResources(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "events", LinkRel: "entity", LinkTarget: cu.ID, Limit: 1})
		if len(evs) != 1 {
			t.Fatalf("customer events = %d", len(evs))
		}
		if _, _, err := d.RunOnce(ctx); err == nil {
			t.Fatal("a database failure was not reported")
		}
		dels, err := db.DeliveriesOf(ctx, evs[0].ID)
		if err != nil || len(dels) != 1 || dels[0].Status != "pending" || dels[0].Attempts != 0 {
			t.Fatalf("after the failure the delivery is %+v, %v; want pending, untried", dels, err)
		}
		if _, _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		dels, _ = db.DeliveriesOf(ctx, evs[0].ID)
		if len(dels) != 1 || dels[0].Status != "succeeded" {
			t.Fatalf("once the database answers the delivery is %+v; want succeeded", dels)
		}

		// A deleted callback, by contrast, ends its deliveries.
		bob, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{Fields: map[string]any{"name": "Bob"}})
		if err != nil {
			t.Fatal(err)
		}
		flaky.failReads.Store(1)
		d.RunOnce(ctx) // dispatched; the send meets the outage
		if err := s.DeleteCallback(ctx, mp.ID, cb.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		evs, _, _ = db.ListResources(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "events", LinkRel: "entity", LinkTarget: bob.ID, Limit: 1})
		dels, _ = db.DeliveriesOf(ctx, evs[0].ID)
		if len(dels) != 1 || dels[0].Status != "failed" {
			t.Fatalf("a delivery to a deleted callback is %+v; want failed", dels)
		}
	})
}
