package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// Inside one transaction a locked resource is read from the
// transaction's own copy: it shows the transaction's writes, its changes
// to a returned copy do not leak into the next read, a rollback to a
// savepoint brings back what the database holds, another marketplace
// still finds nothing, and links are rewritten exactly when they change.
func TestLockedResourcesFollowTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		order := payments.Resource{ID: "OR1", Marketplace: "MP1", Type: "orders", Status: "pending", CreatedAt: at, UpdatedAt: at,
			Fields: map[string]any{"amount": 0}, Links: map[string]string{"merchant": "CU1"}, Private: map[string]any{}}
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.InsertResource(ctx, order) }); err != nil {
			t.Fatal(err)
		}
		amountOf := func(tx *store.Tx) string {
			t.Helper()
			r, err := tx.LockResource(ctx, "MP1", "OR1")
			if err != nil {
				t.Fatal(err)
			}
			return r.Fields["amount"].(interface{ String() string }).String()
		}
		err := db.Update(ctx, func(tx *store.Tx) error {
			r, err := tx.LockResource(ctx, "MP1", "OR1")
			if err != nil {
				return err
			}
			r.Fields["amount"] = 999 // a change never saved
			if got := amountOf(tx); got != "0" {
				t.Errorf("an unsaved change leaked into the next read: amount %s", got)
			}
			if _, err := tx.LockResource(ctx, "MP2", "OR1"); !errors.Is(err, ledger.ErrNotFound) {
				t.Errorf("another marketplace locked the order: %v", err)
			}
			r.Fields["amount"] = 100
			if err := tx.UpdateResource(ctx, r); err != nil {
				return err
			}
			if got := amountOf(tx); got != "100" {
				t.Errorf("after an update the transaction reads amount %s, want 100", got)
			}
			if err := tx.Savepoint(ctx, "op"); err != nil {
				return err
			}
			r.Fields["amount"] = 250
			r.Links["buyer"] = "CU2"
			if err := tx.UpdateResource(ctx, r); err != nil {
				return err
			}
			if err := tx.RollbackTo(ctx, "op"); err != nil {
				return err
			}
			if got := amountOf(tx); got != "100" {
				t.Errorf("after a rollback to the savepoint the transaction reads amount %s, want 100", got)
			}
			r, err = tx.LockResource(ctx, "MP1", "OR1")
			if err != nil {
				return err
			}
			if r.Links["buyer"] != "" {
				t.Errorf("a rolled-back link is still there: %v", r.Links)
			}
			// A new link after all: its row must be written although the
			// links were unchanged the last time the order was saved.
			r.Links["buyer"] = "CU3"
			return tx.UpdateResource(ctx, r)
		})
		if err != nil {
			t.Fatal(err)
		}
		linked, _, err := db.ListResources(ctx, payments.ListQuery{Marketplace: "MP1", Type: "orders", LinkRel: "buyer", LinkTarget: "CU3", Limit: 10})
		if err != nil || len(linked) != 1 {
			t.Fatalf("orders linked to buyer CU3: %d (%v), want 1", len(linked), err)
		}
		stale, _, err := db.ListResources(ctx, payments.ListQuery{Marketplace: "MP1", Type: "orders", LinkRel: "buyer", LinkTarget: "CU2", Limit: 10})
		if err != nil || len(stale) != 0 {
			t.Fatalf("orders linked to the rolled-back buyer CU2: %d (%v), want 0", len(stale), err)
		}
		merchant, _, err := db.ListResources(ctx, payments.ListQuery{Marketplace: "MP1", Type: "orders", LinkRel: "merchant", LinkTarget: "CU1", Limit: 10})
		if err != nil || len(merchant) != 1 {
			t.Fatalf("orders linked to merchant CU1: %d (%v), want 1", len(merchant), err)
		}
		got, err := db.GetResource(ctx, "MP1", "OR1")
		if err != nil {
			t.Fatal(err)
		}
		if a := got.Fields["amount"].(interface{ String() string }).String(); a != "100" {
			t.Errorf("committed amount %s, want 100", a)
		}
	})
}

// LinksOf answers from the rows the transaction holds back or has locked,
// in their latest form, and for no other marketplace's.
func TestLinksOfFollowsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		storeResources(t, db, heldResource("OR1", "orders", at, map[string]string{"merchant": "CU1"}))
		err := db.Update(ctx, func(tx *store.Tx) error {
			if _, _, ok := tx.LinksOf("MP1", "OR1"); ok {
				t.Error("LinksOf answered for a row the transaction never saw")
			}
			order, err := tx.LockResource(ctx, "MP1", "OR1")
			if err != nil {
				return err
			}
			if typ, links, ok := tx.LinksOf("MP1", "OR1"); !ok || typ != "orders" || links["merchant"] != "CU1" {
				t.Errorf("locked: %q %v %v", typ, links, ok)
			}
			if _, _, ok := tx.LinksOf("MP2", "OR1"); ok {
				t.Error("LinksOf answered for another marketplace")
			}
			order.Links = map[string]string{"merchant": "CU2"}
			if err := tx.UpdateResource(ctx, order); err != nil {
				return err
			}
			if _, links, ok := tx.LinksOf("MP1", "OR1"); !ok || links["merchant"] != "CU2" {
				t.Errorf("rewritten: %v %v", links, ok)
			}
			if err := tx.InsertResource(ctx, heldResource("DB1", "debits", at, map[string]string{"order": "OR1"})); err != nil {
				return err
			}
			if typ, links, ok := tx.LinksOf("MP1", "DB1"); !ok || typ != "debits" || links["order"] != "OR1" {
				t.Errorf("held back: %q %v %v", typ, links, ok)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
