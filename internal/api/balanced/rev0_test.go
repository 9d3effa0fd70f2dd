package balanced_test

import (
	"reflect"
	"testing"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// Revision 0's URIs, as clients of that time stored them, answer the same
// resource (or list) as its revision 1.1 path, for the caller's own
// resources only.
func TestRevision0URIsAsPaths(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		a, b := newMarketplace(t, base, 100_000), newMarketplace(t, base, 100_000)
		w := populate(t, a)
		theirs := populate(t, b)
		mp := a.do("GET", "/marketplaces", nil).id("marketplaces")
		otherMP := b.do("GET", "/marketplaces", nil).id("marketplaces")
		if mp == "" || otherMP == "" {
			t.Fatal("no marketplace ids")
		}
		id := func(plural string) string {
			if w.ids[plural] == "" {
				t.Fatalf("no %s", plural)
			}
			return w.ids[plural]
		}
		same := []struct{ rev0, rev11 string }{
			{"/v1/marketplaces/" + mp, "/marketplaces/" + mp},
			{"/v1/customers/" + id("customers"), "/customers/" + id("customers")},
			{"/v1/marketplaces/" + mp + "/customers/" + id("customers"), "/customers/" + id("customers")},
			{"/v1/marketplaces/" + mp + "/debits/" + id("debits"), "/debits/" + id("debits")},
			{"/v1/customers/" + id("customers") + "/debits/" + id("debits"), "/debits/" + id("debits")},
			{"/v1/marketplaces/" + mp + "/cards/" + id("cards"), "/cards/" + id("cards")},
			{"/v1/cards/" + id("cards"), "/cards/" + id("cards")},
			{"/v1/bank_accounts/" + id("bank_accounts"), "/bank_accounts/" + id("bank_accounts")},
			{"/v1/bank_accounts/" + id("bank_accounts") + "/verifications/" + id("bank_account_verifications"), "/verifications/" + id("bank_account_verifications")},
			{"/v1/marketplaces/" + mp + "/holds/" + id("card_holds"), "/card_holds/" + id("card_holds")},
			{"/v1/marketplaces/" + mp + "/credits/" + id("credits"), "/credits/" + id("credits")},
			{"/v1/bank_accounts/" + id("bank_accounts") + "/credits/" + id("credits"), "/credits/" + id("credits")},
			{"/v1/marketplaces/" + mp + "/refunds/" + id("refunds"), "/refunds/" + id("refunds")},
			{"/v1/marketplaces/" + mp + "/reversals/" + id("reversals"), "/reversals/" + id("reversals")},
			{"/v1/marketplaces/" + mp + "/orders/" + id("orders"), "/orders/" + id("orders")},
			{"/v1/marketplaces/" + mp + "/callbacks/" + id("callbacks"), "/callbacks/" + id("callbacks")},
			{"/v1/marketplaces/" + mp + "/events/" + id("events"), "/events/" + id("events")},
			{"/v1/events/" + id("events"), "/events/" + id("events")},
			{"/v1/marketplaces/" + mp + "/debits", "/debits"},
			{"/v1/marketplaces/" + mp + "/debits?amount[>]=1000", "/debits?amount[>]=1000"},
			{"/v1/customers/" + id("customers") + "/debits", "/customers/" + id("customers") + "/debits"},
			{"/v1/marketplaces/" + mp + "/debits/" + id("debits") + "/refunds", "/debits/" + id("debits") + "/refunds"},
			{"/v1/customers", "/customers"},
		}
		for _, tc := range same {
			old, cur := a.do("GET", tc.rev0, nil), a.do("GET", tc.rev11, nil)
			if old.status != 200 || cur.status != 200 {
				t.Errorf("GET %s: %d; GET %s: %d %s", tc.rev0, old.status, tc.rev11, cur.status, old.raw)
				continue
			}
			// A list's hrefs name the path asked; the rest is the same.
			if m, ok := old.body["meta"].(map[string]any); ok {
				delete(m, "href")
				delete(m, "first")
				delete(m, "last")
				delete(m, "next")
				delete(m, "previous")
				m2 := cur.body["meta"].(map[string]any)
				for _, k := range []string{"href", "first", "last", "next", "previous"} {
					delete(m2, k)
				}
			}
			if !reflect.DeepEqual(old.body, cur.body) {
				t.Errorf("GET %s differs from GET %s:\n%s\n%s", tc.rev0, tc.rev11, old.raw, cur.raw)
			}
		}
		if h := a.do("HEAD", "/v1/customers/"+id("customers"), nil); h.status != 200 {
			t.Errorf("HEAD of a revision-0 URI: %d", h.status)
		}
		notFound := []string{
			// Another marketplace, named in the path or owning the resource.
			"/v1/marketplaces/" + otherMP,
			"/v1/marketplaces/" + otherMP + "/debits/" + id("debits"),
			"/v1/marketplaces/" + otherMP + "/debits",
			"/v1/customers/" + theirs.ids["customers"],
			"/v1/marketplaces/" + mp + "/debits/" + theirs.ids["debits"],
			"/v1/customers/" + theirs.ids["customers"] + "/debits/" + id("debits"),
			// A parent of the wrong kind, or missing.
			"/v1/customers/" + id("cards") + "/debits/" + id("debits"),
			"/v1/customers/CUnope/debits/" + id("debits"),
			// The wrong kind, and nothing at all.
			"/v1/customers/" + id("debits"),
			"/v1/nothing/" + id("debits"),
			"/v1/",
			"/v1/customers//" + id("customers"),
		}
		for _, p := range notFound {
			r := a.do("GET", p, nil)
			if _, onlyErrors := r.body["errors"]; r.status != 404 || len(r.body) != 1 || !onlyErrors {
				t.Errorf("GET %s: %d %s, want 404", p, r.status, r.raw)
			}
		}
		// Only reads: revision 0's request bodies are not revision 1.1's.
		if r := a.do("POST", "/v1/customers", map[string]any{}); r.status != 404 {
			t.Errorf("POST /v1/customers: %d, want 404", r.status)
		}
		anon := &client{t: t, base: base}
		if r := anon.do("GET", "/v1/customers/"+id("customers"), nil); r.status != 401 {
			t.Errorf("GET of a revision-0 URI without a key: %d, want 401", r.status)
		}
	})
}
