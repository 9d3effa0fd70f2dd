package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// benchListRows is how many debits the marketplace under test holds; a
// second marketplace holds as many, which no query may read.
const benchListRows = 20_000

// BenchmarkListFilters measures a page of 25 debits read with each kind
// of filter, against a marketplace of benchListRows debits.
func BenchmarkListFilters(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(kind, func(b *testing.B) {
			if kind == "postgres" {
				storetest.RequirePostgres(b)
			}
			ctx := context.Background()
			db := storetest.Open(b, kind)
			base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			for _, mp := range []string{"MP1", "MP2"} {
				for start := 0; start < benchListRows; start += 1000 {
					err := db.Update(ctx, func(tx *store.Tx) error {
						for i := start; i < start+1000; i++ {
							at := base.Add(time.Duration(i) * time.Second)
							r := payments.Resource{ID: fmt.Sprintf("WD%s%06d", mp, i), Marketplace: mp, Type: "debits", Status: "succeeded",
								CreatedAt: at, UpdatedAt: at, Links: map[string]string{},
								Fields: map[string]any{"amount": json.Number(fmt.Sprint(i % 5000)), "status": "succeeded",
									"description": fmt.Sprintf("pledge %d", i), "meta": map[string]any{"tag": fmt.Sprint(i % 100)}}}
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
			if err := db.Analyze(ctx); err != nil {
				b.Fatal(err)
			}
			tag := payments.Attribute{Field: []string{"meta", "tag"}, Kind: payments.KindText}
			amount := payments.Attribute{Field: []string{"amount"}, Kind: payments.KindNumber}
			created := payments.Attribute{Own: payments.OwnCreatedAt, Kind: payments.KindTime}
			cases := []struct {
				name string
				q    payments.ListQuery
			}{
				{"unfiltered", payments.ListQuery{}},
				{"created_at_range", payments.ListQuery{Filters: []payments.Filter{
					{Attr: created, Op: payments.OpGe, Values: []any{base.Add(time.Hour)}},
					{Attr: created, Op: payments.OpLt, Values: []any{base.Add(2 * time.Hour)}}}}},
				{"meta_tag", payments.ListQuery{Filters: []payments.Filter{{Attr: tag, Op: payments.OpEq, Values: []any{"7"}}}}},
				{"amount_gt_sort_amount", payments.ListQuery{Filters: []payments.Filter{{Attr: amount, Op: payments.OpGt, Values: []any{int64(4000)}}},
					Order: []payments.OrderKey{{Attr: amount, Desc: true}}}},
			}
			for _, tc := range cases {
				b.Run(tc.name, func(b *testing.B) {
					q := tc.q
					q.Marketplace, q.Type, q.Limit = "MP1", "debits", 25
					for b.Loop() {
						items, total, err := db.ListResources(ctx, q)
						if err != nil || len(items) == 0 || total == 0 {
							b.Fatalf("%d items, total %d, %v", len(items), total, err)
						}
					}
				})
			}
		})
	}
}
