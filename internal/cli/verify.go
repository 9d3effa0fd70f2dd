package cli

import (
	"context"
	"fmt"

	"github.com/poise-payments/poise/internal/ledger"
)

func runVerify(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet(env, "verify", "[flags]", serverEnvPrefix, `
Replays the whole journal, recomputes every account's balance from it, and
compares them with the stored balances. It also checks that every transfer
sums to zero, that every currency sums to zero across accounts, and that no
account breaks its rule. It reads only, so it can run beside live servers.

Prints each difference found. Exits 0 when the ledger is consistent, 1 when
it is not or cannot be read, 2 on a usage error.`)
	storage := addStorageFlags(fs)
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if err := storage.validate(); err != nil {
		return fs.fail(err)
	}
	db, err := storage.open(ctx, true)
	if err != nil {
		fmt.Fprintf(env.Stderr, "poise verify: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	counted := &countingStore{Store: db.Ledger()}
	found, err := ledger.Verify(ctx, counted)
	if err != nil {
		fmt.Fprintf(env.Stderr, "poise verify: reading %s: %v\n", storage.describe(), err)
		return exitFailure
	}
	for _, m := range found {
		fmt.Fprintf(env.Stdout, "mismatch: %s\n", m)
	}
	if len(found) > 0 {
		fmt.Fprintf(env.Stdout, "ledger verification FAILED: %d mismatches over %d accounts and %d transfers\n",
			len(found), counted.accounts, counted.transfers)
		return exitFailure
	}
	fmt.Fprintf(env.Stdout, "ledger verified: %d accounts and %d transfers ok\n", counted.accounts, counted.transfers)
	return exitOK
}

// countingStore counts what the verifier reads as it reads it, so the
// report can say how much was checked without a second pass.
type countingStore struct {
	ledger.Store
	accounts  int
	transfers int
}

func (s *countingStore) ScanAccounts(ctx context.Context, fn func(ledger.Account) error) error {
	return s.Store.ScanAccounts(ctx, func(a ledger.Account) error {
		s.accounts++
		return fn(a)
	})
}

func (s *countingStore) ScanJournal(ctx context.Context, fn func(ledger.Transfer) error) error {
	return s.Store.ScanJournal(ctx, func(t ledger.Transfer) error {
		s.transfers++
		return fn(t)
	})
}
