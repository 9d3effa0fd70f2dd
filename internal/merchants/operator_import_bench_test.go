package merchants_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// importBatch is the size of one import in BenchmarkOperatorImport: a
// busy merchant's hour.
const importBatch = 20_000

// BenchmarkOperatorImport records batches of the operator's transactions
// (sales under a rule with a fee, a reserve and a short-term hold, every
// tenth a reversal) into one merchant with two balances, and reports
// transactions per second. Run it with -benchtime=2x to stay short:
//
//	POISE_TEST_POSTGRES_URL=... go test ./internal/merchants -run '^$' -bench OperatorImport -benchtime=2x
func BenchmarkOperatorImport(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(kind, func(b *testing.B) {
			if kind == "postgres" {
				storetest.RequirePostgres(b)
			}
			ctx := context.Background()
			start := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
			w := newWorld(b, kind, start)
			s, mp := w.s, w.mp
			m, _ := w.merchant(b, "bench-op-"+kind)
			ep2, _ := s.CreateEndpoint(ctx, mp.ID, m.ID, "second", "USD")
			s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Main", Currency: "USD"})
			s.CreateBalance(ctx, mp.ID, m.ID, merchants.BalanceInput{Name: "Second", Currency: "USD", Endpoints: []string{ep2.ID}})
			s.CreateGate(ctx, mp.ID, merchants.GateInput{Name: "acq-1", Processor: "acquirer-one"})
			fee, _ := money.ParseRate("2.9")
			reserve, _ := money.ParseRate("10")
			if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", FeeRate: fee, FeeFixedMinor: 30,
				ReserveRate: reserve, ReservePeriodDays: 90, DateBump: "BDAY+2", EffectiveFrom: start.AddDate(0, 0, -30)}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			total := 0
			for i := 0; i < b.N; i++ {
				ins := make([]merchants.TransactionInput, importBatch)
				for j := range ins {
					n := i*importBatch + j
					in := merchants.TransactionInput{Line: j + 2, ExternalID: fmt.Sprintf("b%d", n), Type: "sale", AmountMinor: int64(100 + n%9_000),
						Currency: "USD", Merchant: m.ID, Gate: "acq-1", OccurredAt: start.Add(-time.Duration(importBatch-j) * time.Second)}
					if n%10 == 0 {
						in.Type = "reversal"
					}
					if n%2 == 0 {
						in.Endpoint = ep2.ID
					}
					ins[j] = in
				}
				if _, err := s.RecordTransactions(ctx, mp.ID, ins); err != nil {
					b.Fatal(err)
				}
				total += importBatch
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "txn/s")
		})
	}
}
