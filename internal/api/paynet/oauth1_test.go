package paynet_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dghubble/oauth1"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/store/storetest"
)

type secrets map[string]string

func (s secrets) ControlKey(_ context.Context, login string) (string, error) {
	if k, ok := s[login]; ok {
		return k, nil
	}
	return "", apperr.New(apperr.NotFound, "no login %s", login)
}

// recorder keeps the last request a client sent, to replay it.
type recorder struct {
	next http.RoundTripper
	last *http.Request
	body []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(req.Body)
	r.last, r.body = req.Clone(req.Context()), b
	req.Body = io.NopCloser(bytes.NewReader(b))
	return r.next.RoundTrip(req)
}

// Requests are signed by an independent OAuth 1.0 implementation
// (github.com/dghubble/oauth1) and checked by ours.
func TestOAuth1Signatures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		clk := clock.NewManual(time.Now())
		v := &paynet.Verifier{Secrets: secrets{"merchant-login": "control key/with+odd chars"}, Nonces: db, Clock: clk}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			login, err := v.Verify(r.Context(), r, body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			io.WriteString(w, login)
		}))
		defer srv.Close()

		sign := func(key, secret string) (*http.Client, *recorder) {
			rec := &recorder{next: http.DefaultTransport}
			ctx := context.WithValue(context.Background(), oauth1.HTTPClient, &http.Client{Transport: rec})
			return oauth1.NewConfig(key, secret).Client(ctx, oauth1.NewToken("", "")), rec
		}
		form := url.Values{"balance-name": {"Main USD"}, "note": {"a b&c=d ~*"}}
		post := func(c *http.Client, path string) (int, string) {
			t.Helper()
			resp, err := c.PostForm(srv.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}

		// (The signing library keeps one value per parameter name, so the
		// query here repeats none; our verifier signs every value, as RFC 5849
		// says.)
		good, rec := sign("merchant-login", "control key/with+odd chars")
		if code, body := post(good, "/paynet/api/v2/get-balance/merchant/merchant-login?x=1&y=a%20b"); code != 200 || body != "merchant-login" {
			t.Fatalf("signed request: %d %s", code, body)
		}

		// The same request again (same nonce): a replay.
		replay, _ := http.NewRequest(rec.last.Method, rec.last.URL.String(), bytes.NewReader(rec.body))
		replay.Header = rec.last.Header.Clone()
		resp, err := http.DefaultClient.Do(replay)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("replayed request: %d", resp.StatusCode)
		}

		// A changed body breaks the signature.
		post(good, "/p")
		tampered, _ := http.NewRequest(rec.last.Method, rec.last.URL.String(), strings.NewReader(strings.Replace(string(rec.body), "Main", "Other", 1)))
		tampered.Header = rec.last.Header.Clone()
		clk.Advance(time.Second)
		if resp, _ := http.DefaultClient.Do(tampered); resp.StatusCode != 401 {
			t.Fatalf("tampered body: %d", resp.StatusCode)
		}

		wrong, _ := sign("merchant-login", "not the control key")
		if code, _ := post(wrong, "/p"); code != 401 {
			t.Fatalf("wrong secret: %d", code)
		}
		unknown, _ := sign("nobody", "x")
		if code, _ := post(unknown, "/p"); code != 401 {
			t.Fatalf("unknown consumer: %d", code)
		}
		if resp, _ := http.PostForm(srv.URL+"/p", form); resp.StatusCode != 401 {
			t.Fatalf("unsigned: %d", resp.StatusCode)
		}
		// A request whose timestamp is outside the window is refused.
		clk.Advance(paynet.TimestampWindow + time.Minute)
		if code, _ := post(good, "/p"); code != 401 {
			t.Fatalf("stale timestamp: %d", code)
		}
	})
}
