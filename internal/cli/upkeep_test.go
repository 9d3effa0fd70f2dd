package cli

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
)

func TestUpkeepExpiresDueHoldsAndPurgesOldRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		clk := clock.NewManual(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
		l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
		defer l.Close(ctx)
		card, _ := l.CreateAccount(ctx, ledger.Account{Owner: "MP1", Kind: "card", Currency: "USD", MayGoNegative: true})
		escrow, err := l.CreateAccount(ctx, ledger.Account{Owner: "MP1", Kind: "escrow", Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		hold, err := l.Transfer(ctx, ledger.TransferRequest{Pending: true, ExpiresAt: clk.Now().Add(24 * time.Hour),
			Postings: []ledger.Posting{{AccountID: card.ID, AmountMinor: -500}, {AccountID: escrow.ID, AmountMinor: 500}}})
		if err != nil {
			t.Fatal(err)
		}
		keeper := idempotency.NewKeeper(db, l)
		req := idempotency.Request{Scope: idempotency.ScopeOf("AK1", "POST", "/debits"), Key: "k1", Hash: idempotency.HashOf(nil)}
		noop := func(context.Context, *ledger.Writer) (idempotency.Response, error) {
			return idempotency.Response{StatusCode: 201}, nil
		}
		if _, _, err := keeper.Do(ctx, req, nil, noop, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.UseNonce(ctx, "shop", "n1", clk.Now()); err != nil {
			t.Fatal(err)
		}
		u := &upkeep{log: slog.New(slog.DiscardHandler), ledger: l, records: db, nonces: db, clock: clk}

		// Nothing is due yet: a sweep changes nothing.
		u.sweep(ctx)
		if got, _ := l.GetTransfer(ctx, hold.ID); got.Status != ledger.StatusPending {
			t.Fatalf("hold is %s before its expiry", got.Status)
		}
		if _, err := db.LookupIdempotency(ctx, req.Scope, req.Key); err != nil {
			t.Fatalf("record purged before its retention: %v", err)
		}

		clk.Advance(idempotency.Retention + time.Minute)
		u.sweep(ctx)
		if got, _ := l.GetTransfer(ctx, hold.ID); got.Status != ledger.StatusExpired {
			t.Errorf("hold is %s after its expiry", got.Status)
		}
		if a, _ := l.Account(ctx, card.ID); a.PendingOutMinor != 0 {
			t.Errorf("the expired hold still reserves %d", a.PendingOutMinor)
		}
		if _, err := db.LookupIdempotency(ctx, req.Scope, req.Key); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("record kept past its retention: %v", err)
		}
		// The nonce is forgotten, so it could be used again; a request
		// carrying it is refused by its stale timestamp instead.
		if err := db.UseNonce(ctx, "shop", "n1", clk.Now()); err != nil {
			t.Errorf("nonce kept past the timestamp window: %v", err)
		}
	})
}
