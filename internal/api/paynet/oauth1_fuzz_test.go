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
	"unicode/utf8"

	"github.com/dghubble/oauth1"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// cleanSecrets answers one login's control key, and fails the test when the
// verifier asks it about a consumer key no database could hold as text.
type cleanSecrets struct {
	t             *testing.T
	login, secret string
}

func (s cleanSecrets) ControlKey(_ context.Context, login string) (string, error) {
	if strings.IndexByte(login, 0) >= 0 || !utf8.ValidString(login) {
		s.t.Fatalf("the verifier looked up consumer key %q", login)
	}
	if login == s.login {
		return s.secret, nil
	}
	return "", apperr.New(apperr.NotFound, "no login %s", login)
}

// Whatever Authorization header, query and form body arrive, verification
// refuses with 401 or 400: it never panics, never lets an unsigned request
// through, and never looks up a consumer key that is not text.
func FuzzOAuthHeader(f *testing.F) {
	for _, s := range [][3]string{
		{`OAuth oauth_consumer_key="shop", oauth_nonce="n", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1700000000", oauth_signature="x"`, "", ""},
		{`OAuth oauth_consumer_key="sh%00op", oauth_nonce="n", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1700000000", oauth_signature="x"`, "", ""},
		{`OAuth oauth_consumer_key="shop", oauth_nonce="n", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1700000000", oauth_signature="x"`, "oauth_consumer_key=other", ""},
		{`OAuth realm="x", oauth_consumer_key="sh%00op", oauth_signature_method="HMAC-SHA1"`, "a=1", "b=2"},
		{`OAuth oauth_consumer_key=shop,oauth_consumer_key=other`, "oauth_consumer_key=third", "oauth_signature=x"},
		{`OAuth ,,,=,"=",oauth_`, "%zz", "%"},
		{`Basic c2hvcDp4`, "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	db := storetest.Open(f, "sqlite")
	f.Fuzz(func(t *testing.T, authorization, query, body string) {
		req := httptest.NewRequest(http.MethodPost, "http://poise.test"+paynet.Prefix+"merchant/shop", strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", authorization)
		// A fixed clock, so that inputs with its timestamp reach the
		// consumer lookup and the signature check.
		v := &paynet.Verifier{Secrets: cleanSecrets{t: t, login: "shop", secret: "control"}, Nonces: db, Clock: clock.NewManual(fuzzNow)}
		login, err := v.Verify(context.Background(), req, []byte(body))
		if err == nil {
			t.Fatalf("an unsigned request verified as %q", login)
		}
		if code := apperr.CodeOf(err); code != apperr.Unauthorized && code != apperr.Invalid {
			t.Fatalf("%v is neither 401 nor 400", err)
		}
	})
}

// A request signed by an independent OAuth 1.0 library
// (github.com/dghubble/oauth1) with any login, secret and parameters
// verifies as that login.
func FuzzOAuthSignedByAnotherLibrary(f *testing.F) {
	f.Add("merchant-login", "control key/with+odd chars", "balance-name", "Main USD", "a b&c=d ~*")
	f.Add("m", "", "", "", "")
	f.Add("ünïcode", "sécret", "kéy", "välue", "%41")
	db := storetest.Open(f, "sqlite")
	f.Fuzz(func(t *testing.T, login, secret, key, value, query string) {
		for _, s := range []string{login, secret, key, value, query} {
			if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
				t.Skip("the verifier refuses text that is not UTF-8 or holds a NUL")
			}
		}
		if login == "" || strings.HasPrefix(key, "oauth_") || key == "realm" {
			t.Skip("not a login, or a parameter the protocol reserves")
		}
		if key == "q" {
			// The signing library keeps one value per name (a map), so a
			// name in both the query and the body is signed once; RFC 5849
			// 3.4.1.3 signs every value, as the verifier does.
			t.Skip("a name the query uses too")
		}
		var sent *http.Request
		var sentBody []byte
		capture := roundTripper(func(r *http.Request) (*http.Response, error) {
			sent = r
			if r.Body != nil {
				sentBody, _ = io.ReadAll(r.Body)
			}
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
		})
		ctx := context.WithValue(context.Background(), oauth1.HTTPClient, &http.Client{Transport: capture})
		client := oauth1.NewConfig(login, secret).Client(ctx, oauth1.NewToken("", ""))
		target := "http://poise.test" + paynet.Prefix + "merchant/shop?q=" + url.QueryEscape(query)
		resp, err := client.PostForm(target, url.Values{key: {value}})
		if err != nil {
			t.Skipf("the signing library refused: %v", err)
		}
		resp.Body.Close()
		req := httptest.NewRequest(sent.Method, sent.URL.String(), bytes.NewReader(sentBody))
		req.Header = sent.Header.Clone()
		v := &paynet.Verifier{Secrets: cleanSecrets{t: t, login: login, secret: secret}, Nonces: db, Clock: clock.NewManual(time.Now())}
		got, err := v.Verify(context.Background(), req, sentBody)
		if err != nil || got != login {
			t.Fatalf("signed as %q with %q, %q=%q, q=%q: verified as %q, %v (Authorization %s)", login, secret, key, value, query, got, err, sent.Header.Get("Authorization"))
		}
	})
}

// fuzzNow is the fuzzed verifier's time: oauth_timestamp 1700000000.
var fuzzNow = time.Unix(1_700_000_000, 0)

// Parameters that are not text, or protocol parameters given twice, are
// refused before any lookup.
func TestOAuthRefusesAmbiguousOrNonTextParameters(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	head := `OAuth oauth_nonce="n", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1700000000", oauth_signature="x", `
	for _, tc := range []struct{ authorization, query string }{
		{head + `oauth_consumer_key="sh%00op"`, ""},
		{head + `oauth_consumer_key="sh%FFop"`, ""},
		{head + `oauth_consumer_key="shop"`, "oauth_consumer_key=other"},
		{head + `oauth_consumer_key="shop", oauth_consumer_key="other"`, ""},
		{head + `oauth_consumer_key="shop"`, "note=%00"},
	} {
		req := httptest.NewRequest(http.MethodPost, "http://poise.test"+paynet.Prefix+"merchant/shop?"+tc.query, nil)
		req.Header.Set("Authorization", tc.authorization)
		v := &paynet.Verifier{Secrets: cleanSecrets{t: t, login: "shop", secret: "control"}, Nonces: db, Clock: clock.NewManual(fuzzNow)}
		if _, err := v.Verify(context.Background(), req, nil); err == nil || apperr.CodeOf(err) == apperr.Internal {
			t.Errorf("%s ?%s: %v", tc.authorization, tc.query, err)
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
