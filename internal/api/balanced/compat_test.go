package balanced_test

import (
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// A new test marketplace's owner customer comes with a bank account, as
// Balanced's did: clients pre-fund their escrow from
// owner_customer.bank_accounts[0] and pay their cut to it.
func TestOwnerCustomerHasABankAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		c := newMarketplace(t, newServer(t, kind), 0)
		mp := c.do("GET", "/marketplaces", nil).first("marketplaces")
		owner, _ := mp["links"].(map[string]any)["owner_customer"].(string)
		if !strings.HasPrefix(owner, "CU") {
			t.Fatalf("owner_customer = %v", mp["links"])
		}
		list := c.do("GET", "/customers/"+owner+"/bank_accounts", nil)
		accounts, _ := list.body["bank_accounts"].([]any)
		if len(accounts) != 1 {
			t.Fatalf("owner's bank accounts: %s", list.raw)
		}
		ba := accounts[0].(map[string]any)
		if ba["can_debit"] != true || ba["can_credit"] != true || ba["links"].(map[string]any)["customer"] != owner {
			t.Fatalf("owner's bank account: %v", ba)
		}
		// Pre-funding the escrow from it, as Balanced's documentation does.
		d := c.do("POST", "/bank_accounts/"+ba["id"].(string)+"/debits", map[string]any{"amount": 2_000_000, "description": "Pre-fund escrow"})
		if d.status != 201 || d.first("debits")["status"] != "succeeded" {
			t.Fatalf("pre-fund debit: %d %s", d.status, d.raw)
		}
		if got := c.do("GET", "/marketplaces", nil).first("marketplaces")["in_escrow"]; got != float64(2_000_000) {
			t.Fatalf("in_escrow = %v after pre-funding", got)
		}
	})
}

// A payout from an order goes to its merchant or the marketplace owner;
// another's instrument is refused in Balanced's words and category.
func TestOrderPayoutToAStrangerIsAnOrderError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		c := newMarketplace(t, newServer(t, kind), 0)
		merchant := c.do("POST", "/customers", map[string]any{"name": "Merchant"}).id("customers")
		stranger := c.do("POST", "/customers", map[string]any{"name": "Stranger"}).id("customers")
		order := c.do("POST", "/customers/"+merchant+"/orders", map[string]any{"description": "o"}).id("orders")
		card := c.do("POST", "/cards", map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030}).id("cards")
		if r := c.do("POST", "/cards/"+card+"/debits", map[string]any{"amount": 5000, "order": "/orders/" + order}); r.status != 201 {
			t.Fatalf("debit: %d %s", r.status, r.raw)
		}
		ba := c.do("POST", "/customers/"+stranger+"/bank_accounts", map[string]any{"name": "S", "account_number": "9900000002", "routing_number": "021000021"}).id("bank_accounts")
		owner := c.do("GET", "/marketplaces", nil).first("marketplaces")["links"].(map[string]any)["owner_customer"].(string)

		r := c.do("POST", "/bank_accounts/"+ba+"/credits", map[string]any{"amount": 1000, "order": "/orders/" + order})
		want := "Funding instrument " + ba + " is not associated with order customer " + merchant + " or marketplace owner customer " + owner
		desc, _ := r.first("errors")["description"].(string)
		if r.status != 409 || r.category() != "order" || !strings.HasPrefix(desc, want) {
			t.Fatalf("payout to a stranger: %d %s; want 409 order %q", r.status, r.raw, want)
		}
		// The owner's own bank account takes the marketplace's cut.
		ownerBA := c.do("GET", "/customers/"+owner+"/bank_accounts", nil).id("bank_accounts")
		if r := c.do("POST", "/bank_accounts/"+ownerBA+"/credits", map[string]any{"amount": 500, "order": "/orders/" + order}); r.status != 201 {
			t.Fatalf("the owner's cut: %d %s", r.status, r.raw)
		}
	})
}

// POST /customers with a source card attaches the card to the customer:
// it is then one of the customer's cards. Another customer's card is
// refused, not taken.
func TestCustomerSourceIsAttached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		c := newMarketplace(t, newServer(t, kind), 0)
		card := c.do("POST", "/cards", map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030}).id("cards")
		created := c.do("POST", "/customers", map[string]any{"name": "Ada", "source": "/cards/" + card})
		cu := created.id("customers")
		if created.status != 201 || created.first("customers")["links"].(map[string]any)["source"] != card {
			t.Fatalf("customer: %d %s", created.status, created.raw)
		}
		if got := c.do("GET", "/customers/"+cu+"/cards", nil).id("cards"); got != card {
			t.Fatalf("GET /customers/%s/cards lists %q, want %s", cu, got, card)
		}
		if got := c.do("GET", "/cards/"+card, nil).first("cards")["links"].(map[string]any)["customer"]; got != cu {
			t.Fatalf("card's customer = %v, want %s", got, cu)
		}
		// With no source given, a debit through the customer uses it.
		if r := c.do("POST", "/customers/"+cu+"/debits", map[string]any{"amount": 100}); r.status != 201 {
			t.Fatalf("debit through the customer: %d %s", r.status, r.raw)
		}
		r := c.do("POST", "/customers", map[string]any{"name": "Bob", "source": "/cards/" + card})
		if r.status != 409 || r.category() != "card-already-funding-src" {
			t.Fatalf("another customer's card as source: %d %s", r.status, r.raw)
		}
	})
}

// A card that cannot receive a credit carries no cards.credits link, from
// which Balanced's clients decide; one that can carries it.
func TestCardCreditsLinkFollowsCanCredit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		c := newMarketplace(t, newServer(t, kind), 0)
		for _, tc := range []struct {
			card       map[string]any
			canCredit  bool
			linkWanted bool
		}{
			{map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030, "name": "Ada"}, false, false}, // a credit card
			{map[string]any{"number": "4342561111111118", "expiration_month": 12, "expiration_year": 2030}, false, false},                // debit, no name
			{map[string]any{"number": "4342561111111118", "expiration_month": 12, "expiration_year": 2030, "name": "Ada"}, true, true},
		} {
			id := c.do("POST", "/cards", tc.card).id("cards")
			r := c.do("GET", "/cards/"+id, nil)
			_, hasLink := r.body["links"].(map[string]any)["cards.credits"]
			if r.first("cards")["can_credit"] != tc.canCredit || hasLink != tc.linkWanted {
				t.Errorf("card %v: can_credit %v, cards.credits present %v; want %v, %v", tc.card, r.first("cards")["can_credit"], hasLink, tc.canCredit, tc.linkWanted)
			}
		}
	})
}

// A nameless card refused a credit on its own route names the reason; the
// inline POST /credits form answers "request", as Balanced's spec has it.
func TestNamelessCardCreditCategory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		c := newMarketplace(t, newServer(t, kind), 100_000)
		card := c.do("POST", "/cards", map[string]any{"number": "4342561111111118", "expiration_month": 12, "expiration_year": 2030}).id("cards")
		r := c.do("POST", "/cards/"+card+"/credits", map[string]any{"amount": 1234})
		if r.status != 400 || r.category() != "name-required-to-credit" {
			t.Fatalf("POST /cards/:id/credits: %d %s", r.status, r.raw)
		}
		r = c.do("POST", "/credits", map[string]any{"amount": 1234, "destination": map[string]any{
			"number": "4342561111111118", "expiration_month": 12, "expiration_year": 2030}})
		if r.status != 400 || r.category() != "request" {
			t.Fatalf("inline POST /credits: %d %s", r.status, r.raw)
		}
	})
}
