package balanced_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

type received = struct {
	header string
	body   []byte
}

// A marketplace reads its callback's signing secret (on creation, by id
// and in the list), and a receiver holding it verifies a delivery the way
// the README shows: HMAC-SHA256 of "<t>.<body>", compared with v1.
func TestCallbackSecretVerifiesDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		defer l.Close(ctx)
		v, _ := vault.New(make([]byte, vault.KeyLen))
		api := newAPI(l, db, v)
		srv := httptest.NewServer(api)
		defer srv.Close()
		got := make(chan received, 10)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- received{r.Header.Get("Poise-Signature"), b}
		}))
		defer receiver.Close()

		c := newMarketplace(t, srv.URL, 0)
		other := newMarketplace(t, srv.URL, 0)
		created := c.do("POST", "/callbacks", map[string]any{"url": receiver.URL + "/hook"})
		if created.status != 201 {
			t.Fatalf("callback: %d %s", created.status, created.raw)
		}
		cb := created.id("callbacks")
		secretIn := func(r reply) string {
			t.Helper()
			meta, _ := r.body["meta"].(map[string]any)
			secrets, _ := meta["signing_secrets"].(map[string]any)
			s, _ := secrets[cb].(string)
			return s
		}
		secret := secretIn(created)
		if len(secret) != 64 {
			t.Fatalf("no signing secret on creation: %s", created.raw)
		}
		if s := secretIn(c.do("GET", "/callbacks/"+cb, nil)); s != secret {
			t.Fatalf("GET /callbacks/:id shows secret %q, want the one given at creation", s)
		}
		if s := secretIn(c.do("GET", "/callbacks", nil)); s != secret {
			t.Fatalf("GET /callbacks shows secret %q", s)
		}
		if r := other.do("GET", "/callbacks/"+cb, nil); r.status != 404 || strings.Contains(string(r.raw), secret) {
			t.Fatalf("another marketplace reads the callback: %d %s", r.status, r.raw)
		}
		if r := other.do("GET", "/callbacks", nil); strings.Contains(string(r.raw), secret) {
			t.Fatalf("another marketplace lists the secret: %s", r.raw)
		}

		c.do("POST", "/customers", map[string]any{"name": "Ada"})
		deliverer := events.NewDeliverer(db, clock.System(), receiver.Client(), api.RenderEvent)
		// Every event of the marketplace not yet dispatched goes out: its
		// creation's and the customer's.
		_, sent, err := deliverer.RunOnce(ctx)
		if err != nil || sent < 1 {
			t.Fatalf("sent %d, %v", sent, err)
		}
		for range sent {
			verifyDelivery(t, secret, <-got)
		}
	})
}

// verifyDelivery is the receiver's side, written from the README, not
// from events.Sign.
func verifyDelivery(t *testing.T, secret string, d received) {
	t.Helper()
	var ts, sig string
	for part := range strings.SplitSeq(d.header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		t.Fatalf("timestamp %q is not recent", ts)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(d.body)))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		t.Fatalf("signature %q does not verify with the secret the API shows (want %s)", d.header, want)
	}
	mac = hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(d.body) + " "))
	if hmac.Equal([]byte(sig), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		t.Fatal("a changed body verifies")
	}
}
