package balanced_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// failingLists is the real store with an injected outage: while down is
// set, reading a customer's instruments fails as a lost connection would.
type failingLists struct {
	*store.DB
	down atomic.Bool
}

func (f *failingLists) ListResources(ctx context.Context, q payments.ListQuery) ([]payments.Resource, int, error) {
	if f.down.Load() && q.LinkRel == "customer" {
		return nil, 0, errors.New("connection reset by peer")
	}
	return f.DB.ListResources(ctx, q)
}

// A database failure while looking for a customer's default instrument is
// a server error, never "the customer has no funding source".
func TestDatabaseFailureIsNotNoFundingSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := &failingLists{DB: storetest.Open(t, kind)}
		l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(context.Background()) })
		v, _ := vault.New(make([]byte, vault.KeyLen))
		srv := httptest.NewServer(newAPI(l, db, v))
		t.Cleanup(srv.Close)
		c := newMarketplace(t, srv.URL, 10_000)
		cu := c.do("POST", "/customers", map[string]any{"name": "Ada"}).id("customers")

		// With the database up, a customer without instruments has none.
		if r := c.do("POST", "/customers/"+cu+"/debits", map[string]any{"amount": 100}); r.status != 409 || r.category() != "no-funding-source" {
			t.Fatalf("debit with no source: %d %s", r.status, r.raw)
		}
		db.down.Store(true)
		for _, path := range []string{"/customers/" + cu + "/debits", "/customers/" + cu + "/credits"} {
			r := c.do("POST", path, map[string]any{"amount": 100})
			if r.status < 500 || r.category() == "no-funding-source" || r.category() == "no-funding-destination" {
				t.Errorf("POST %s during an outage: %d %s; want a 5xx", path, r.status, r.raw)
			}
		}
	})
}
