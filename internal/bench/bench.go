// Package bench measures Poise's write path. Run measures the ledger alone:
// transfers per second through the committer, with the money spread over
// many accounts or every transfer touching one hot account. SetUp and
// Marketplace.Run measure what a client sees: a running server driven over
// HTTP through the Balanced API, card debits into many orders or one, and
// credits out of one funded order.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// Shape says which accounts the transfers touch.
type Shape string

const (
	// Spread moves money between random pairs of many accounts.
	Spread Shape = "spread"
	// Hot sends every transfer into one account, as every debit without an
	// order does with a marketplace's escrow.
	Hot Shape = "hot"
)

// Options describes one run.
type Options struct {
	Shape      Shape
	Submitters int
	Duration   time.Duration
	// Accounts is how many funded accounts money comes from (and, spread,
	// goes to).
	Accounts int
	// Settle, when set, runs after setup and before measuring (for
	// example to refresh the database's statistics).
	Settle func(context.Context) error
}

// Result is what one run measured.
type Result struct {
	Options
	Transfers    int64
	Refused      int64
	Overloaded   int64
	Elapsed      time.Duration
	Batches      int64
	PerSecond    float64
	AvgBatchSize float64
}

func (r Result) String() string {
	return fmt.Sprintf("%-6s submitters=%-3d transfers=%-8d elapsed=%-6s %8.0f transfers/s  avg batch %.1f",
		r.Shape, r.Submitters, r.Transfers, r.Elapsed.Round(time.Millisecond), r.PerSecond, r.AvgBatchSize)
}

// Run opens the accounts a run needs on l, then keeps opts.Submitters
// goroutines each submitting one transfer at a time, waiting for its
// answer, for opts.Duration.
func Run(ctx context.Context, l *ledger.Ledger, opts Options) (Result, error) {
	if opts.Accounts < 2 {
		opts.Accounts = 10_000
	}
	const owner = "bench"
	// fundingMinor gives each account far more than a run can move out of it,
	// so no transfer is refused and each is a real guarded two-account write.
	const fundingMinor = 1_000_000_000
	source, err := l.CreateAccount(ctx, ledger.Account{Owner: owner, Kind: "source", Currency: "USD", MayGoNegative: true})
	if err != nil {
		return Result{}, err
	}
	hot, err := l.CreateAccount(ctx, ledger.Account{Owner: owner, Kind: "hot", Currency: "USD"})
	if err != nil {
		return Result{}, err
	}
	var accounts []string
	// Open and fund accounts a thousand per operation: setup is not measured.
	for len(accounts) < opts.Accounts {
		chunk := min(1000, opts.Accounts-len(accounts))
		v, err := l.Do(ctx, nil, func(_ context.Context, w *ledger.Writer) (any, error) {
			ids := make([]string, 0, chunk)
			for i := 0; i < chunk; i++ {
				a, err := w.CreateAccount(ledger.Account{Owner: owner, Kind: "bench", Currency: "USD"})
				if err != nil {
					return nil, err
				}
				if _, err := w.Transfer(ledger.TransferRequest{Code: "fund", Postings: []ledger.Posting{
					{AccountID: source.ID, AmountMinor: -fundingMinor}, {AccountID: a.ID, AmountMinor: fundingMinor}}}); err != nil {
					return nil, err
				}
				ids = append(ids, a.ID)
			}
			return ids, nil
		})
		if err != nil {
			return Result{}, err
		}
		accounts = append(accounts, v.([]string)...)
	}
	if opts.Settle != nil {
		if err := opts.Settle(ctx); err != nil {
			return Result{}, err
		}
	}
	batches0, _, _ := l.Committer().Stats().Snapshot()

	var transfers, refused, overloaded atomic.Int64
	deadline := time.Now().Add(opts.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for s := 0; s < opts.Submitters; s++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 42))
			for time.Now().Before(deadline) {
				from := accounts[rng.IntN(len(accounts))]
				to := hot.ID
				if opts.Shape == Spread {
					for to = from; to == from; {
						to = accounts[rng.IntN(len(accounts))]
					}
				}
				_, err := l.Transfer(ctx, ledger.TransferRequest{Code: "bench", Postings: []ledger.Posting{
					{AccountID: from, AmountMinor: -1}, {AccountID: to, AmountMinor: 1}}})
				switch {
				case err == nil:
					transfers.Add(1)
				case apperr.Is(err, apperr.Overloaded):
					overloaded.Add(1)
				case apperr.Is(err, apperr.InsufficientFunds):
					refused.Add(1)
				default:
					return
				}
			}
		}(uint64(s))
	}
	wg.Wait()
	elapsed := time.Since(start)
	batches1, _, _ := l.Committer().Stats().Snapshot()
	r := Result{Options: opts, Transfers: transfers.Load(), Refused: refused.Load(), Overloaded: overloaded.Load(),
		Elapsed: elapsed, Batches: batches1 - batches0}
	r.PerSecond = float64(r.Transfers) / elapsed.Seconds()
	if r.Batches > 0 {
		r.AvgBatchSize = float64(r.Transfers) / float64(r.Batches)
	}
	return r, nil
}
