package payments_test

import (
	"context"
	"testing"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// BenchmarkCardDebitIntoOrder is the Balanced API's everyday write through
// the service: a card debit into a merchant's order, by concurrent callers
// sharing the committer. Each operation reads its marketplace's clock.
//
//	go test -run '^$' -bench CardDebitIntoOrder -cpu 16 ./internal/payments/
func BenchmarkCardDebitIntoOrder(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(kind, func(b *testing.B) {
			if kind == "postgres" {
				storetest.RequirePostgres(b)
			}
			ctx := context.Background()
			db := storetest.Open(b, kind)
			l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
			defer l.Close(ctx)
			v, _ := vault.New(make([]byte, vault.KeyLen))
			s := payments.NewService(l, db, v)
			mer := merchants.New(s, db, v)
			key, _, _ := s.CreateAPIKey(ctx, nil, nil)
			mp, err := s.CreateMarketplace(ctx, key, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
			if _, err := mer.CreateMerchant(ctx, mp.ID, merchants.PartyInput{Login: "bench-" + kind, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true}); err != nil {
				b.Fatal(err)
			}
			card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
			order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Debit(ctx, mp.ID, payments.TxInput{AmountMinor: 100, HasAmount: true, Instrument: card.ID, Order: order.ID}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
