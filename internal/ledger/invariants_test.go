package ledger_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// checkInvariants asserts what must hold after every batch: the verifier
// agrees with the materialized balances, every currency sums to zero, and
// no account that may not go negative is short.
func checkInvariants(t *testing.T, f *fixture, ids []string) {
	t.Helper()
	f.verify()
	var sum int64
	for _, aid := range ids {
		a, err := f.l.Account(context.Background(), aid)
		if err != nil {
			t.Fatal(err)
		}
		sum += a.PostedMinor
		if !a.MayGoNegative && a.AvailableMinor() < 0 {
			t.Fatalf("account %s may not go negative but has %+v", aid, a.Balance)
		}
	}
	if sum != 0 {
		t.Fatalf("accounts sum to %d, not zero", sum)
	}
}

// 10,000 random transfers and holds across 50 accounts, submitted
// concurrently so that they share batches, with the invariants checked
// after every round.
func TestRandomTransfersKeepInvariants(t *testing.T) {
	const (
		accounts  = 50
		total     = 10_000
		round     = 500
		senders   = 16
		maxAmount = 5_000
	)
	storetest.Each(t, func(t *testing.T, kind string) {
		f := newFixture(t, kind)
		ids := make([]string, accounts)
		for i := range ids {
			// One in five accounts stands for the outside world.
			ids[i] = f.account("mp1", "random", i%5 == 0)
		}
		var mu sync.Mutex
		var pending []string
		refused := 0
		for done := 0; done < total; done += round {
			var wg sync.WaitGroup
			for s := 0; s < senders; s++ {
				wg.Add(1)
				go func(seed uint64) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(seed, uint64(done)))
					for i := 0; i < round/senders; i++ {
						err := randomOp(f, rng, ids, &mu, &pending, maxAmount)
						if err != nil {
							switch apperr.CodeOf(err) {
							case apperr.InsufficientFunds, apperr.Conflict:
								mu.Lock()
								refused++
								mu.Unlock()
							default:
								t.Errorf("unexpected error: %v", err)
							}
						}
					}
				}(uint64(s))
			}
			wg.Wait()
			checkInvariants(t, f, ids)
			if t.Failed() {
				return
			}
		}
		if refused == 0 || refused > total/2 {
			t.Fatalf("%d of %d operations were refused; the mix tests nothing", refused, total)
		}
	})
}

func randomOp(f *fixture, rng *rand.Rand, ids []string, mu *sync.Mutex, pending *[]string, maxAmount int64) error {
	ctx := context.Background()
	from, to := ids[rng.IntN(len(ids))], ids[rng.IntN(len(ids))]
	for to == from {
		to = ids[rng.IntN(len(ids))]
	}
	amount := 1 + rng.Int64N(maxAmount)
	switch op := rng.IntN(10); {
	case op < 6:
		_, err := f.move(from, to, amount)
		return err
	case op < 8:
		tr, err := f.l.Transfer(ctx, ledger.TransferRequest{Pending: true, Postings: []ledger.Posting{
			{AccountID: from, AmountMinor: -amount}, {AccountID: to, AmountMinor: amount}}})
		if err == nil {
			mu.Lock()
			*pending = append(*pending, tr.ID)
			mu.Unlock()
		}
		return err
	default:
		mu.Lock()
		if len(*pending) == 0 {
			mu.Unlock()
			return nil
		}
		i := rng.IntN(len(*pending))
		pid := (*pending)[i]
		*pending = append((*pending)[:i], (*pending)[i+1:]...)
		mu.Unlock()
		if op == 8 {
			tr, err := f.l.GetTransfer(ctx, pid)
			if err != nil {
				return err
			}
			_, err = f.l.Post(ctx, pid, 1+rng.Int64N(tr.Postings[1].AmountMinor))
			return err
		}
		_, err := f.l.Void(ctx, pid)
		return err
	}
}

// An account holding 100.00 and 200 payouts of 1.00 from 64 goroutines:
// exactly 100 succeed and the balance ends at exactly zero.
func TestConcurrentPayoutsNeverOverdraw(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		f := newFixture(t, kind)
		source, escrow, bank := f.account("mp1", "card", true), f.account("mp1", "escrow", false), f.account("mp1", "bank", true)
		f.mustMove(source, escrow, 100_00)
		succeeded := payoutStorm(t, []*fixture{f}, escrow, bank)
		if succeeded != 100 {
			t.Fatalf("%d payouts succeeded, want exactly 100", succeeded)
		}
		f.wantBalance(escrow, 0, 0, 0)
		f.verify()
	})
}

// The same with two ledgers, each with its own connection pool and
// committer, as two poise processes sharing one PostgreSQL would be.
func TestConcurrentPayoutsTwoProcessesPostgres(t *testing.T) {
	storetest.RequirePostgres(t)
	u := storetest.URL(t, "postgres")
	a := newFixtureOn(t, storetest.OpenURL(t, u))
	b := newFixtureOn(t, storetest.OpenURL(t, u))
	source, escrow, bank := a.account("mp1", "card", true), a.account("mp1", "escrow", false), a.account("mp1", "bank", true)
	a.mustMove(source, escrow, 100_00)
	succeeded := payoutStorm(t, []*fixture{a, b}, escrow, bank)
	if succeeded != 100 {
		t.Fatalf("%d payouts succeeded, want exactly 100", succeeded)
	}
	a.wantBalance(escrow, 0, 0, 0)
	b.wantBalance(escrow, 0, 0, 0)
	a.verify()
}

func payoutStorm(t *testing.T, ledgers []*fixture, escrow, bank string) int {
	t.Helper()
	const goroutines, payouts = 64, 200
	next := make(chan int, payouts)
	for i := 0; i < payouts; i++ {
		next <- i
	}
	close(next)
	var mu sync.Mutex
	succeeded := 0
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(f *fixture) {
			defer wg.Done()
			for range next {
				_, err := f.move(escrow, bank, 1_00)
				switch {
				case err == nil:
					mu.Lock()
					succeeded++
					mu.Unlock()
				case apperr.Is(err, apperr.InsufficientFunds):
				default:
					t.Errorf("payout: %v", err)
				}
			}
		}(ledgers[g%len(ledgers)])
	}
	wg.Wait()
	return succeeded
}
