package merchants_test

import (
	"context"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// The names the capabilities of a store's transaction are embedded under.
type (
	ledgerTx      = ledger.Tx
	resourceTx    = payments.Tx
	idempotencyTx = idempotency.Tx
)

// resourcesOnly is a store transaction that keeps the ledger, resources
// and idempotency records, and nothing of merchant balances.
type resourcesOnly struct {
	ledgerTx
	resourceTx
	idempotencyTx
}

// withoutBalances is a ledger store whose transactions are resourcesOnly.
type withoutBalances struct{ ledger.Store }

func (s withoutBalances) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	return s.Store.Update(ctx, func(tx ledger.Tx) error {
		full := tx.(*store.Tx)
		return fn(resourcesOnly{ledgerTx: full, resourceTx: full, idempotencyTx: full})
	})
}

// Over a store whose transactions cannot keep merchant balances, the
// service is not ready: serve stops at start rather than fail, or drop,
// the first sale.
func TestStoreWithoutBalancesIsRefusedAtStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		v, _ := vault.New(make([]byte, vault.KeyLen))

		l := ledger.New(withoutBalances{db.Ledger()}, clock.System(), ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(context.Background()) })
		s := payments.NewService(l, db, v)
		merchants.New(s, db, v)
		if err := s.Ready(ctx); err == nil || !strings.Contains(err.Error(), "does not keep merchant balances") {
			t.Fatalf("ready over a store without balances: %v", err)
		}

		full := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		t.Cleanup(func() { full.Close(context.Background()) })
		s = payments.NewService(full, db, v)
		merchants.New(s, db, v)
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("ready over the store: %v", err)
		}
	})
}
