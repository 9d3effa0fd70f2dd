package paynet_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// What poise get-balance signs, the verifier accepts; a changed body or
// another secret it refuses.
func TestSignRequestRoundTrip(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	v := &paynet.Verifier{Secrets: secrets{"shop": "the shop's control key"}, Nonces: db, Clock: clock.System()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(r.Context(), r, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	send := func(secret, signed, sent string) int {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+paynet.Prefix+"merchant/shop?x=a+b", strings.NewReader(sent))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := paynet.SignRequest(req, []byte(signed), "shop", secret, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send("the shop's control key", "balance-name=Main+USD", "balance-name=Main+USD"); code != 200 {
		t.Fatalf("signed: %d", code)
	}
	if code := send("the shop's control key", "balance-name=Main+USD", "balance-name=Other"); code != 401 {
		t.Fatalf("changed body: %d", code)
	}
	if code := send("another key", "", ""); code != 401 {
		t.Fatalf("wrong secret: %d", code)
	}
}
