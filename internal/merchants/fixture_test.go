package merchants_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// The names the two services are embedded under in services.
type (
	payService = payments.Service
	merService = merchants.Service
)

// services are the payments service and its merchant balances, wired as
// serve wires them, so that a test speaks to both through one value.
type services struct {
	*payService
	*merService
}

// newServices wires both services over a ledger and a store.
func newServices(l *ledger.Ledger, db *store.DB) *services {
	v, err := vault.New(make([]byte, vault.KeyLen))
	if err != nil {
		panic(err)
	}
	p := payments.NewService(l, db, v)
	return &services{payService: p, merService: merchants.New(p, db, v)}
}

// newService returns the services over a fresh store, and a function that
// runs the ledger verifier over that store.
func newService(t *testing.T, kind string) (*services, func(t *testing.T)) {
	t.Helper()
	db := storetest.Open(t, kind)
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	verify := func(t *testing.T) {
		t.Helper()
		found, err := ledger.Verify(context.Background(), db.Ledger())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range found {
			t.Errorf("verify: %s", m)
		}
	}
	return newServices(l, db), verify
}

func newMarketplace(t *testing.T, s *services) (payments.APIKey, payments.Resource) {
	t.Helper()
	ctx := context.Background()
	key, secret, err := s.CreateAPIKey(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := s.CreateMarketplace(ctx, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ = s.Authenticate(ctx, secret)
	return key, mp
}

func amount(n int64) payments.TxInput { return payments.TxInput{AmountMinor: n, HasAmount: true} }

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if apperr.ReasonOf(err) != reason {
		t.Fatalf("error = %v, want reason %s", err, reason)
	}
}

// world is a service over a fresh store with a manual clock and one
// marketplace, for tests that move time.
type world struct {
	s   *services
	clk *clock.Manual
	db  *store.DB
	mp  payments.Resource
}

func newWorld(t testing.TB, kind string, start time.Time) *world {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, kind)
	clk := clock.NewManual(start)
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	s := newServices(l, db)
	key, _, err := s.CreateAPIKey(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := s.CreateMarketplace(ctx, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{s: s, clk: clk, db: db, mp: mp}
}

// merchant makes a customer and registers it as an enabled merchant.
func (w *world) merchant(t testing.TB, login string) (merchant, customer payments.Resource) {
	t.Helper()
	ctx := context.Background()
	cu, err := w.s.CreateCustomer(ctx, w.mp.ID, payments.CustomerInput{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.s.CreateMerchant(ctx, w.mp.ID, merchants.PartyInput{Login: login, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return m, cu
}
