package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A committer batch on PostgreSQL asks the server to answer twice: once
// for BEGIN with its locks, once for its writes with COMMIT. Each round
// trip is time the single writer waits, whatever the batch holds.
func TestABatchOnPostgreSQLTakesTwoRoundTrips(t *testing.T) {
	proxy, _, l := ledgerBehindCutter(t)
	ctx := context.Background()
	transfer := func() {
		if _, err := l.Transfer(ctx, ledger.TransferRequest{Code: "t", Ref: "r", Postings: []ledger.Posting{
			{AccountID: "SRC", AmountMinor: -1}, {AccountID: "DST", AmountMinor: 1}}}); err != nil {
			t.Error(err)
		}
	}
	// The first transfer prepares the statements, in round trips of its
	// own; count once they are known.
	transfer()
	measure := func(clients int) {
		t.Helper()
		trips, batches := proxy.roundTrips.Load(), batchesOf(l)
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for range 10 {
					transfer()
				}
			})
		}
		wg.Wait()
		trips, batches = proxy.roundTrips.Load()-trips, batchesOf(l)-batches
		if trips != 2*int32(batches) {
			t.Fatalf("%d clients: %d batches took %d round trips; want 2 each", clients, batches, trips)
		}
	}
	measure(1)
	measure(32)
}

// Every operation that emits an event asks whether its marketplace has a
// callback. A batch's first pipeline answers that for each ID of its hint,
// so the question costs no round trip of its own, and the answers are
// those the database would give.
func TestABatchKnowsItsMarketplacesCallbacksFromItsFirstPipeline(t *testing.T) {
	proxy, db, _ := ledgerBehindCutter(t)
	ctx := context.Background()
	callback := func(id, marketplace string, hidden bool) payments.Resource {
		return payments.Resource{ID: id, Marketplace: marketplace, Type: "callbacks", Hidden: hidden,
			Fields: map[string]any{"url": "https://example.com/" + id}, Links: map[string]string{}, Private: map[string]any{}}
	}
	storeResources(t, db, callback("CB1", "MP-LIVE", false), callback("CB2", "MP-DELETED", true),
		callback("CB3", "MP-BOTH", true), callback("CB4", "MP-BOTH", false))
	want := map[string]bool{"MP-LIVE": true, "MP-DELETED": false, "MP-BOTH": true, "MP-NONE": false}
	err := db.Ledger().Update(ctx, func(ltx ledger.Tx) error {
		if _, err := ltx.Prefetch(ctx, []string{"MP-BOTH", "MP-DELETED", "MP-LIVE", "MP-NONE", "SRC"}); err != nil {
			return err
		}
		tx := ltx.(*store.Tx)
		trips := proxy.roundTrips.Load()
		for marketplace, has := range want {
			got, err := tx.HasCallbacks(ctx, marketplace)
			if err != nil {
				return err
			}
			if got != has {
				t.Errorf("HasCallbacks(%s) = %v after the prefetch; want %v", marketplace, got, has)
			}
		}
		if n := proxy.roundTrips.Load() - trips; n != 0 {
			t.Errorf("HasCallbacks took %d round trips after the prefetch; want none", n)
		}
		// A callback the transaction writes is not in the database yet: a
		// later prefetch leaves the question to HasCallbacks, which flushes.
		if err := tx.InsertResource(ctx, callback("CB5", "MP-NEW", false)); err != nil {
			return err
		}
		if _, err := ltx.Prefetch(ctx, []string{"MP-NEW"}); err != nil {
			return err
		}
		if got, err := tx.HasCallbacks(ctx, "MP-NEW"); err != nil || !got {
			t.Errorf("HasCallbacks(MP-NEW) = %v, %v with its callback held back; want true", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A LinkedTo question a batch's hint names is asked in its first pipeline
// and answered from there, with the answer the database gives it later.
func TestABatchAnswersTheLinkedQuestionsItsHintNames(t *testing.T) {
	proxy, db, _ := ledgerBehindCutter(t)
	ctx := context.Background()
	merchant := func(id, marketplace, customer string, hidden bool) payments.Resource {
		return payments.Resource{ID: id, Marketplace: marketplace, Type: "merchants", Hidden: hidden,
			Fields: map[string]any{"name": id}, Links: map[string]string{"customer": customer}, Private: map[string]any{}}
	}
	storeResources(t, db, merchant("ME1", "MP", "CU", false), merchant("ME2", "MP", "CU", true),
		merchant("ME3", "MP-OTHER", "CU", false), merchant("ME4", "MP", "CU", false), merchant("ME5", "MP", "CU-OTHER", false))
	asked := payments.LinkedQuestion{Marketplace: "MP", Target: "CU", Rel: "customer", Type: "merchants", Limit: 10}
	ids := func(rs []payments.Resource) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return strings.Join(out, ",")
	}
	want, err := db.LinkedTo(ctx, asked.Marketplace, asked.Target, asked.Rel, asked.Type, asked.Limit)
	if err != nil || ids(want) != "ME4,ME1" {
		t.Fatalf("outside a transaction: %q, %v; want ME4,ME1", ids(want), err)
	}
	err = db.Ledger().Update(ctx, func(ltx ledger.Tx) error {
		if _, err := ltx.Prefetch(ctx, []string{payments.LinkedHint(asked), "SRC"}); err != nil {
			return err
		}
		tx := ltx.(*store.Tx)
		trips := proxy.roundTrips.Load()
		got, err := tx.LinkedTo(ctx, asked.Marketplace, asked.Target, asked.Rel, asked.Type, asked.Limit)
		if err != nil {
			return err
		}
		if ids(got) != ids(want) {
			t.Errorf("after the prefetch: %q; want %q", ids(got), ids(want))
		}
		if n := proxy.roundTrips.Load() - trips; n != 0 {
			t.Errorf("the question took %d round trips after the prefetch; want none", n)
		}
		// With a merchant held back, the database does not have every
		// merchant yet: the question is left to LinkedTo, which flushes.
		if err := tx.InsertResource(ctx, merchant("ME6", "MP", "CU", false)); err != nil {
			return err
		}
		if _, err := ltx.Prefetch(ctx, []string{payments.LinkedHint(asked)}); err != nil {
			return err
		}
		got, err = tx.LinkedTo(ctx, asked.Marketplace, asked.Target, asked.Rel, asked.Type, asked.Limit)
		if err != nil || !strings.Contains(ids(got), "ME6") {
			t.Errorf("with a merchant held back: %q, %v; want ME6 among them", ids(got), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func batchesOf(l *ledger.Ledger) int64 {
	batches, _, _ := l.Committer().Stats().Snapshot()
	return batches
}

// An update that is queued with the COMMIT has no caller to check how many
// rows it changed: the database checks, and a miss rolls everything back.
func TestAQueuedBalanceUpdateThatFindsNoRowRollsBack(t *testing.T) {
	db := storetest.Open(t, "postgres")
	ctx := context.Background()
	err := db.Ledger().Update(ctx, func(tx ledger.Tx) error {
		if err := tx.InsertAccounts(ctx, []ledger.Account{{ID: "NEW", Owner: "t", Kind: "escrow", Currency: "USD"}}); err != nil {
			return err
		}
		return tx.SetBalances(ctx, []ledger.Account{{ID: "NOWHERE", Owner: "t", Kind: "escrow", Currency: "USD"}})
	})
	if err == nil || !strings.Contains(err.Error(), "balances updated other than expected") {
		t.Fatalf("a balance update of a missing account: %v; want the database to refuse it", err)
	}
	if _, err := db.Ledger().Account(ctx, "NEW"); err != ledger.ErrNotFound {
		t.Fatalf("the account inserted beside it: %v; want it rolled back", err)
	}
}
