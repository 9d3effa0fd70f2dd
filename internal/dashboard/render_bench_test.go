package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// benchTransactions is how many debits the marketplace under test holds:
// the 10^5.
const benchTransactions = 100_000

// benchSeedBatch is how many rows one seeding transaction writes.
const benchSeedBatch = 2_000

// BenchmarkTransactionsPage measures one signed-in request of the
// transactions page, served over loopback and rendered whole, in a
// marketplace of benchTransactions debits. The debits are written straight
// into the store in bulk: the page reads resources, and writing 10^5
// through the ledger would only slow the setup.
func BenchmarkTransactionsPage(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(kind, func(b *testing.B) {
			if kind == "postgres" {
				storetest.RequirePostgres(b)
			}
			ctx := context.Background()
			base, db := newSiteOn(b, storetest.Open(b, kind))
			mp := newMarketplace(b, base)
			_, body := mp.do("GET", "/marketplaces", nil)
			mpID := first(body, "marketplaces")["id"].(string)
			seedDebits(b, db, mpID, benchTransactions)
			if err := db.Analyze(ctx); err != nil {
				b.Fatal(err)
			}
			br := newBrowser(b, base)
			br.signIn(mp.secret)
			for _, tc := range []struct{ name, path string }{
				{"first_page", "/dashboard/transactions"},
				{"deepest_page", "/dashboard/transactions?page=400"},
				{"status_failed", "/dashboard/transactions?status=failed"},
				{"one_day", "/dashboard/transactions?from=2026-11-02&to=2026-11-02"},
				{"overview", "/dashboard/"},
			} {
				b.Run(tc.name, func(b *testing.B) {
					for b.Loop() {
						if p := br.get(tc.path); p.status != http.StatusOK {
							b.Fatalf("%s: %d %s", tc.path, p.status, p.body)
						}
					}
				})
			}
		})
	}
}

// seedDebits writes n debits of one marketplace, one a minute from
// 2026-11-01, one in ten failed.
func seedDebits(b *testing.B, db *store.DB, marketplace string, n int) {
	b.Helper()
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for from := 0; from < n; from += benchSeedBatch {
		err := db.Update(ctx, func(tx *store.Tx) error {
			for i := from; i < min(from+benchSeedBatch, n); i++ {
				at := start.Add(time.Duration(i) * time.Minute)
				status := "succeeded"
				if i%10 == 0 {
					status = "failed"
				}
				r := payments.Resource{ID: fmt.Sprintf("WDBENCH%09d", i), Marketplace: marketplace, Type: "debits", Status: status,
					CreatedAt: at, UpdatedAt: at, Links: map[string]string{},
					Fields: map[string]any{"amount": json.Number(fmt.Sprint(100 + i%5000)), "currency": "USD", "status": status,
						"description": fmt.Sprintf("sale %d", i), "transaction_number": fmt.Sprintf("W%09d", i), "meta": map[string]any{}}}
				if err := tx.InsertResource(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
