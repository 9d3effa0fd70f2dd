// Package paynet serves the merchant balance API: get-balance requests
// signed with OAuth 1.0 HMAC-SHA1 (RFC 5849), where the consumer key is the
// merchant's or manager's login and the consumer secret its control key.
package paynet

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// TimestampWindow is how far a request's oauth_timestamp may be from the
// server's clock. Five minutes absorbs clock skew between honest machines;
// nonces are remembered at least this long, so a replay is refused either
// by its timestamp or by its nonce.
const TimestampWindow = 5 * time.Minute

// maxNonceLen bounds the nonce a client sends.
const maxNonceLen = 128

// Secrets finds a consumer's secret: the control key of a login.
type Secrets interface {
	ControlKey(ctx context.Context, login string) (string, error)
}

// Nonces remembers the nonces of a consumer.
type Nonces interface {
	// UseNonce returns an error wrapping ledger.ErrDuplicate for a nonce
	// already used.
	UseNonce(ctx context.Context, consumer, nonce string, at time.Time) error
}

// Clock tells the verifier the time.
type Clock interface{ Now() time.Time }

// Verifier checks OAuth 1.0 HMAC-SHA1 signed requests.
type Verifier struct {
	Secrets Secrets
	Nonces  Nonces
	Clock   Clock
}

var errUnauthorized = func(format string, args ...any) error {
	return apperr.New(apperr.Unauthorized, "OAuth: "+format, args...)
}

// Verify checks r (whose body, already read, is body) and returns the
// consumer key it was signed for.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (string, error) {
	params, oauth, err := collect(r, body)
	if err != nil {
		return "", err
	}
	consumer := oauth["oauth_consumer_key"]
	if consumer == "" {
		return "", errUnauthorized("the request is not signed (no oauth_consumer_key)")
	}
	if m := oauth["oauth_signature_method"]; m != "HMAC-SHA1" {
		return "", errUnauthorized("signature method %q is not HMAC-SHA1", m)
	}
	if ver, ok := oauth["oauth_version"]; ok && ver != "1.0" {
		return "", errUnauthorized("oauth_version must be 1.0")
	}
	ts, err := strconv.ParseInt(oauth["oauth_timestamp"], 10, 64)
	if err != nil {
		return "", errUnauthorized("oauth_timestamp is missing or not a number")
	}
	now := v.Clock.Now()
	if d := now.Sub(time.Unix(ts, 0)); d > TimestampWindow || d < -TimestampWindow {
		return "", errUnauthorized("oauth_timestamp is more than %s from the server's time", TimestampWindow)
	}
	nonce := oauth["oauth_nonce"]
	if nonce == "" || len(nonce) > maxNonceLen {
		return "", errUnauthorized("oauth_nonce is missing or too long")
	}
	secret, err := v.Secrets.ControlKey(ctx, consumer)
	if apperr.Is(err, apperr.NotFound) {
		return "", errUnauthorized("unknown consumer key")
	}
	if err != nil {
		return "", err
	}
	want := Sign(r.Method, baseURI(r), params, secret, "")
	got := oauth["oauth_signature"]
	if !hmac.Equal([]byte(want), []byte(got)) {
		return "", errUnauthorized("the signature does not match")
	}
	// Only a correctly signed request spends its nonce: an attacker cannot
	// burn a client's nonces without its secret.
	if err := v.Nonces.UseNonce(ctx, consumer, nonce, now); errors.Is(err, ledger.ErrDuplicate) {
		return "", errUnauthorized("this nonce was used already")
	} else if err != nil {
		return "", err
	}
	return consumer, nil
}

// param is one request parameter, for the signature base string.
type param struct{ k, v string }

// collect gathers every parameter of the query, a form body and the
// Authorization header (RFC 5849 3.4.1.3.1), leaving out oauth_signature
// and realm, and returns the oauth_* ones as a map too.
func collect(r *http.Request, body []byte) ([]param, map[string]string, error) {
	var params []param
	oauth := map[string]string{}
	var bad error
	add := func(k, v string) {
		// A login or nonce goes to the database as text, which refuses a
		// NUL or bytes that are not UTF-8; no parameter needs them.
		if bad == nil && (strings.IndexByte(k+v, 0) >= 0 || !utf8.ValidString(k+v)) {
			bad = apperr.New(apperr.Invalid, "OAuth: parameters must be UTF-8 text without NUL characters")
		}
		if strings.HasPrefix(k, "oauth_") {
			// RFC 5849 3.5: protocol parameters come in one place, once;
			// two consumer keys would leave it unclear whose request this is.
			if _, twice := oauth[k]; twice && bad == nil {
				bad = errUnauthorized("%s is given more than once", k)
			}
			oauth[k] = v
		}
		if k == "oauth_signature" {
			return
		}
		params = append(params, param{k, v})
	}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			add(k, v)
		}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, apperr.New(apperr.Invalid, "the form body is malformed")
		}
		for k, vs := range form {
			for _, v := range vs {
				add(k, v)
			}
		}
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "OAuth ") {
		for _, part := range strings.Split(h[len("OAuth "):], ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			k, _ = url.PathUnescape(k)
			v, _ = url.PathUnescape(strings.Trim(v, `"`))
			if k == "realm" {
				continue
			}
			add(k, v)
		}
	}
	if bad != nil {
		return nil, nil, bad
	}
	return params, oauth, nil
}

// baseURI is the request's URL without query, as RFC 5849 3.4.1.2 wants:
// lower-case scheme and host, the port only when not the default.
func baseURI(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := strings.ToLower(r.Host)
	if h, port, ok := strings.Cut(host, ":"); ok && ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
		host = h
	}
	return scheme + "://" + host + r.URL.EscapedPath()
}

// Sign computes the HMAC-SHA1 signature of a request (RFC 5849 3.4.2).
func Sign(method, baseURI string, params []param, consumerSecret, tokenSecret string) string {
	enc := make([]string, len(params))
	sorted := make([]param, len(params))
	for i, p := range params {
		sorted[i] = param{percentEncode(p.k), percentEncode(p.v)}
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].k != sorted[j].k {
			return sorted[i].k < sorted[j].k
		}
		return sorted[i].v < sorted[j].v
	})
	for i, p := range sorted {
		enc[i] = p.k + "=" + p.v
	}
	base := strings.ToUpper(method) + "&" + percentEncode(baseURI) + "&" + percentEncode(strings.Join(enc, "&"))
	mac := hmac.New(sha1.New, []byte(percentEncode(consumerSecret)+"&"+percentEncode(tokenSecret)))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode is RFC 3986 encoding: everything but A-Z a-z 0-9 - . _ ~
// (url.QueryEscape differs: it writes a space as "+").
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
