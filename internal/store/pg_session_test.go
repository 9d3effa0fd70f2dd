package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/poise-payments/poise/internal/ledger"
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
