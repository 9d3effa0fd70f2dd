package ledger_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

var epoch = time.Date(2026, 11, 20, 11, 30, 0, 0, time.UTC)

// fixture is a ledger over a real store with a manual clock.
type fixture struct {
	t     *testing.T
	db    *store.DB
	clock *clock.Manual
	l     *ledger.Ledger
}

func newFixture(t *testing.T, kind string) *fixture {
	t.Helper()
	db := storetest.Open(t, kind)
	return newFixtureOn(t, db)
}

func newFixtureOn(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	clk := clock.NewManual(epoch)
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	return &fixture{t: t, db: db, clock: clk, l: l}
}

func (f *fixture) account(owner, kind string, mayGoNegative bool) string {
	f.t.Helper()
	a, err := f.l.CreateAccount(context.Background(), ledger.Account{Owner: owner, Kind: kind, Currency: "USD", MayGoNegative: mayGoNegative})
	if err != nil {
		f.t.Fatalf("create account: %v", err)
	}
	return a.ID
}

func (f *fixture) move(from, to string, amount int64) (ledger.Transfer, error) {
	return f.l.Transfer(context.Background(), ledger.TransferRequest{Postings: []ledger.Posting{
		{AccountID: from, AmountMinor: -amount}, {AccountID: to, AmountMinor: amount},
	}})
}

func (f *fixture) mustMove(from, to string, amount int64) ledger.Transfer {
	f.t.Helper()
	tr, err := f.move(from, to, amount)
	if err != nil {
		f.t.Fatalf("move %d from %s to %s: %v", amount, from, to, err)
	}
	return tr
}

func (f *fixture) hold(from, to string, amount int64, expires time.Time) ledger.Transfer {
	f.t.Helper()
	tr, err := f.l.Transfer(context.Background(), ledger.TransferRequest{Pending: true, ExpiresAt: expires, Postings: []ledger.Posting{
		{AccountID: from, AmountMinor: -amount}, {AccountID: to, AmountMinor: amount},
	}})
	if err != nil {
		f.t.Fatalf("hold %d: %v", amount, err)
	}
	return tr
}

func (f *fixture) balance(id string) ledger.Balance {
	f.t.Helper()
	a, err := f.l.Account(context.Background(), id)
	if err != nil {
		f.t.Fatalf("account %s: %v", id, err)
	}
	return a.Balance
}

func (f *fixture) wantBalance(id string, posted, pendingIn, pendingOut int64) {
	f.t.Helper()
	want := ledger.Balance{PostedMinor: posted, PendingInMinor: pendingIn, PendingOutMinor: pendingOut}
	if got := f.balance(id); got != want {
		f.t.Fatalf("balance of %s = %+v, want %+v", id, got, want)
	}
}

func (f *fixture) verify() {
	f.t.Helper()
	found, err := ledger.Verify(context.Background(), f.db.Ledger())
	if err != nil {
		f.t.Fatalf("verify: %v", err)
	}
	for _, m := range found {
		f.t.Errorf("verify: %s", m)
	}
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if apperr.CodeOf(err) != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

// The store contract: every behaviour of the ledger, on both stores.
func TestLedgerContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		t.Run("transfer moves posted money and sums to zero", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow := f.account("mp1", "card", true), f.account("mp1", "escrow", false)
			tr := f.mustMove(card, escrow, 1500)
			f.wantBalance(card, -1500, 0, 0)
			f.wantBalance(escrow, 1500, 0, 0)
			got, err := f.l.GetTransfer(context.Background(), tr.ID)
			if err != nil || len(got.Postings) != 2 || got.Status != ledger.StatusPosted || got.Postings[1].Currency != "USD" {
				t.Fatalf("stored transfer = %+v, %v", got, err)
			}
			f.verify()
		})
		t.Run("refuses to overdraw and changes nothing", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow, bank := f.account("mp1", "card", true), f.account("mp1", "escrow", false), f.account("mp1", "bank", true)
			f.mustMove(card, escrow, 1000)
			_, err := f.move(escrow, bank, 1001)
			wantCode(t, err, apperr.InsufficientFunds)
			f.wantBalance(escrow, 1000, 0, 0)
			f.wantBalance(bank, 0, 0, 0)
			f.mustMove(escrow, bank, 1000)
			f.wantBalance(escrow, 0, 0, 0)
			f.verify()
		})
		t.Run("bad requests are refused", func(t *testing.T) {
			f := newFixture(t, kind)
			a, b := f.account("mp1", "card", true), f.account("mp1", "escrow", false)
			eur, err := f.l.CreateAccount(context.Background(), ledger.Account{Owner: "mp1", Kind: "escrow", Currency: "EUR"})
			if err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name     string
				postings []ledger.Posting
				code     apperr.Code
			}{
				{"one leg", []ledger.Posting{{AccountID: a, AmountMinor: 5}}, apperr.Invalid},
				{"not zero-sum", []ledger.Posting{{AccountID: a, AmountMinor: -5}, {AccountID: b, AmountMinor: 4}}, apperr.Invalid},
				{"zero amount", []ledger.Posting{{AccountID: a, AmountMinor: 0}, {AccountID: b, AmountMinor: 0}}, apperr.Invalid},
				{"same account twice", []ledger.Posting{{AccountID: a, AmountMinor: -5}, {AccountID: a, AmountMinor: 5}}, apperr.Invalid},
				{"unknown account", []ledger.Posting{{AccountID: a, AmountMinor: -5}, {AccountID: "LAnope", AmountMinor: 5}}, apperr.NotFound},
				{"currency mismatch", []ledger.Posting{{AccountID: a, AmountMinor: -5}, {AccountID: eur.ID, AmountMinor: 5}}, apperr.Invalid},
				{"wrong stated currency", []ledger.Posting{{AccountID: a, Currency: "EUR", AmountMinor: -5}, {AccountID: b, AmountMinor: 5}}, apperr.Invalid},
				{"beyond the amount limit", []ledger.Posting{{AccountID: a, AmountMinor: -ledger.MaxAmountMinor - 1}, {AccountID: b, AmountMinor: ledger.MaxAmountMinor + 1}}, apperr.Invalid},
			}
			for _, c := range cases {
				_, err := f.l.Transfer(context.Background(), ledger.TransferRequest{Postings: c.postings})
				if apperr.CodeOf(err) != c.code {
					t.Errorf("%s: error = %v, want %s", c.name, err, c.code)
				}
			}
			f.wantBalance(a, 0, 0, 0)
			f.wantBalance(b, 0, 0, 0)
			f.verify()
		})
		t.Run("a reused transfer ID is a conflict", func(t *testing.T) {
			f := newFixture(t, kind)
			a, b := f.account("mp1", "card", true), f.account("mp1", "escrow", false)
			req := ledger.TransferRequest{ID: "TRfixed", Postings: []ledger.Posting{{AccountID: a, AmountMinor: -5}, {AccountID: b, AmountMinor: 5}}}
			if _, err := f.l.Transfer(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			_, err := f.l.Transfer(context.Background(), req)
			wantCode(t, err, apperr.Conflict)
			f.wantBalance(b, 5, 0, 0)
			f.verify()
		})
		t.Run("a pending outflow counts against funds at once", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow, bank := f.account("mp1", "card", true), f.account("mp1", "escrow", false), f.account("mp1", "bank", true)
			f.mustMove(card, escrow, 1000)
			f.hold(escrow, bank, 700, time.Time{})
			f.wantBalance(escrow, 1000, 0, 700)
			f.wantBalance(bank, 0, 700, 0)
			_, err := f.move(escrow, bank, 301)
			wantCode(t, err, apperr.InsufficientFunds)
			f.mustMove(escrow, bank, 300)
			f.wantBalance(escrow, 700, 0, 700)
			f.verify()
		})
		t.Run("post in full, in part, void, and terminal states never change", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow := f.account("mp1", "card", true), f.account("mp1", "escrow", false)
			ctx := context.Background()

			full := f.hold(card, escrow, 500, time.Time{})
			if _, err := f.l.Post(ctx, full.ID, 0); err != nil {
				t.Fatal(err)
			}
			f.wantBalance(escrow, 500, 0, 0)

			part := f.hold(card, escrow, 400, time.Time{})
			rec, err := f.l.Post(ctx, part.ID, 150)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Kind != ledger.KindPost || rec.PendingID != part.ID {
				t.Fatalf("post record = %+v", rec)
			}
			f.wantBalance(escrow, 650, 0, 0)
			f.wantBalance(card, -650, 0, 0)

			void := f.hold(card, escrow, 300, time.Time{})
			f.wantBalance(escrow, 650, 300, 0)
			if _, err := f.l.Void(ctx, void.ID); err != nil {
				t.Fatal(err)
			}
			f.wantBalance(escrow, 650, 0, 0)

			for _, pid := range []string{full.ID, part.ID, void.ID} {
				_, err := f.l.Post(ctx, pid, 0)
				wantCode(t, err, apperr.Conflict)
				_, err = f.l.Void(ctx, pid)
				wantCode(t, err, apperr.Conflict)
			}
			got, _ := f.l.GetTransfer(ctx, void.ID)
			if got.Status != ledger.StatusVoided || got.ResolvedBy == "" {
				t.Fatalf("voided transfer = %+v", got)
			}
			_, err = f.l.Post(ctx, f.hold(card, escrow, 100, time.Time{}).ID, 101)
			wantCode(t, err, apperr.Invalid)
			_, err = f.l.Post(ctx, "TRmissing", 0)
			wantCode(t, err, apperr.NotFound)
			_, err = f.l.Post(ctx, full.ID+"x", 0)
			wantCode(t, err, apperr.NotFound)
			f.verify()
		})
		t.Run("an operation that goes on after a refusal keeps nothing of it", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow, bank := f.account("mp1", "card", true), f.account("mp1", "escrow", false), f.account("mp1", "bank", true)
			f.mustMove(card, escrow, 100)
			_, err := f.l.Do(context.Background(), nil, func(_ context.Context, w *ledger.Writer) (any, error) {
				_, err := w.Transfer(ledger.TransferRequest{Postings: []ledger.Posting{{AccountID: escrow, AmountMinor: -101}, {AccountID: bank, AmountMinor: 101}}})
				if !apperr.Is(err, apperr.InsufficientFunds) {
					t.Errorf("overdraw: %v", err)
				}
				return w.Transfer(ledger.TransferRequest{Postings: []ledger.Posting{{AccountID: escrow, AmountMinor: -40}, {AccountID: bank, AmountMinor: 40}}})
			})
			if err != nil {
				t.Fatal(err)
			}
			f.wantBalance(escrow, 60, 0, 0)
			f.wantBalance(bank, 40, 0, 0)
			f.verify()
		})
		t.Run("a pending transfer posted and voided in the same batch", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow := f.account("mp1", "card", true), f.account("mp1", "escrow", false)
			_, err := f.l.Do(context.Background(), nil, func(_ context.Context, w *ledger.Writer) (any, error) {
				p, err := w.Transfer(ledger.TransferRequest{Pending: true, Postings: []ledger.Posting{{AccountID: card, AmountMinor: -90}, {AccountID: escrow, AmountMinor: 90}}})
				if err != nil {
					return nil, err
				}
				if _, err := w.Post(p.ID, 60); err != nil {
					return nil, err
				}
				_, err = w.Void(p.ID)
				return nil, err
			})
			wantCode(t, err, apperr.Conflict) // the void is refused, so the whole operation is undone
			f.wantBalance(escrow, 0, 0, 0)
			f.wantBalance(card, 0, 0, 0)
			f.verify()
		})
		t.Run("holds expire only when due", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow := f.account("mp1", "card", true), f.account("mp1", "escrow", false)
			h := f.hold(card, escrow, 250, epoch.Add(7*24*time.Hour))
			n, err := f.l.ExpireDue(context.Background())
			if err != nil || n != 0 {
				t.Fatalf("early sweep expired %d, %v", n, err)
			}
			f.clock.Advance(7 * 24 * time.Hour)
			_, err = f.l.Post(context.Background(), h.ID, 0)
			wantCode(t, err, apperr.Conflict)
			n, err = f.l.ExpireDue(context.Background())
			if err != nil || n != 1 {
				t.Fatalf("sweep expired %d, %v", n, err)
			}
			f.wantBalance(escrow, 0, 0, 0)
			got, _ := f.l.GetTransfer(context.Background(), h.ID)
			if got.Status != ledger.StatusExpired {
				t.Fatalf("status = %s", got.Status)
			}
			f.verify()
		})
		t.Run("balance at a past instant comes from the journal", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow := f.account("mp1", "card", true), f.account("mp1", "escrow", false)
			f.mustMove(card, escrow, 100)
			t1 := f.clock.Now()
			f.clock.Advance(time.Hour)
			f.mustMove(card, escrow, 50)
			f.clock.Advance(time.Hour)
			f.hold(card, escrow, 70, time.Time{})
			for _, c := range []struct {
				at   time.Time
				want int64
			}{{t1.Add(-time.Second), 0}, {t1, 100}, {t1.Add(time.Hour), 150}, {f.clock.Now(), 150}} {
				got, err := f.l.PostedBalanceAt(context.Background(), escrow, c.at)
				if err != nil || got != c.want {
					t.Errorf("balance at %s = %d, %v; want %d", c.at, got, err, c.want)
				}
			}
		})
		t.Run("one refusal does not sink its batch", func(t *testing.T) {
			f := newFixture(t, kind)
			card, escrow, bank := f.account("mp1", "card", true), f.account("mp1", "escrow", false), f.account("mp1", "bank", true)
			f.mustMove(card, escrow, 100)
			var wg sync.WaitGroup
			errs := make([]error, 40)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					amount := int64(1)
					if i%4 == 0 {
						amount = 1_000_000 // always refused
					}
					_, errs[i] = f.move(escrow, bank, amount)
				}()
			}
			wg.Wait()
			ok := 0
			for i, err := range errs {
				if i%4 == 0 {
					wantCode(t, err, apperr.InsufficientFunds)
				} else if err == nil {
					ok++
				}
			}
			if ok != 30 {
				t.Fatalf("%d small payouts succeeded, want 30", ok)
			}
			f.wantBalance(escrow, 70, 0, 0)
			f.verify()
		})
	})
}
