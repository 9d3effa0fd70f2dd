package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

func TestResourceStoreContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		put := func(r payments.Resource) {
			t.Helper()
			if err := db.Update(ctx, func(tx *store.Tx) error { return tx.InsertResource(ctx, r) }); err != nil {
				t.Fatalf("insert %s: %v", r.ID, err)
			}
		}
		debit := func(id, mp, customer string, at time.Duration, status string) payments.Resource {
			return payments.Resource{ID: id, Marketplace: mp, Type: "debits", Status: status,
				CreatedAt: base.Add(at), UpdatedAt: base.Add(at),
				Fields: map[string]any{"amount": json.Number("922337203685477580"), "status": status},
				Links:  map[string]string{"customer": customer, "order": "", "source": customer}}
		}
		put(debit("WD1", "MP1", "CU1", 1*time.Second, "succeeded"))
		put(debit("WD2", "MP1", "CU1", 2*time.Second, "failed"))
		put(debit("WD3", "MP1", "CU2", 3*time.Second, "succeeded"))
		put(debit("WD4", "MP2", "CU1", 4*time.Second, "succeeded"))

		got, err := db.GetResource(ctx, "MP1", "WD1")
		if err != nil || got.Fields["amount"] != json.Number("922337203685477580") || got.Link("customer") != "CU1" {
			t.Fatalf("get = %+v, %v (amounts must come back exact)", got, err)
		}
		if _, err := db.GetResource(ctx, "MP2", "WD1"); err != ledger.ErrNotFound {
			t.Fatalf("another marketplace's resource: %v, want not found", err)
		}

		ids := func(q payments.ListQuery) []string {
			t.Helper()
			if q.Limit == 0 {
				q.Limit = 10
			}
			items, total, err := db.ListResources(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range items {
				out = append(out, r.ID)
			}
			out = append(out, "total", string(rune('0'+total)))
			return out
		}
		check := func(name string, got []string, want ...string) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s = %v, want %v", name, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s = %v, want %v", name, got, want)
				}
			}
		}
		check("all of MP1, newest first", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits"}), "WD3", "WD2", "WD1", "total", "3")
		check("page", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits", Limit: 1, Offset: 1}), "WD2", "total", "3")
		check("by status", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits",
			Filters: []payments.Filter{{Attr: payments.Attribute{Field: []string{"status"}}, Op: payments.OpEq, Values: []any{"succeeded"}}}}), "WD3", "WD1", "total", "2")
		check("of a customer", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits", LinkRel: "customer", LinkTarget: "CU1"}), "WD2", "WD1", "total", "2")
		check("by ids", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits", IDs: []string{"WD1", "WD3", "WD4"}}), "WD3", "WD1", "total", "2")
		check("linking the target under any of several rels, once", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits",
			LinkRels: []string{"customer", "source"}, LinkTarget: "CU1"}), "WD2", "WD1", "total", "2")
		check("of a customer, other marketplace", ids(payments.ListQuery{Marketplace: "MP2", Type: "debits", LinkRel: "customer", LinkTarget: "CU1"}), "WD4", "total", "1")

		// Re-linking moves the resource between sub-collections; hiding
		// takes it out of lists but not out of reach by id.
		err = db.Update(ctx, func(tx *store.Tx) error {
			r, err := tx.LockResource(ctx, "MP1", "WD1")
			if err != nil {
				return err
			}
			r.Links["customer"], r.Hidden = "CU2", true
			r.UpdatedAt = base.Add(time.Minute)
			return tx.UpdateResource(ctx, r)
		})
		if err != nil {
			t.Fatal(err)
		}
		check("hidden left out", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits", LinkRel: "customer", LinkTarget: "CU2"}), "WD3", "total", "1")
		check("hidden asked for", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits", LinkRel: "customer", LinkTarget: "CU2", WithHidden: true}), "WD3", "WD1", "total", "2")
		check("old link gone", ids(payments.ListQuery{Marketplace: "MP1", Type: "debits", LinkRel: "customer", LinkTarget: "CU1"}), "WD2", "total", "1")
		if r, err := db.GetResource(ctx, "MP1", "WD1"); err != nil || !r.Hidden || !r.UpdatedAt.Equal(base.Add(time.Minute)) {
			t.Fatalf("after update: %+v, %v", r, err)
		}

		// API keys: found by the hash of their secret until deleted.
		key := payments.APIKey{ID: "AK1", SecretHash: "h1", Marketplace: "MP1", Meta: map[string]string{"a.b": "c"}, CreatedAt: base}
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.InsertAPIKey(ctx, key) }); err != nil {
			t.Fatal(err)
		}
		if k, err := db.APIKeyBySecretHash(ctx, "h1"); err != nil || k.ID != "AK1" || k.Meta["a.b"] != "c" {
			t.Fatalf("key = %+v, %v", k, err)
		}
		key.Deleted = true
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateAPIKey(ctx, key) }); err != nil {
			t.Fatal(err)
		}
		if _, err := db.APIKeyBySecretHash(ctx, "h1"); err != ledger.ErrNotFound {
			t.Fatalf("deleted key still found: %v", err)
		}
		if err := db.Update(ctx, func(tx *store.Tx) error {
			return tx.InsertAPIKey(ctx, payments.APIKey{ID: "AK2", SecretHash: "h1", CreatedAt: base})
		}); err == nil {
			t.Fatal("two keys with one secret hash were accepted")
		}
	})
}
