package paynet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dghubble/oauth1"

	"github.com/poise-payments/poise/internal/api/balanced"
	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// newStack serves both APIs over a fresh store, as poise serve does, and
// returns its URL.
func newStack(t *testing.T, kind string) string {
	t.Helper()
	db := storetest.Open(t, kind)
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	v, _ := vault.New(make([]byte, vault.KeyLen))
	svc := payments.NewService(l, db, v)
	mer := merchants.New(svc, db, v)
	bal := balanced.New(svc, mer, nil)
	pn := paynet.New(svc, mer, &paynet.Verifier{Secrets: mer, Nonces: db, Clock: clock.System()}, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, paynet.Prefix) || r.URL.Path == paynet.AdjustmentsPath {
			pn.ServeHTTP(w, r)
			return
		}
		bal.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// balancedCall sends a JSON request to the Balanced API with a secret and
// returns the status and the decoded body.
func balancedCall(t *testing.T, base, secret, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.SetBasicAuth(secret, "")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// openMarketplace makes an API key and its marketplace through call and
// returns the key's secret.
func openMarketplace(call func(secret, method, path string, body any) map[string]any) string {
	secret := firstOf(call("", "POST", "/api_keys", nil), "api_keys")["secret"].(string)
	call(secret, "POST", "/marketplaces", nil)
	return secret
}

// signedPost posts form to path as login, signed with its control key
// (OAuth 1.0a, as merchants and managers sign), asking for accept when it
// is not empty, and returns the status, the headers and the body.
func signedPost(t *testing.T, base, login, key, path string, form url.Values, accept string) (int, http.Header, []byte) {
	t.Helper()
	client := oauth1.NewConfig(login, key).Client(context.Background(), oauth1.NewToken("", ""))
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// mustCall returns a call of the Balanced API on base that fails the test
// on any answer but a success, and returns the decoded body.
func mustCall(t *testing.T, base string) func(secret, method, path string, body any) map[string]any {
	return func(secret, method, path string, body any) map[string]any {
		t.Helper()
		code, out := balancedCall(t, base, secret, method, path, body)
		if code >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, code, out)
		}
		return out
	}
}

// firstOf is the first resource of an answer's envelope, idOf its ID.
func firstOf(m map[string]any, plural string) map[string]any {
	return m[plural].([]any)[0].(map[string]any)
}

func idOf(m map[string]any, plural string) string { return firstOf(m, plural)["id"].(string) }
