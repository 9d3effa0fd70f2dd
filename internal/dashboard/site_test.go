package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/api/balanced"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/dashboard"
	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// newSite starts a real server on loopback: a store, the ledger, the
// payments service, the Balanced API and the dashboard, routed as poise
// serve routes them. It returns the server's base URL.
func newSite(t testing.TB, kind string) string {
	t.Helper()
	base, _ := newSiteOn(t, storetest.Open(t, kind))
	return base
}

// newSiteOn is newSite on a store the caller holds.
func newSiteOn(t testing.TB, db *store.DB) (string, *store.DB) {
	t.Helper()
	s := startSite(t, db)
	return s.base, s.db
}

// site is a running server and the services behind it, for tests that set
// up what the API has no call for (merchants' balances in bulk) or that
// check pages against the services' own reads.
type site struct {
	base string
	db   *store.DB
	pay  *payments.Service
	mer  *merchants.Service
	// deliverer sends callbacks when a test says so.
	deliverer *events.Deliverer
	// newDashboard builds another dashboard over the same services, as a
	// server just started would have: nothing of its own read yet.
	newDashboard func() *dashboard.Dashboard
}

func startSite(t testing.TB, db *store.DB) *site {
	t.Helper()
	return startSiteAt(t, db, clock.System())
}

// startSiteAt is startSite with the server's clock given: a test that
// moves process time, as days passing would.
func startSiteAt(t testing.TB, db *store.DB, clk clock.Clock) *site {
	t.Helper()
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	v, _ := vault.New(make([]byte, vault.KeyLen))
	svc := payments.NewService(l, db, v)
	mer := merchants.New(svc, db, v)
	api := balanced.New(svc, mer, nil)
	deliverer := events.NewDeliverer(db, clk, nil, api.RenderEvent)
	newDashboard := func() *dashboard.Dashboard {
		t.Helper()
		dash, err := dashboard.New(svc, mer, l, dashboard.Options{Deliveries: db, History: db, Clock: clk, Retrier: deliverer})
		if err != nil {
			t.Fatal(err)
		}
		return dash
	}
	dash := newDashboard()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dashboard" || strings.HasPrefix(r.URL.Path, dashboard.Prefix) {
			dash.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &site{base: srv.URL, db: db, pay: svc, mer: mer, deliverer: deliverer, newDashboard: newDashboard}
}

// apiClient calls the Balanced API with one key.
type apiClient struct {
	t      testing.TB
	base   string
	secret string
}

func (c *apiClient) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.secret != "" {
		req.SetBasicAuth(c.secret, "")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// first is the one resource of an envelope.
func first(body map[string]any, plural string) map[string]any {
	list, _ := body[plural].([]any)
	if len(list) == 0 {
		return nil
	}
	m, _ := list[0].(map[string]any)
	return m
}

// newMarketplace opens a key and its marketplace through the API.
func newMarketplace(t testing.TB, base string) *apiClient {
	t.Helper()
	anon := &apiClient{t: t, base: base}
	_, key := anon.do("POST", "/api_keys", nil)
	c := &apiClient{t: t, base: base, secret: first(key, "api_keys")["secret"].(string)}
	if st, body := c.do("POST", "/marketplaces", nil); st != 201 {
		t.Fatalf("marketplace: %d %v", st, body)
	}
	return c
}

// sale debits a card for amount through the API and returns the debit's id.
func (c *apiClient) sale(amountMinor int64) string {
	c.t.Helper()
	st, body := c.do("POST", "/debits", map[string]any{"amount": amountMinor, "description": "a sale",
		"source": map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030}})
	if st != 201 {
		c.t.Fatalf("debit: %d %v", st, body)
	}
	return first(body, "debits")["id"].(string)
}

// refundsOf counts a debit's refunds as the API lists them.
func (c *apiClient) refundsOf(debit string) (count int, totalMinor int64) {
	c.t.Helper()
	st, body := c.do("GET", "/debits/"+debit+"/refunds?limit=100", nil)
	if st != 200 {
		c.t.Fatalf("refunds: %d %v", st, body)
	}
	list, _ := body["refunds"].([]any)
	for _, r := range list {
		totalMinor += int64(r.(map[string]any)["amount"].(float64))
	}
	return len(list), totalMinor
}

// browser is a cookie-keeping client of the pages that never follows a
// redirect, so tests see each answer.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newBrowser(t testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, resp)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, resp)
}

func read(t testing.TB, resp *http.Response) page {
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

var hiddenField = regexp.MustCompile(`name="([a-z_]+)" value="([^"]*)"`)

// field is the value of a hidden field of a page's form.
func (p page) field(name string) string {
	for _, m := range hiddenField.FindAllStringSubmatch(p.body, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

// signIn signs in with secret and returns the overview.
func (b *browser) signIn(secret string) page {
	b.t.Helper()
	form := b.get("/dashboard/sign-in")
	p := b.post("/dashboard/sign-in", url.Values{"csrf": {form.field("csrf")}, "secret": {secret}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/" {
		b.t.Fatalf("sign-in: %d %s %s", p.status, p.header.Get("Location"), p.body)
	}
	return b.get("/dashboard/")
}
