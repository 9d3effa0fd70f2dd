package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// An account's tally is stored with its balances by the operation that
// moves it, in an account the batch creates or one it loads, and is undone
// with everything else of an operation that fails, whatever the other
// operations of its batch do.
func TestATallyIsKeptOrUndoneWithItsOperation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		f := newFixture(t, kind)
		ctx := context.Background()
		world := f.account("mp", "network", true)
		order := f.account("mp", "order", false)

		refused := errors.New("refused after its tally")
		const ops = 40
		var wg sync.WaitGroup
		errs := make([]error, ops)
		for i := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.l.Do(ctx, []string{world, order}, func(_ context.Context, w *ledger.Writer) (any, error) {
					if _, err := w.Transfer(ledger.TransferRequest{Postings: []ledger.Posting{
						{AccountID: world, AmountMinor: -10}, {AccountID: order, AmountMinor: 10}}}); err != nil {
						return nil, err
					}
					if err := w.Tally(order, 10); err != nil {
						return nil, err
					}
					if i%3 == 0 {
						return nil, refused
					}
					return nil, nil
				})
			}()
		}
		wg.Wait()
		kept := int64(0)
		for i, err := range errs {
			switch {
			case i%3 == 0 && !errors.Is(err, refused):
				t.Fatalf("operation %d: %v, want it refused", i, err)
			case i%3 != 0 && err != nil:
				t.Fatalf("operation %d: %v", i, err)
			case err == nil:
				kept++
			}
		}
		a, err := f.l.Account(ctx, order)
		if err != nil {
			t.Fatal(err)
		}
		if a.PostedMinor != 10*kept || a.TallyMinor != 10*kept {
			t.Fatalf("after %d kept operations: posted %d, tally %d; want %d each", kept, a.PostedMinor, a.TallyMinor, 10*kept)
		}

		// A tally alone, and one on an account created in the same
		// operation, are stored too.
		var created string
		if _, err := f.l.Do(ctx, []string{order}, func(_ context.Context, w *ledger.Writer) (any, error) {
			if err := w.Tally(order, -3); err != nil {
				return nil, err
			}
			n, err := w.CreateAccount(ledger.Account{Owner: "mp", Kind: "order", Currency: "USD"})
			if err != nil {
				return nil, err
			}
			created = n.ID
			return nil, w.Tally(n.ID, 7)
		}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int64{order: 10*kept - 3, created: 7} {
			if a, err := f.l.Account(ctx, id); err != nil || a.TallyMinor != want {
				t.Fatalf("account %s: tally %d (%v), want %d", id, a.TallyMinor, err, want)
			}
		}
		f.verify()
	})
}
