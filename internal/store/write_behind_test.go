package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

func heldResource(id, typ string, at time.Time, links map[string]string) payments.Resource {
	return payments.Resource{ID: id, Marketplace: "MP1", Type: typ, Status: "succeeded", CreatedAt: at, UpdatedAt: at,
		Fields: map[string]any{"amount": 1}, Links: links, Private: map[string]any{}}
}

// storeResources inserts rs, each in a committed transaction of its own.
func storeResources(t *testing.T, db *store.DB, rs ...payments.Resource) {
	t.Helper()
	for _, r := range rs {
		if err := db.Update(context.Background(), func(tx *store.Tx) error {
			return tx.InsertResource(context.Background(), r)
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// countResources counts the rows of resource id, as tx or the database
// outside any transaction sees them.
func countResources(t *testing.T, q interface {
	QueryRow(ctx context.Context, query string, args ...any) *store.Row
}, id string) int {
	t.Helper()
	var n int
	if err := q.QueryRow(context.Background(), "SELECT COUNT(*) FROM resources WHERE id = ?", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Writes a transaction holds back are there for every statement that runs
// after them in the transaction, and an operation's savepoint undoes
// exactly that operation's writes, whether they were still held back or
// had to reach the database before the savepoint's end.
func TestHeldBackWritesAreSeenAndUndoneLikeWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.InsertResource(ctx, heldResource("DB1", "debits", at, map[string]string{"order": "OR1"})); err != nil {
				return err
			}
			// A statement the store cannot see into reads the held-back row.
			if n := countResources(t, tx, "DB1"); n != 1 {
				t.Errorf("a query in the transaction sees %d rows of a written resource, want 1", n)
			}
			linked, err := tx.LinkedTo(ctx, "MP1", "OR1", "order", "debits", 10)
			if err != nil || len(linked) != 1 {
				t.Errorf("linked debits of OR1: %d (%v), want 1", len(linked), err)
			}

			// An operation whose writes were all held back, undone.
			if err := tx.Savepoint(ctx, "op1"); err != nil {
				return err
			}
			if err := tx.InsertResource(ctx, heldResource("DB2", "debits", at, map[string]string{"order": "OR1"})); err != nil {
				return err
			}
			if _, err := tx.LockResource(ctx, "MP1", "DB2"); err != nil {
				t.Errorf("the operation cannot read what it wrote: %v", err)
			}
			if err := tx.RollbackTo(ctx, "op1"); err != nil {
				return err
			}

			// An operation that also ran a statement of its own: the
			// savepoint must cover its held-back writes made before that
			// statement and after it, but not the earlier operation's.
			if err := tx.InsertResource(ctx, heldResource("DB3", "debits", at, nil)); err != nil {
				return err
			}
			if err := tx.Savepoint(ctx, "op2"); err != nil {
				return err
			}
			if err := tx.InsertResource(ctx, heldResource("DB4", "debits", at, nil)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO paynet_logins (login, marketplace_id, resource_id) VALUES (?, ?, ?)", "undone", "MP1", "DB4"); err != nil {
				return err
			}
			if err := tx.InsertResource(ctx, heldResource("DB5", "debits", at, nil)); err != nil {
				return err
			}
			if err := tx.RollbackTo(ctx, "op2"); err != nil {
				return err
			}

			// A released operation keeps its writes, and a resource inserted
			// and then updated is stored in its final form.
			if err := tx.Savepoint(ctx, "op3"); err != nil {
				return err
			}
			r := heldResource("DB6", "debits", at, map[string]string{"order": "OR1"})
			if err := tx.InsertResource(ctx, r); err != nil {
				return err
			}
			r.Status, r.Links = "failed", map[string]string{"order": "OR2"}
			if err := tx.UpdateResource(ctx, r); err != nil {
				return err
			}
			return tx.Release(ctx, "op3")
		})
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int{"DB1": 1, "DB2": 0, "DB3": 1, "DB4": 0, "DB5": 0, "DB6": 1} {
			if n := countResources(t, db, id); n != want {
				t.Errorf("%s: %d rows after commit, want %d", id, n, want)
			}
		}
		if _, _, err := db.Login(ctx, "undone"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a rolled-back operation's own statement survived: %v", err)
		}
		got, err := db.GetResource(ctx, "MP1", "DB6")
		if err != nil || got.Status != "failed" || got.Links["order"] != "OR2" {
			t.Errorf("DB6 stored as %q linked %v (%v), want failed linked to OR2", got.Status, got.Links, err)
		}
		for order, want := range map[string]int{"OR1": 1, "OR2": 1} {
			linked, err := db.LinkedTo(ctx, "MP1", order, "order", "debits", 10)
			if err != nil || len(linked) != want {
				t.Errorf("debits linked to %s: %d (%v), want %d", order, len(linked), err, want)
			}
		}
	})
}

// A held-back write the database refuses fails the whole transaction at
// its flush: nothing of it is stored.
func TestARefusedHeldBackWriteFailsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		storeResources(t, db, heldResource("DB1", "debits", at, nil))
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.InsertResource(ctx, heldResource("DB2", "debits", at, nil)); err != nil {
				return err
			}
			return tx.InsertResource(ctx, heldResource("DB1", "debits", at, nil))
		})
		if !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("inserting an existing ID: %v, want a duplicate", err)
		}
		if n := countResources(t, db, "DB2"); n != 0 {
			t.Errorf("the failed transaction stored DB2")
		}
	})
}

// Whether a marketplace has a callback follows the transaction's own
// writes: a callback created in it counts for the events after it.
func TestHasCallbacksFollowsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		err := db.Update(ctx, func(tx *store.Tx) error {
			if has, err := tx.HasCallbacks(ctx, "MP1"); err != nil || has {
				t.Errorf("a marketplace without callbacks: %v (%v)", has, err)
			}
			cb := heldResource("CB1", "callbacks", at, nil)
			if err := tx.InsertResource(ctx, cb); err != nil {
				return err
			}
			if has, err := tx.HasCallbacks(ctx, "MP1"); err != nil || !has {
				t.Errorf("after creating a callback: %v (%v)", has, err)
			}
			if has, err := tx.HasCallbacks(ctx, "MP2"); err != nil || has {
				t.Errorf("another marketplace: %v (%v)", has, err)
			}
			cb.Hidden = true
			if err := tx.UpdateResource(ctx, cb); err != nil {
				return err
			}
			if has, err := tx.HasCallbacks(ctx, "MP1"); err != nil || has {
				t.Errorf("after deleting the callback: %v (%v)", has, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// LinkedTo's answers follow the transaction's writes, and an answer kept
// from before a rollback is not served after it.
func TestLinkedToFollowsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		count := func(tx *store.Tx) int {
			t.Helper()
			found, err := tx.LinkedTo(ctx, "MP1", "CU1", "merchant", "balances", 10)
			if err != nil {
				t.Fatal(err)
			}
			return len(found)
		}
		err := db.Update(ctx, func(tx *store.Tx) error {
			if n := count(tx); n != 0 {
				t.Errorf("before any balance: %d", n)
			}
			if err := tx.InsertResource(ctx, heldResource("BL1", "balances", at, map[string]string{"merchant": "CU1"})); err != nil {
				return err
			}
			if n := count(tx); n != 1 {
				t.Errorf("after a balance is written: %d, want 1", n)
			}
			if err := tx.Savepoint(ctx, "op"); err != nil {
				return err
			}
			if err := tx.InsertResource(ctx, heldResource("BL2", "balances", at, map[string]string{"merchant": "CU1"})); err != nil {
				return err
			}
			if n := count(tx); n != 2 {
				t.Errorf("after a second balance: %d, want 2", n)
			}
			if err := tx.RollbackTo(ctx, "op"); err != nil {
				return err
			}
			if n := count(tx); n != 1 {
				t.Errorf("after the second balance is rolled back: %d, want 1", n)
			}
			// A payment's own writes do not drop the answer, and the kept
			// answer is a copy the caller may change.
			found, _ := tx.LinkedTo(ctx, "MP1", "CU1", "merchant", "balances", 10)
			found[0].Fields["amount"] = 99
			again, _ := tx.LinkedTo(ctx, "MP1", "CU1", "merchant", "balances", 10)
			if a := again[0].Fields["amount"]; a == 99 {
				t.Errorf("a change to an answer leaked into the next one")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// An idempotency record held back is found by the next lookup in the same
// transaction, and a second insert of its key is a duplicate at once.
func TestHeldBackIdempotencyRecordsAreFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		rec := idempotency.Record{Scope: "MP1", Key: "k1", RequestHash: "h", StatusCode: 201, Response: []byte(`{"ok":1}`), CreatedAt: at}
		err := db.Update(ctx, func(tx *store.Tx) error {
			if _, err := tx.LookupIdempotency(ctx, "MP1", "k1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("before: %v", err)
			}
			if err := tx.InsertIdempotency(ctx, rec); err != nil {
				return err
			}
			got, err := tx.LookupIdempotency(ctx, "MP1", "k1")
			if err != nil || got.StatusCode != 201 || string(got.Response) != `{"ok":1}` || !got.CreatedAt.Equal(at) {
				t.Errorf("held back: %+v (%v)", got, err)
			}
			if err := tx.InsertIdempotency(ctx, rec); !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("a second insert of the key: %v, want a duplicate", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := db.LookupIdempotency(ctx, "MP1", "k1"); err != nil || got.RequestHash != "h" {
			t.Fatalf("after commit: %+v (%v)", got, err)
		}
	})
}

// One flush holding every kind of held-back write stores each as written:
// a new resource and its links, a stored one rewritten with new links (the
// old ones gone), a feed entry, and a job whose kind and key are taken
// already (left as it was).
func TestAFlushOfEveryKindStoresEachWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		job := scheduler.Job{ID: "JB1", Kind: "k", Key: "one", Payload: "MP1", DueAt: at}
		if err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.InsertResource(ctx, heldResource("OR1", "orders", at, map[string]string{"merchant": "CU1"})); err != nil {
				return err
			}
			return tx.ScheduleJob(ctx, job, at)
		}); err != nil {
			t.Fatal(err)
		}
		err := db.Update(ctx, func(tx *store.Tx) error {
			order, err := tx.LockResource(ctx, "MP1", "OR1")
			if err != nil {
				return err
			}
			order.Status = "paid"
			order.Links = map[string]string{"merchant": "CU2"}
			if err := tx.UpdateResource(ctx, order); err != nil {
				return err
			}
			if err := tx.InsertResource(ctx, heldResource("DB1", "debits", at, map[string]string{"order": "OR1"})); err != nil {
				return err
			}
			if err := tx.InsertFeed(ctx, payments.FeedEntry{ID: "BT1", Marketplace: "MP1", Merchant: "CU2", Type: "sale",
				AmountMinor: 100, Currency: "USD", SourceID: "DB1", OccurredAt: at}); err != nil {
				return err
			}
			again := job
			again.ID, again.Payload = "JB2", "other"
			return tx.ScheduleJob(ctx, again, at)
		})
		if err != nil {
			t.Fatal(err)
		}
		order, err := db.GetResource(ctx, "MP1", "OR1")
		if err != nil || order.Status != "paid" || order.Links["merchant"] != "CU2" {
			t.Fatalf("order = %+v, %v; want paid, merchant CU2", order, err)
		}
		for _, want := range []struct {
			target, rel, typ string
			n                int
		}{{"CU1", "merchant", "orders", 0}, {"CU2", "merchant", "orders", 1}, {"OR1", "order", "debits", 1}} {
			found, err := db.LinkedTo(ctx, "MP1", want.target, want.rel, want.typ, 10)
			if err != nil || len(found) != want.n {
				t.Errorf("%s %s %s: %d linked (%v), want %d", want.target, want.rel, want.typ, len(found), err, want.n)
			}
		}
		feed, err := db.FeedOf(ctx, "MP1", "CU2")
		if err != nil || len(feed) != 1 || feed[0].AmountMinor != 100 {
			t.Errorf("feed = %+v, %v; want one entry of 100", feed, err)
		}
		var jobs int
		var payload string
		if err := db.QueryRow(ctx, "SELECT COUNT(*), MAX(payload) FROM jobs WHERE kind = 'k' AND key = 'one'").Scan(&jobs, &payload); err != nil {
			t.Fatal(err)
		}
		if jobs != 1 || payload != "MP1" {
			t.Errorf("jobs of k/one = %d with payload %q, want the first alone", jobs, payload)
		}
	})
}

// Held-back updates do not rewrite a resource's marketplace, so the one
// update that changes it (an instrument claimed by a marketplace) is
// written at once: whether the row was locked, or already rewritten and
// held back, the database and every later read in the transaction have it
// in its new marketplace, and lists find it there.
func TestAResourceMovedToAMarketplaceIsStoredThere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		for _, id := range []string{"CC1", "CC2"} {
			card := heldResource(id, "cards", at, nil)
			card.Marketplace = ""
			storeResources(t, db, card)
		}
		err := db.Update(ctx, func(tx *store.Tx) error {
			// CC1: locked, then moved.
			c1, err := tx.LockResource(ctx, "", "CC1")
			if err != nil {
				return err
			}
			c1.Marketplace = "MP1"
			if err := tx.UpdateResource(ctx, c1); err != nil {
				return err
			}
			// CC2: locked, rewritten in place (held back), then moved.
			c2, err := tx.LockResource(ctx, "", "CC2")
			if err != nil {
				return err
			}
			c2.Status = "pending"
			if err := tx.UpdateResource(ctx, c2); err != nil {
				return err
			}
			c2.Marketplace = "MP1"
			c2.Status = "succeeded"
			if err := tx.UpdateResource(ctx, c2); err != nil {
				return err
			}
			for _, id := range []string{"CC1", "CC2"} {
				if r, err := tx.LockResource(ctx, "MP1", id); err != nil || r.Marketplace != "MP1" {
					t.Errorf("%s read again in the transaction: %+v, %v; want it in MP1", id, r, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"CC1", "CC2"} {
			r, err := db.GetResource(ctx, "MP1", id)
			if err != nil || r.Marketplace != "MP1" || r.Status != "succeeded" {
				t.Errorf("%s after commit: %+v, %v; want it in MP1, succeeded", id, r, err)
			}
			if _, err := db.GetResource(ctx, "", id); err == nil {
				t.Errorf("%s is still found without a marketplace", id)
			}
		}
		cards, _, err := db.ListResources(ctx, payments.ListQuery{Marketplace: "MP1", Type: "cards", Limit: 10})
		if err != nil || len(cards) != 2 {
			t.Errorf("MP1 lists %d cards (%v), want 2", len(cards), err)
		}
	})
}
