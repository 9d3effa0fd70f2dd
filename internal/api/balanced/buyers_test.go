package balanced_test

import (
	"sort"
	"testing"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// An order's buyers are the customers whose debits into it succeeded,
// each once however often it paid, paged like any list; a customer whose
// card was declined is no buyer.
func TestAnOrdersBuyersAreTheCustomersOfItsSucceededDebits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		c := newMarketplace(t, newServer(t, kind), 0)
		merchant := c.do("POST", "/customers", map[string]any{"name": "Seller"}).id("customers")
		order := c.do("POST", "/customers/"+merchant+"/orders", nil).id("orders")
		buyer := func(name, number string) (string, string) {
			cu := c.do("POST", "/customers", map[string]any{"name": name}).id("customers")
			card := c.do("POST", "/cards", map[string]any{"number": number, "expiration_month": 12, "expiration_year": 2030}).id("cards")
			if r := c.do("PUT", "/cards/"+card, map[string]any{"links": map[string]any{"customer": cu}}); r.status != 200 {
				t.Fatalf("associating the card: %d %s", r.status, r.raw)
			}
			return cu, card
		}
		var want []string
		for i, name := range []string{"Ada", "Grace", "Edsger"} {
			cu, card := buyer(name, "4111111111111111")
			want = append(want, cu)
			for range i + 1 {
				if r := c.do("POST", "/cards/"+card+"/debits", map[string]any{"amount": 100, "order": "/orders/" + order}); r.status != 201 {
					t.Fatalf("debit: %d %s", r.status, r.raw)
				}
			}
		}
		_, declined := buyer("Mallory", "4444444444444448")
		if r := c.do("POST", "/cards/"+declined+"/debits", map[string]any{"amount": 100, "order": "/orders/" + order}); r.status < 400 {
			t.Fatalf("a declined card's debit: %d %s", r.status, r.raw)
		}
		var got []string
		for offset := 0; ; offset += 2 {
			page := c.do("GET", "/orders/"+order+"/buyers?limit=2&offset="+itoa(int64(offset)), nil)
			if page.status != 200 {
				t.Fatalf("buyers: %d %s", page.status, page.raw)
			}
			list, _ := page.body["customers"].([]any)
			for _, item := range list {
				got = append(got, item.(map[string]any)["id"].(string))
			}
			if total := page.body["meta"].(map[string]any)["total"]; total != float64(3) {
				t.Fatalf("meta.total = %v, want 3", total)
			}
			if len(list) < 2 {
				break
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("buyers %v, want %v", got, want)
		}
	})
}
