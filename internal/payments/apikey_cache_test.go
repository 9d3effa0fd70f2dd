package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// A deleted key stops working at once in the process that deleted it,
// although it was just used there, and soon in another process sharing
// the database, which had used it too.
func TestADeletedKeyStopsAuthenticating(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		v, err := vault.New(make([]byte, vault.KeyLen))
		if err != nil {
			t.Fatal(err)
		}
		process := func() *payments.Service {
			l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
			t.Cleanup(func() { l.Close(context.Background()) })
			return payments.NewService(l, db, v)
		}
		here, there := process(), process()
		owner, _ := newMarketplace(t, here)
		doomed, secret, err := here.CreateAPIKey(ctx, &owner, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []*payments.Service{here, there} {
			if _, err := s.Authenticate(ctx, secret); err != nil {
				t.Fatalf("a live key: %v", err)
			}
		}
		if err := here.DeleteAPIKey(ctx, owner, doomed.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := here.Authenticate(ctx, secret); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("the deleting process still accepts the key: %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := there.Authenticate(ctx, secret)
			if apperr.CodeOf(err) == apperr.Unauthorized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("another process still accepts the deleted key after 10 s: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
