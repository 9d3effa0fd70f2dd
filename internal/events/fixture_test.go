package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// fixture is a test marketplace over a real store of the given kind, with
// a manual clock the deliverer shares.
type fixture struct {
	db  *store.DB
	clk *clock.Manual
	s   *payments.Service
	mp  payments.Resource
}

func newFixture(t *testing.T, kind string) fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, kind)
	clk := clock.NewManual(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(ctx) })
	v, _ := vault.New(make([]byte, vault.KeyLen))
	s := payments.NewService(l, db, v)
	merchants.New(s, db, v)
	key, _, _ := s.CreateAPIKey(ctx, nil, nil)
	mp, err := s.CreateMarketplace(ctx, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{db: db, clk: clk, s: s, mp: mp}
}
