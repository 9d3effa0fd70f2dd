package balanced_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"testing"

	"github.com/poise-payments/poise/internal/api/balanced"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

func serverWithSignup(t *testing.T, kind string, s balanced.Signup) string {
	t.Helper()
	db := storetest.Open(t, kind)
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	v, _ := vault.New(make([]byte, vault.KeyLen))
	api := newAPI(l, db, v)
	api.SetSignup(s)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Where signup is not open, only the operator's credential opens a
// marketplace; a tenant's own key still adds keys to its marketplace.
func TestSignupClosedNeedsTheOperatorToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := serverWithSignup(t, kind, balanced.Signup{OperatorToken: "op-secret-1"})
		anon := &client{t: t, base: base}
		for _, tc := range []struct {
			headers  []string
			status   int
			category string
		}{
			{nil, 401, "authentication-required"},
			{[]string{"Authorization", "Bearer wrong"}, 403, "forbidden"},
			{[]string{"Authorization", "Bearer op-secret-1x"}, 403, "forbidden"},
			{[]string{"Authorization", "Bearer "}, 401, "authentication-required"},
			{[]string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(":wrong"))}, 403, "forbidden"},
		} {
			if r := anon.do("POST", "/api_keys", nil, tc.headers...); r.status != tc.status || r.category() != tc.category {
				t.Errorf("POST /api_keys with %v: %d %s; want %d %s", tc.headers, r.status, r.raw, tc.status, tc.category)
			}
		}
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(":op-secret-1"))
		if r := anon.do("POST", "/api_keys", nil, "Authorization", basic); r.status != 201 {
			t.Fatalf("with the token as basic-auth password: %d %s", r.status, r.raw)
		}
		r := anon.do("POST", "/api_keys", nil, "Authorization", "Bearer op-secret-1")
		secret, _ := r.first("api_keys")["secret"].(string)
		if r.status != 201 || secret == "" {
			t.Fatalf("with the operator token: %d %s", r.status, r.raw)
		}
		tenant := &client{t: t, base: base, secret: secret}
		if r := tenant.do("POST", "/marketplaces", nil); r.status != 201 {
			t.Fatalf("marketplace: %d %s", r.status, r.raw)
		}
		if r := tenant.do("POST", "/api_keys", nil); r.status != 201 {
			t.Fatalf("a tenant adding a key: %d %s", r.status, r.raw)
		}
		if r := tenant.do("GET", "/api_keys", nil); len(r.body["api_keys"].([]any)) != 2 {
			t.Fatalf("keys of the marketplace: %s", r.raw)
		}
	})
}

func TestSignupClosedWithoutATokenOpensNothing(t *testing.T) {
	base := serverWithSignup(t, "sqlite", balanced.Signup{})
	anon := &client{t: t, base: base}
	if r := anon.do("POST", "/api_keys", nil, "Authorization", "Bearer anything"); r.status != 403 {
		t.Fatalf("POST /api_keys: %d %s", r.status, r.raw)
	}
}

func TestSignupOpenLetsAnyoneIn(t *testing.T) {
	base := serverWithSignup(t, "sqlite", balanced.Signup{Open: true, OperatorToken: "unused"})
	if r := (&client{t: t, base: base}).do("POST", "/api_keys", nil); r.status != 201 {
		t.Fatalf("POST /api_keys: %d %s", r.status, r.raw)
	}
}
