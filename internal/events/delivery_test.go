package events_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// receiver is a webhook endpoint that fails its first `failures` calls.
type receiver struct {
	mu       sync.Mutex
	failures int
	bodies   [][]byte
	sigs     []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, body)
	r.sigs = append(r.sigs, req.Header.Get(events.SignatureHeader))
	if r.failures > 0 {
		r.failures--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func TestCallbacksAreSignedAndRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		f := newFixture(t, kind)
		db, clk, s, mp := f.db, f.clk, f.s, f.mp
		rcv := &receiver{failures: 2}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		// Events dispatched before a callback exists get no delivery to it.
		d := events.NewDeliverer(db, clk, srv.Client(), func(ev payments.Resource) ([]byte, error) {
			return json.Marshal(map[string]any{"events": []any{map[string]any{"id": ev.ID, "type": ev.Fields["type"]}}, "links": map[string]any{}})
		})
		if _, _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		cb, err := s.CreateCallback(ctx, mp.ID, srv.URL+"/hook", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateCallback(ctx, mp.ID, srv.URL+"/hook", "", ""); payments.Str(cb.Fields["method"]) != "post" || err == nil {
			t.Fatalf("duplicate callback URL accepted: %v", err)
		}
		for _, bad := range []string{"", "ftp://x", "not a url", "/relative"} {
			if _, err := s.CreateCallback(ctx, mp.ID, bad, "", ""); err == nil {
				t.Errorf("callback URL %q accepted", bad)
			}
		}

		cu, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		if err != nil {
			t.Fatal(err)
		}
		evs, _, _ := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "events", LinkRel: "entity", LinkTarget: cu.ID, Limit: 1})
		if len(evs) != 1 {
			t.Fatal("no event for the new customer")
		}
		dispatched, sent, err := d.RunOnce(ctx)
		if err != nil || dispatched != 1 || sent != 1 {
			t.Fatalf("first round: dispatched %d, sent %d, %v", dispatched, sent, err)
		}
		// Not due again until the back-off has passed.
		if _, sent, _ := d.RunOnce(ctx); sent != 0 {
			t.Fatalf("retried before the back-off: %d", sent)
		}
		clk.Advance(time.Minute)
		if _, sent, _ := d.RunOnce(ctx); sent != 1 {
			t.Fatalf("second attempt not sent: %d", sent)
		}
		clk.Advance(2 * time.Minute)
		if _, sent, _ := d.RunOnce(ctx); sent != 1 {
			t.Fatalf("third attempt not sent: %d", sent)
		}
		dels, err := db.DeliveriesOf(ctx, evs[0].ID)
		if err != nil || len(dels) != 1 || dels[0].Status != "succeeded" || dels[0].Attempts != 3 {
			t.Fatalf("deliveries = %+v, %v", dels, err)
		}
		attempts, err := db.AttemptsOf(ctx, dels[0].ID)
		if err != nil || len(attempts) != 3 || attempts[0].StatusCode != 500 || attempts[2].StatusCode != 200 {
			t.Fatalf("attempts = %+v, %v", attempts, err)
		}

		// Every delivery is signed over its timestamp and body.
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		stored, _ := s.Get(ctx, mp.ID, cb.ID)
		secret := payments.Str(stored.Private["secret"])
		for i, sig := range rcv.sigs {
			ts := strings.TrimPrefix(strings.Split(sig, ",")[0], "t=")
			at, _ := time.Parse(time.RFC3339, "1970-01-01T00:00:00Z")
			var unix int64
			for _, c := range ts {
				unix = unix*10 + int64(c-'0')
			}
			at = time.Unix(unix, 0)
			if events.Sign(secret, at, rcv.bodies[i]) != sig {
				t.Fatalf("delivery %d carries a bad signature %q", i, sig)
			}
			if events.Sign("wrong", at, rcv.bodies[i]) == sig {
				t.Fatal("a wrong secret gives the same signature")
			}
		}
	})
}

func TestDeliveriesGiveUpAfterThreeDays(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	clk := clock.NewManual(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	defer l.Close(ctx)
	v, _ := vault.New(make([]byte, vault.KeyLen))
	s := payments.NewService(l, db, v)
	merchants.New(s, db, v)
	key, _, _ := s.CreateAPIKey(ctx, nil, nil)
	mp, _ := s.CreateMarketplace(ctx, key, nil, nil)
	rcv := &receiver{failures: 1 << 30}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	s.CreateCallback(ctx, mp.ID, srv.URL, "put", "1.1")
	d := events.NewDeliverer(db, clk, srv.Client(), func(ev payments.Resource) ([]byte, error) { return []byte(`{}`), nil })
	d.RunOnce(ctx) // dispatches the marketplace's own events with no callback yet
	cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
	start := clk.Now()
	for i := 0; i < 40; i++ {
		if _, _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Hour)
	}
	evs, _, _ := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "events", LinkRel: "entity", LinkTarget: cu.ID, Limit: 1})
	dels, _ := db.DeliveriesOf(ctx, evs[0].ID)
	if len(dels) != 1 || dels[0].Status != "failed" || dels[0].Attempts != 12 {
		t.Fatalf("deliveries = %+v", dels)
	}
	attempts, _ := db.AttemptsOf(ctx, dels[0].ID)
	if last := attempts[len(attempts)-1].AttemptedAt; last.Sub(start) > 3*24*time.Hour+2*time.Hour {
		t.Fatalf("last attempt %s after the first; retries must end within three days", last.Sub(start))
	}
}
