package balanced_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/poise-payments/poise/internal/api/balanced"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// client talks to a test server with one API key.
type client struct {
	t      *testing.T
	base   string
	secret string
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (c *client) do(method, path string, body any, headers ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			j, _ := json.Marshal(b)
			rd = bytes.NewReader(j)
		}
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.api+json;revision=1.1")
	if c.secret != "" {
		req.SetBasicAuth(c.secret, "ignored-password")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.send(c.t, req)
}

// send sends a prepared request, never following a redirect.
func (c *client) send(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	json.Unmarshal(raw, &r.body)
	return r
}

// first returns the one resource of an envelope.
func (r reply) first(plural string) map[string]any {
	list, _ := r.body[plural].([]any)
	if len(list) == 0 {
		return nil
	}
	m, _ := list[0].(map[string]any)
	return m
}

func (r reply) id(plural string) string {
	if m := r.first(plural); m != nil {
		s, _ := m["id"].(string)
		return s
	}
	return ""
}

func (r reply) category() string {
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	s, _ := errs[0].(map[string]any)["category_code"].(string)
	return s
}

func newServer(t *testing.T, kind string) string {
	t.Helper()
	return newServerAt(t, kind, clock.System())
}

// newServerAt is newServer on a process clock the test holds.
func newServerAt(t *testing.T, kind string, clk clock.Clock) string {
	t.Helper()
	db := storetest.Open(t, kind)
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	v, _ := vault.New(make([]byte, vault.KeyLen))
	srv := httptest.NewServer(newAPI(l, db, v))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newMarketplace creates a key and its marketplace, funded with amount.
func newMarketplace(t *testing.T, base string, fundMinor int64) *client {
	t.Helper()
	anon := &client{t: t, base: base}
	key := anon.do("POST", "/api_keys", nil)
	secret, _ := key.first("api_keys")["secret"].(string)
	c := &client{t: t, base: base, secret: secret}
	if r := c.do("POST", "/marketplaces", nil); r.status != 201 {
		t.Fatalf("marketplace: %d %s", r.status, r.raw)
	}
	if fundMinor > 0 {
		r := c.do("POST", "/debits", "amount="+itoa(fundMinor)+"&source[number]=4111111111111111&source[expiration_month]=12&source[expiration_year]=2030",
			"Content-Type", "application/x-www-form-urlencoded")
		if r.status != 201 {
			t.Fatalf("funding: %d %s", r.status, r.raw)
		}
	}
	return c
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// world is one marketplace's resources of every kind, for cross-tenant tests.
type world struct {
	ids map[string]string // plural → id
}

func populate(t *testing.T, c *client) world {
	t.Helper()
	w := world{ids: map[string]string{}}
	must := func(r reply, plural string) string {
		t.Helper()
		if r.status != 201 && r.status != 200 {
			t.Fatalf("creating %s: %d %s", plural, r.status, r.raw)
		}
		id := r.id(plural)
		w.ids[plural] = id
		return id
	}
	cu := must(c.do("POST", "/customers", map[string]any{"name": "Henry Ford", "dob_month": "7", "dob_year": 1963, "address": map[string]any{"postal_code": "48120"}}), "customers")
	card := must(c.do("POST", "/cards", map[string]any{"number": "4342561111111118", "expiration_month": 12, "expiration_year": 2030, "name": "Henry Ford"}), "cards")
	c.do("PUT", "/cards/"+card, map[string]any{"links": map[string]any{"customer": cu}})
	ba := must(c.do("POST", "/customers/"+cu+"/bank_accounts", map[string]any{"name": "Henry", "account_number": "9900000002", "routing_number": "021000021"}), "bank_accounts")
	must(c.do("POST", "/bank_accounts/"+ba+"/verifications", nil), "bank_account_verifications")
	order := must(c.do("POST", "/customers/"+cu+"/orders", map[string]any{"description": "o"}), "orders")
	debit := must(c.do("POST", "/cards/"+card+"/debits", map[string]any{"amount": 5000, "order": "/orders/" + order}), "debits")
	must(c.do("POST", "/debits/"+debit+"/refunds", map[string]any{"amount": 100}), "refunds")
	credit := must(c.do("POST", "/bank_accounts/"+ba+"/credits", map[string]any{"amount": 1000, "order": order}), "credits")
	must(c.do("POST", "/credits/"+credit+"/reversals", map[string]any{"amount": 100}), "reversals")
	must(c.do("POST", "/cards/"+card+"/card_holds", map[string]any{"amount": 300}), "card_holds")
	acct := c.do("GET", "/customers/"+cu+"/accounts", nil)
	w.ids["accounts"] = acct.id("accounts")
	must(c.do("POST", "/callbacks", map[string]any{"url": "http://127.0.0.1:1/hook"}), "callbacks")
	must(c.do("POST", "/external_accounts", map[string]any{"provider": "test", "token": "t"}), "external_accounts")
	ev := c.do("GET", "/events", nil)
	w.ids["events"] = ev.id("events")
	dispute := c.do("POST", "/cards", map[string]any{"number": "6500000000000002", "expiration_month": 12, "expiration_year": 3000})
	d := c.do("POST", "/cards/"+dispute.id("cards")+"/debits", map[string]any{"amount": 100})
	w.ids["disputes"] = d.first("debits")["links"].(map[string]any)["dispute"].(string)
	return w
}

// Every endpoint that names a resource answers 404 for another
// marketplace's resource, by id in the path or by href in the body, and
// shows none of its data.
func TestMarketplacesNeverSeeEachOthersResources(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		a, b := newMarketplace(t, base, 100_000), newMarketplace(t, base, 100_000)
		theirs := populate(t, a)
		populate(t, b)
		byPrefix := map[string]string{
			"customers": "customers", "cards": "cards", "bank_accounts": "bank_accounts", "verifications": "bank_account_verifications",
			"external_accounts": "external_accounts", "card_holds": "card_holds", "holds": "card_holds", "debits": "debits",
			"credits": "credits", "refunds": "refunds", "reversals": "reversals", "orders": "orders", "accounts": "accounts",
			"disputes": "disputes", "events": "events", "callbacks": "callbacks", "resources": "customers",
		}
		paths := []string{}
		for top := range byPrefix {
			paths = append(paths, "/"+top+"/:id")
		}
		subs := map[string][]string{
			"customers":     {"cards", "bank_accounts", "external_accounts", "debits", "credits", "refunds", "reversals", "orders", "accounts", "card_holds", "disputes"},
			"cards":         {"debits", "credits", "card_holds", "disputes"},
			"bank_accounts": {"debits", "credits", "verifications", "settlements"},
			"debits":        {"refunds", "events"}, "credits": {"reversals", "events"},
			"orders":   {"debits", "credits", "refunds", "reversals", "buyers"},
			"accounts": {"credits", "debits", "refunds", "reversals", "settlements"},
		}
		for top, list := range subs {
			for _, sub := range list {
				paths = append(paths, "/"+top+"/:id/"+sub)
			}
		}
		checked := 0
		for _, p := range paths {
			top := strings.Split(p, "/")[1]
			id := theirs.ids[byPrefix[top]]
			if id == "" {
				t.Fatalf("no %s to try", byPrefix[top])
			}
			path := strings.Replace(p, ":id", id, 1)
			methods := []string{"GET"}
			if strings.Count(p, "/") == 2 {
				methods = append(methods, "PUT", "DELETE")
			} else if !strings.HasSuffix(p, "buyers") && !strings.HasSuffix(p, "events") && !strings.HasSuffix(p, "disputes") {
				methods = append(methods, "POST")
			}
			for _, m := range methods {
				r := b.do(m, path, map[string]any{"amount": 100, "meta": map[string]any{"x": "y"}})
				if r.status == 405 {
					continue
				}
				// The message may echo the id the caller sent; nothing else of
				// the resource may come back.
				if _, onlyErrors := r.body["errors"]; r.status != 404 || len(r.body) != 1 || !onlyErrors {
					t.Errorf("%s %s as another marketplace: %d %s", m, path, r.status, r.raw)
				}
				checked++
			}
		}
		// References in bodies, as ids and as hrefs.
		for _, body := range []map[string]any{
			{"amount": 100, "source": theirs.ids["cards"]},
			{"amount": 100, "source": "/cards/" + theirs.ids["cards"]},
			{"amount": 100, "source": map[string]any{"href": "/cards/" + theirs.ids["cards"]}},
		} {
			if r := b.do("POST", "/debits", body); r.status != 404 {
				t.Errorf("debit from another marketplace's card: %d %s", r.status, r.raw)
			}
		}
		for _, body := range []map[string]any{
			{"amount": 100, "destination": "/bank_accounts/" + theirs.ids["bank_accounts"]},
			{"amount": 100, "destination": theirs.ids["bank_accounts"], "order": theirs.ids["orders"]},
		} {
			if r := b.do("POST", "/credits", body); r.status != 404 {
				t.Errorf("credit to another marketplace's account: %d %s", r.status, r.raw)
			}
		}
		mine := b.do("GET", "/customers", nil)
		if strings.Contains(string(mine.raw), theirs.ids["customers"]) {
			t.Error("a list shows another marketplace's customer")
		}
		if checked < 60 {
			t.Fatalf("only %d cross-tenant calls were checked", checked)
		}
	})
}

// 64 concurrent credits of 1.00 against an escrow holding 20.00: exactly 20
// succeed, the rest are refused with the failed credit, and the escrow ends
// at zero.
func TestConcurrentCreditsThroughHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 2_000)
		cu := c.do("POST", "/customers", map[string]any{}).id("customers")
		ba := c.do("POST", "/customers/"+cu+"/bank_accounts", map[string]any{"name": "M", "account_number": "9900000002", "routing_number": "021000021"}).id("bank_accounts")
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := c.do("POST", "/bank_accounts/"+ba+"/credits", map[string]any{"amount": 100})
				mu.Lock()
				codes[r.status]++
				mu.Unlock()
				if r.status == 409 && (r.category() != "insufficient-funds" || r.first("credits")["status"] != "failed") {
					t.Errorf("refusal: %s", r.raw)
				}
			}()
		}
		wg.Wait()
		if codes[201] != 20 || codes[409] != 44 {
			t.Fatalf("answers %v, want 20×201 and 44×409", codes)
		}
		mp := c.do("GET", "/marketplaces", nil).first("marketplaces")
		if mp["in_escrow"] != float64(0) {
			t.Fatalf("in_escrow = %v", mp["in_escrow"])
		}
	})
}

// Bad input answers 4xx in the API's error format and writes nothing.
func TestBadInputsWriteNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 10_000)
		w := populate(t, c)
		count := func(path string) float64 {
			return c.do("GET", path+"?limit=1", nil).body["meta"].(map[string]any)["total"].(float64)
		}
		before := map[string]float64{}
		lists := []string{"/debits", "/credits", "/refunds", "/reversals", "/customers", "/cards", "/bank_accounts", "/orders", "/card_holds"}
		for _, l := range lists {
			before[l] = count(l)
		}
		cases := []struct {
			method, path string
			body         any
			status       int
			code         string
		}{
			{"POST", "/debits", map[string]any{"amount": 100}, 400, "request"},
			{"POST", "/debits", map[string]any{"amount": "ten", "source": w.ids["cards"]}, 400, "request"},
			{"POST", "/debits", map[string]any{"amount": 0, "source": w.ids["cards"]}, 400, "invalid-amount"},
			{"POST", "/debits", map[string]any{"amount": -5, "source": w.ids["cards"]}, 400, "invalid-amount"},
			{"POST", "/debits", map[string]any{"amount": 100, "source": "CCnope"}, 404, "not-found"},
			{"POST", "/debits", `{"amount": 1`, 400, "request"},
			{"POST", "/cards", map[string]any{"number": "4111111111111112", "expiration_month": 1, "expiration_year": 2030}, 409, "card-not-validated"},
			{"POST", "/cards", map[string]any{"number": "4111111111111111", "expiration_month": 13, "expiration_year": 2030}, 400, "request"},
			{"POST", "/bank_accounts", map[string]any{"name": "x", "account_number": "1", "routing_number": "100000007"}, 400, "invalid-routing-number"},
			{"POST", "/debits/" + w.ids["debits"] + "/refunds", map[string]any{"amount": 1_000_000}, 400, "invalid-amount"},
			{"POST", "/credits/" + w.ids["credits"] + "/reversals", map[string]any{"amount": 1_000_000}, 400, "invalid-reversal-amount"},
			{"POST", "/credits", map[string]any{"amount": 100, "destination": w.ids["bank_accounts"], "order": w.ids["orders"], "appears_on_statement_as": "bad*chars!"}, 400, "request"},
			{"POST", "/customers", map[string]any{"dob_month": 13}, 400, "request"},
			{"POST", "/customers", map[string]any{"meta": "not an object"}, 400, "request"},
			{"POST", "/callbacks", map[string]any{"url": "not a url"}, 400, "request"},
			{"POST", "/card_holds/" + w.ids["card_holds"] + "/debits", map[string]any{"amount": 1_000_000}, 400, "invalid-amount"},
			{"GET", "/debits?limit=0", nil, 400, "request"},
			{"GET", "/debits?offset=-1", nil, 400, "request"},
			{"PUT", "/verifications/" + w.ids["bank_account_verifications"], map[string]any{"amount_1": "x"}, 400, "request"},
			{"DELETE", "/debits/" + w.ids["debits"], nil, 405, "method-not-allowed"},
			{"GET", "/nothing/here", nil, 404, "not-found"},
			// A reference that cannot be read is refused, never a default.
			{"POST", "/cards/" + w.ids["cards"] + "/debits", `{"amount": 100, "order": 12345}`, 400, "request"},
			{"POST", "/cards/" + w.ids["cards"] + "/debits", `{"amount": 100, "order": []}`, 400, "request"},
			{"POST", "/cards/" + w.ids["cards"] + "/debits", `{"amount": 100, "order": true}`, 400, "request"},
			{"POST", "/cards/" + w.ids["cards"] + "/debits", `{"amount": 100, "order": ""}`, 400, "request"},
			{"POST", "/cards/" + w.ids["cards"] + "/debits", map[string]any{"amount": 100, "order": w.ids["customers"]}, 400, "request"},
			{"POST", "/customers/" + w.ids["customers"] + "/debits", map[string]any{"amount": 100, "source": "nope"}, 400, "request"},
			{"POST", "/customers/" + w.ids["customers"] + "/debits", map[string]any{"amount": 100, "source": 7}, 400, "request"},
			{"POST", "/customers/" + w.ids["customers"] + "/credits", map[string]any{"amount": 100, "destination": ""}, 400, "request"},
			{"POST", "/customers/" + w.ids["customers"] + "/credits", map[string]any{"amount": 100, "destination": "/orders/" + w.ids["orders"]}, 400, "request"},
			// A body is one JSON object.
			{"POST", "/card_holds/" + w.ids["card_holds"] + "/debits", `"oops"`, 400, "request"},
			{"POST", "/credits/" + w.ids["credits"] + "/reversals", `"oops"`, 400, "request"},
			{"POST", "/credits/" + w.ids["credits"] + "/reversals", `[]`, 400, "request"},
			{"POST", "/cards/" + w.ids["cards"] + "/debits", `{"amount": 100}{"amount": 200}`, 400, "request"},
			// Dollars only.
			{"POST", "/cards/" + w.ids["cards"] + "/debits", map[string]any{"amount": 100, "currency": "EUR"}, 400, "request"},
			{"POST", "/cards/" + w.ids["cards"] + "/card_holds", map[string]any{"amount": 100, "currency": "BTC"}, 400, "request"},
			{"POST", "/bank_accounts/" + w.ids["bank_accounts"] + "/credits", map[string]any{"amount": 100, "currency": ""}, 400, "request"},
		}
		for _, tc := range cases {
			r := c.do(tc.method, tc.path, tc.body)
			if r.status != tc.status || r.category() != tc.code {
				t.Errorf("%s %s %v: %d %q, want %d %q", tc.method, tc.path, tc.body, r.status, r.category(), tc.status, tc.code)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, r.header.Get("Content-Type"))
			}
		}
		for _, l := range lists {
			if after := count(l); after != before[l] {
				t.Errorf("%s went from %v to %v: bad input wrote something", l, before[l], after)
			}
		}
	})
}

// Client compatibility: never a redirect, JSON everywhere, the basic-auth
// password ignored, no revision or any revision header accepted.
func TestWireCompatibility(t *testing.T) {
	base := newServer(t, "sqlite")
	c := newMarketplace(t, base, 0)
	for _, p := range []string{"/customers/", "//customers", "/customers/../customers"} {
		r := c.do("GET", p, nil)
		if r.status >= 300 && r.status < 400 {
			t.Errorf("GET %s redirected: %d", p, r.status)
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: Content-Type %q", p, r.header.Get("Content-Type"))
		}
	}
	for _, accept := range []string{"", "application/json", "application/vnd.api+json;revision=1.1", "application/vnd.api+json;version=1.1"} {
		if r := c.do("GET", "/customers", nil, "Accept", accept); r.status != 200 {
			t.Errorf("Accept %q: %d", accept, r.status)
		}
	}
	anon := &client{t: t, base: base}
	if r := anon.do("GET", "/customers", nil); r.status != 401 || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("no key: %d %q", r.status, r.header.Get("Content-Type"))
	}
	bad := &client{t: t, base: base, secret: "ak-test-wrong"}
	if r := bad.do("GET", "/customers", nil); r.status != 401 {
		t.Errorf("wrong key: %d", r.status)
	}
	// Bodies are bounded.
	if r := c.do("POST", "/customers", `{"name": "`+strings.Repeat("x", 300<<10)+`"}`); r.status != 413 || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("a 300 KiB body: %d", r.status)
	}
	// Card numbers never come back beyond the last four digits.
	r := c.do("POST", "/cards", map[string]any{"number": "4111111111111111", "cvv": "123", "expiration_month": 1, "expiration_year": 2030})
	if strings.Contains(string(r.raw), "411111111111") || strings.Contains(string(r.raw), `"123"`) {
		t.Errorf("a card response shows the number or the cvv: %s", r.raw)
	}
}

// The same Idempotency-Key and body run once and replay the response; the
// same key with another body is refused.
func TestIdempotencyKeysThroughHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		body := map[string]any{"amount": 700, "source": map[string]any{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030}}
		first := c.do("POST", "/debits", body, "Idempotency-Key", "k1")
		second := c.do("POST", "/debits", body, "Idempotency-Key", "k1")
		if first.status != 201 || second.status != 201 || !bytes.Equal(first.raw, second.raw) {
			t.Fatalf("replay differs: %d %s / %d %s", first.status, first.raw, second.status, second.raw)
		}
		if first.header.Get("Idempotent-Replayed") != "" || second.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay header: %q %q", first.header.Get("Idempotent-Replayed"), second.header.Get("Idempotent-Replayed"))
		}
		if n := c.do("GET", "/debits", nil).body["meta"].(map[string]any)["total"]; n != float64(1) {
			t.Fatalf("%v debits, want 1", n)
		}
		cards := c.do("GET", "/cards", nil).body["meta"].(map[string]any)["total"]
		if cards != float64(1) {
			t.Fatalf("the replay tokenized the inline card again: %v cards", cards)
		}
		other := c.do("POST", "/debits", map[string]any{"amount": 701, "source": first.first("debits")["links"].(map[string]any)["source"]}, "Idempotency-Key", "k1")
		if other.status != 409 || other.category() != "idempotency-key-reused" {
			t.Fatalf("key reused with another body: %d %s", other.status, other.raw)
		}
		// A refusal is recorded and replayed too.
		cu := c.do("POST", "/customers", map[string]any{}).id("customers")
		ba := c.do("POST", "/customers/"+cu+"/bank_accounts", map[string]any{"name": "M", "account_number": "9900000002", "routing_number": "021000021"}).id("bank_accounts")
		r1 := c.do("POST", "/bank_accounts/"+ba+"/credits", map[string]any{"amount": 100_000}, "Idempotency-Key", "k2")
		r2 := c.do("POST", "/bank_accounts/"+ba+"/credits", map[string]any{"amount": 100_000}, "Idempotency-Key", "k2")
		if r1.status != 409 || r2.status != 409 || !bytes.Equal(r1.raw, r2.raw) || r2.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("refusal replay: %d %s / %d %s", r1.status, r1.raw, r2.status, r2.raw)
		}
	})
}

// The request line and headers mean one thing too: a credential that cannot
// be read is 401, never "no key"; a path is matched as sent, never cleaned;
// an id that is no id, or a NUL in the query, is refused before the store
// sees it (PostgreSQL refuses NUL in text and would answer 500).
func TestRequestEdgesAreRefusedBeforeTheStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		card := map[string]any{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030}
		bank := map[string]any{"name": "x", "account_number": "9900000002", "routing_number": "021000021"}
		before := c.do("GET", "/cards", nil).body["meta"].(map[string]any)["total"]
		for _, auth := range []string{"garbage", "Bearer ak-test-x", "Basic !!!", "Basic " + "bm8tY29sb24="} {
			for path, body := range map[string]any{"/cards": card, "/bank_accounts": bank} {
				anon := &client{t: t, base: base}
				if r := anon.do("POST", path, body, "Authorization", auth); r.status != 401 {
					t.Errorf("POST %s with Authorization %q: %d %s", path, auth, r.status, r.raw)
				}
			}
		}
		for _, path := range []string{"/customers/../cards", "/customers/./cards", "/customers/%2e%2e/cards"} {
			if r := c.do("POST", path, card); r.status != 404 {
				t.Errorf("POST %s: %d %s", path, r.status, r.raw)
			}
		}
		if after := c.do("GET", "/cards", nil).body["meta"].(map[string]any)["total"]; after != before {
			t.Errorf("cards went from %v to %v", before, after)
		}
		for _, path := range []string{"/cards/CC%00", "/customers/CU%00x", "/resources/%00", "/debits/WD%ff", "/orders/OR%20x/debits"} {
			if r := c.do("GET", path, nil); r.status != 404 || r.category() != "not-found" {
				t.Errorf("GET %s: %d %s", path, r.status, r.raw)
			}
		}
		for _, q := range []string{"status=%00", "%00=1", "status=%ff"} {
			if r := c.do("GET", "/debits?"+q, nil); r.status != 400 {
				t.Errorf("GET /debits?%s: %d %s", q, r.status, r.raw)
			}
		}
		if r := c.do("POST", "/customers", map[string]any{}, "Idempotency-Key", "k\xff"); r.status != 400 {
			t.Errorf("an Idempotency-Key that is not UTF-8: %d %s", r.status, r.raw)
		}
	})
}

// newAPI serves the Balanced API over a ledger and a store, with merchant
// balances fed as serve feeds them.
func newAPI(l *ledger.Ledger, db interface {
	payments.Store
	merchants.Store
}, v *vault.Vault) *balanced.API {
	s := payments.NewService(l, db, v)
	return balanced.New(s, merchants.New(s, db, v), nil)
}
