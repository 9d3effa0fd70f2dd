package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/cli"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// A database written before fingerprints were keyed gets them rewritten
// when a server starts on it, once, with the server's encryption key.
func TestServeKeysOldFingerprintsAtStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		u := storetest.URL(t, kind)
		key := strings.Repeat("ab", vault.KeyLen)
		rawKey, _ := hex.DecodeString(key)
		v, _ := vault.New(rawKey)

		// The card as an older server stored it: unkeyed SHA-256.
		db := storetest.OpenURL(t, u)
		l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		s := payments.NewService(l, db, v)
		card, err := s.CreateCard(ctx, "", payments.CardInput{Number: "4111111111111111", ExpirationMonth: 12, ExpirationYear: 2030})
		if err != nil {
			t.Fatal(err)
		}
		keyed := payments.Str(card.Fields["fingerprint"])
		sum := sha256.Sum256([]byte("4111111111111111|12|2030"))
		err = db.Update(ctx, func(tx *store.Tx) error {
			r, err := tx.LockResource(ctx, "", card.ID)
			if err != nil {
				return err
			}
			r.Fields["fingerprint"] = hex.EncodeToString(sum[:])
			return tx.UpdateResource(ctx, r)
		})
		if err != nil {
			t.Fatal(err)
		}
		l.Close(ctx)

		start := func() string {
			t.Helper()
			runCtx, cancel := context.WithCancel(ctx)
			var stdout, stderr output
			env := cli.Env{Lookup: func(n string) (string, bool) { return "", false }, Stdout: &stdout, Stderr: &stderr, Version: "test"}
			exited := make(chan int, 1)
			args := append([]string{"serve", "--listen", "127.0.0.1:0", "--encryption-key", key}, storageArgs(kind, u)...)
			go func() { exited <- cli.Run(runCtx, args, env) }()
			waitForListening(t, &stderr, exited)
			cancel()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatal("serve did not stop")
			}
			return stderr.String()
		}
		if logs := start(); !strings.Contains(logs, `"msg":"rewrote unkeyed fingerprints","instruments":1`) {
			t.Fatalf("no rewrite logged:\n%s", logs)
		}
		got, err := db.GetResource(ctx, "", card.ID)
		if err != nil || payments.Str(got.Fields["fingerprint"]) != keyed {
			t.Fatalf("fingerprint after start = %v, %v; want %s", got.Fields["fingerprint"], err, keyed)
		}
		if logs := start(); strings.Contains(logs, "rewrote unkeyed fingerprints") {
			t.Fatalf("the step ran again:\n%s", logs)
		}
	})
}
