package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// buyer makes a customer with one stored card through the API and returns
// both ids.
func (c *apiClient) buyer(name, number string) (customer, card string) {
	c.t.Helper()
	st, body := c.do("POST", "/customers", map[string]any{"name": name})
	if st != 201 {
		c.t.Fatalf("customer: %d %v", st, body)
	}
	customer = first(body, "customers")["id"].(string)
	st, body = c.do("POST", "/cards", map[string]any{"number": number, "expiration_month": 12, "expiration_year": 2030})
	if st != 201 {
		c.t.Fatalf("card: %d %v", st, body)
	}
	card = first(body, "cards")["id"].(string)
	if st, body := c.do("PUT", "/cards/"+card, map[string]any{"links": map[string]any{"customer": customer}}); st != 200 {
		c.t.Fatalf("associating the card: %d %v", st, body)
	}
	return customer, card
}

// inEscrow is the marketplace's escrow as the API reports it.
func (c *apiClient) inEscrow() int64 {
	c.t.Helper()
	st, body := c.do("GET", "/marketplaces", nil)
	if st != 200 {
		c.t.Fatalf("marketplaces: %d %v", st, body)
	}
	return int64(first(body, "marketplaces")["in_escrow"].(float64))
}

// debitsOf lists a customer's debits as the API does: their amounts by status.
func (c *apiClient) debitsOf(customer string) map[string][]int64 {
	c.t.Helper()
	st, body := c.do("GET", "/customers/"+customer+"/debits?limit=100", nil)
	if st != 200 {
		c.t.Fatalf("debits: %d %v", st, body)
	}
	out := map[string][]int64{}
	list, _ := body["debits"].([]any)
	for _, d := range list {
		m := d.(map[string]any)
		out[m["status"].(string)] = append(out[m["status"].(string)], int64(m["amount"].(float64)))
	}
	return out
}

// A sale from a customer's page debits its stored card as the API would,
// once per form however often it is sent, and leads to the debit's page.
func TestSaleFormDebitsAStoredCardOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		cu, card := mp.buyer("Ada", "4111111111111111")
		st, body := mp.do("POST", "/customers", map[string]any{"name": "Seller"})
		if st != 201 {
			t.Fatalf("seller: %d %v", st, body)
		}
		seller := first(body, "customers")["id"].(string)
		st, body = mp.do("POST", "/customers/"+seller+"/orders", map[string]any{"description": "a bicycle"})
		if st != 201 {
			t.Fatalf("order: %d %v", st, body)
		}
		order := first(body, "orders")["id"].(string)

		b := newBrowser(t, base)
		b.signIn(mp.secret)
		if list := b.get("/dashboard/customers"); !strings.Contains(list.body, `href="/dashboard/customers/`+cu+`"`) {
			t.Fatalf("the customers' list does not lead to the customer:\n%s", list.body)
		}
		cp := b.get("/dashboard/customers/" + cu)
		if cp.status != 200 || !strings.Contains(cp.body, "•••• 1111") || strings.Contains(cp.body, "411111") || !strings.Contains(cp.body, `value="`+card+`"`) {
			t.Fatalf("the customer's page does not offer its card by its last four:\n%s", cp.body)
		}
		if strings.Contains(cp.body, `name="number"`) {
			t.Fatalf("the customer's page takes a card number:\n%s", cp.body)
		}
		send := func(f url.Values) page {
			f.Set("csrf", cp.field("csrf"))
			return b.post("/dashboard/customers/"+cu+"/debits", f)
		}
		for _, bad := range []string{"0", "-1", "1.234", "abc", "10000000.01", ""} {
			if p := send(url.Values{"card": {card}, "amount": {bad}, "idempotency_key": {"key-" + bad}}); p.status != http.StatusBadRequest {
				t.Errorf("sale of %q: %d", bad, p.status)
			}
		}
		if got := mp.debitsOf(cu); len(got) != 0 {
			t.Fatalf("refused sales made debits: %v", got)
		}

		key := cp.field("idempotency_key")
		form := url.Values{"card": {card}, "amount": {"42.50"}, "order": {order}, "idempotency_key": {key}}
		once, again := send(form), send(form)
		if once.status != http.StatusSeeOther || again.status != http.StatusSeeOther || once.header.Get("Location") != again.header.Get("Location") {
			t.Fatalf("the same form twice: %d %q, then %d %q", once.status, once.header.Get("Location"), again.status, again.header.Get("Location"))
		}
		if got := mp.debitsOf(cu); len(got) != 1 || len(got["succeeded"]) != 1 || got["succeeded"][0] != 4_250 {
			t.Fatalf("the API lists the customer's debits %v; want one succeeded of 4250", got)
		}
		// The order took the money in: its escrow, not the marketplace's.
		st, body = mp.do("GET", "/orders/"+order, nil)
		if st != 200 || first(body, "orders")["amount_escrowed"].(float64) != 4_250 {
			t.Fatalf("the order after the sale: %d %v", st, body)
		}
		if got := mp.inEscrow(); got != 0 {
			t.Fatalf("the marketplace's escrow holds %d; the sale went into the order", got)
		}
		tx := b.get(once.header.Get("Location"))
		if tx.status != 200 || !strings.Contains(tx.body, "$42.50") || !strings.Contains(tx.body, "succeeded") ||
			!strings.Contains(tx.body, "a bicycle") || !strings.Contains(tx.body, "•••• 1111") {
			t.Fatalf("the debit's page: %d\n%s", tx.status, tx.body)
		}

		// Another form of the page, without an order, with a description.
		cp = b.get("/dashboard/customers/" + cu)
		p := send(url.Values{"card": {card}, "amount": {"7"}, "description": {"a bell"}, "idempotency_key": {cp.field("idempotency_key")}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("a second sale: %d\n%s", p.status, p.body)
		}
		if got := mp.inEscrow(); got != 700 {
			t.Fatalf("the marketplace's escrow holds %d; want 700", got)
		}
		if tx := b.get(p.header.Get("Location")); !strings.Contains(tx.body, "a bell") || !strings.Contains(tx.body, "$7.00") {
			t.Fatalf("the second debit's page:\n%s", tx.body)
		}
	})
}

// A declined card's sale shows the decline on the page and moves no money.
func TestSaleFormShowsADeclineAndMovesNoMoney(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		cu, card := mp.buyer("Mallory", "4444444444444448")
		b := newBrowser(t, base)
		b.signIn(mp.secret)
		cp := b.get("/dashboard/customers/" + cu)
		form := url.Values{"csrf": {cp.field("csrf")}, "card": {card}, "amount": {"10.00"}, "idempotency_key": {cp.field("idempotency_key")}}
		for range 2 {
			p := b.post("/dashboard/customers/"+cu+"/debits", form)
			if p.status != http.StatusConflict || !strings.Contains(p.body, "declined") {
				t.Fatalf("a declined card's sale: %d\n%s", p.status, p.body)
			}
		}
		if got := mp.inEscrow(); got != 0 {
			t.Fatalf("a declined sale put %d in escrow", got)
		}
		if got := mp.debitsOf(cu); len(got["succeeded"])+len(got["pending"]) != 0 || len(got["failed"]) > 1 {
			t.Fatalf("a declined sale sent twice left the debits %v; want at most the one failed debit the API records", got)
		}
	})
}

// A sale names only this customer's cards and this marketplace's orders:
// anything else is not found, and nothing is debited.
func TestSaleFormFindsNoOtherCardOrOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mine, theirs := newMarketplace(t, base), newMarketplace(t, base)
		cu, card := mine.buyer("Ada", "4111111111111111")
		_, otherCustomersCard := mine.buyer("Grace", "4111111111111111")
		theirCustomer, theirCard := theirs.buyer("Edsger", "4111111111111111")
		st, body := theirs.do("POST", "/customers/"+theirCustomer+"/orders", nil)
		if st != 201 {
			t.Fatalf("order: %d %v", st, body)
		}
		theirOrder := first(body, "orders")["id"].(string)

		b := newBrowser(t, base)
		b.signIn(mine.secret)
		if p := b.get("/dashboard/customers/" + theirCustomer); p.status != http.StatusNotFound || strings.Contains(p.body, "Edsger") {
			t.Fatalf("another marketplace's customer: %d\n%s", p.status, p.body)
		}
		cp := b.get("/dashboard/customers/" + cu)
		for name, f := range map[string]url.Values{
			"another marketplace's card":  {"card": {theirCard}},
			"another customer's card":     {"card": {otherCustomersCard}},
			"no card":                     {},
			"another marketplace's order": {"card": {card}, "order": {theirOrder}},
		} {
			f.Set("csrf", cp.field("csrf"))
			f.Set("amount", "5.00")
			f.Set("idempotency_key", "key-"+name)
			if p := b.post("/dashboard/customers/"+cu+"/debits", f); p.status != http.StatusNotFound {
				t.Errorf("a sale on %s: %d\n%s", name, p.status, p.body)
			}
		}
		p := b.post("/dashboard/customers/"+theirCustomer+"/debits", url.Values{"csrf": {cp.field("csrf")}, "card": {theirCard},
			"amount": {"5.00"}, "idempotency_key": {"k"}})
		if p.status != http.StatusNotFound {
			t.Fatalf("a sale to another marketplace's customer: %d", p.status)
		}
		if mine.inEscrow() != 0 || theirs.inEscrow() != 0 || len(mine.debitsOf(cu)) != 0 || len(theirs.debitsOf(theirCustomer)) != 0 {
			t.Fatalf("a refused sale moved money")
		}
	})
}

// A sale sent without its session's CSRF token is refused and debits nothing.
func TestSaleFormWithoutItsCSRFTokenIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		cu, card := mp.buyer("Ada", "4111111111111111")
		b := newBrowser(t, base)
		b.signIn(mp.secret)
		cp := b.get("/dashboard/customers/" + cu)
		other := newBrowser(t, base)
		otherCSRF := other.signIn(mp.secret).field("csrf")
		for name, csrf := range map[string][]string{"missing": nil, "wrong": {"not-the-token"}, "another session's": {otherCSRF}} {
			f := url.Values{"card": {card}, "amount": {"10.00"}, "idempotency_key": {cp.field("idempotency_key")}}
			if csrf != nil {
				f["csrf"] = csrf
			}
			if p := b.post("/dashboard/customers/"+cu+"/debits", f); p.status != http.StatusForbidden {
				t.Fatalf("a sale with its token %s: %d", name, p.status)
			}
		}
		if got := mp.debitsOf(cu); len(got) != 0 || mp.inEscrow() != 0 {
			t.Fatalf("a refused form debited: %v", got)
		}
	})
}
