package payments_test

import (
	"context"
	"errors"
	"testing"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// A service without a balance feed is not ready to serve, and a sale it is
// asked for fails whole: no debit, no money moved, rather than a sale the
// merchant's balance never sees.
func TestBalanceFeedIsRequired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(context.Background()) })
		v, _ := vault.New(make([]byte, vault.KeyLen))
		s := payments.NewService(l, db, v)
		if err := s.Ready(ctx); !errors.Is(err, payments.ErrNoBalanceFeed) {
			t.Fatalf("a service without a balance feed is ready: %v", err)
		}
		_, mp := newMarketplace(t, s)
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		in := amount(1_000)
		in.Instrument = card.ID
		if d, err := s.Debit(ctx, mp.ID, in); !errors.Is(err, payments.ErrNoBalanceFeed) {
			t.Fatalf("a sale without a balance feed: %+v, %v", d, err)
		}
		if bal, err := s.Balance(ctx, payments.EscrowAccount(mp.ID)); err != nil || bal != 0 {
			t.Fatalf("escrow after the refused sale = %d, %v", bal, err)
		}
		if _, total, err := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "debits", Limit: 10}); err != nil || total != 0 {
			t.Fatalf("debits after the refused sale = %d, %v", total, err)
		}

		merchants.New(s, db, v)
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("with merchant balances: %v", err)
		}
		if d, err := s.Debit(ctx, mp.ID, in); err != nil || d.Status != "succeeded" {
			t.Fatalf("a sale with merchant balances: %v, %v", d.Status, err)
		}
		if bal, err := s.Balance(ctx, payments.EscrowAccount(mp.ID)); err != nil || bal != 1_000 {
			t.Fatalf("escrow after the sale = %d, %v", bal, err)
		}
	})
}
