package balanced_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// Each delivery attempt of an event is visible on it: counts by state on
// the event, and the log of attempts under /events/:id/callbacks.
func TestEventsShowTheirDeliveries(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	defer l.Close(ctx)
	v, _ := vault.New(make([]byte, vault.KeyLen))
	api := newAPI(l, db, v)
	api.ShowDeliveries(db)
	srv := httptest.NewServer(api)
	defer srv.Close()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer receiver.Close()

	c := newMarketplace(t, srv.URL, 0)
	deliverer := events.NewDeliverer(db, clock.System(), receiver.Client(), api.RenderEvent)
	deliverer.RunOnce(ctx)
	if r := c.do("POST", "/callbacks", map[string]any{"url": receiver.URL + "/hook"}); r.status != 201 {
		t.Fatalf("callback: %d %s", r.status, r.raw)
	}
	cu := c.do("POST", "/customers", map[string]any{"name": "Ada"}).id("customers")
	if _, sent, err := deliverer.RunOnce(ctx); err != nil || sent != 1 {
		t.Fatalf("sent %d, %v", sent, err)
	}
	evs := c.do("GET", "/customers/"+cu+"/events", nil)
	if evs.status == 404 {
		evs = c.do("GET", "/events", nil)
	}
	ev := c.do("GET", "/events/"+evs.id("events"), nil).first("events")
	statuses, _ := ev["callback_statuses"].(map[string]any)
	if statuses["succeeded"] != float64(1) {
		t.Fatalf("callback_statuses = %v", ev["callback_statuses"])
	}
	log := c.do("GET", "/events/"+evs.id("events")+"/callbacks", nil)
	dels, _ := log.body["callback_deliveries"].([]any)
	if len(dels) != 1 {
		t.Fatalf("deliveries = %s", log.raw)
	}
	attempts, _ := dels[0].(map[string]any)["log"].([]any)
	if len(attempts) != 1 || attempts[0].(map[string]any)["status_code"] != float64(204) {
		t.Fatalf("attempt log = %s", log.raw)
	}
}
