package balanced_test

import (
	"testing"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// A payout in flight is money promised away: in_escrow shows what is left
// to pay out, a second payout of the same money is refused with 409, and
// the escrow's breakdown shows the posted money and the promise. Another
// marketplace sees none of it.
func TestInEscrowLeavesOutPayoutsInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 1_000)
		mp := c.do("GET", "/marketplaces", nil).id("marketplaces")
		payout := map[string]any{"amount": 1_000, "destination": map[string]any{
			"name": "Shop", "account_number": "123456789", "routing_number": "021000021", "account_type": "checking"}}
		r := c.do("POST", "/credits", map[string]any{"credits": []any{payout}})
		if r.status != 201 || r.first("credits")["status"] != "pending" {
			t.Fatalf("payout: %d %s", r.status, r.raw)
		}
		if got := c.do("GET", "/marketplaces/"+mp, nil).first("marketplaces")["in_escrow"]; got != float64(0) {
			t.Fatalf("in_escrow with the whole escrow promised to a payout = %v, want 0", got)
		}
		if r := c.do("POST", "/credits", map[string]any{"credits": []any{payout}}); r.status != 409 || r.category() != "insufficient-funds" {
			t.Fatalf("second payout: %d %s", r.status, r.raw)
		}
		e := c.do("GET", "/marketplaces/"+mp+"/escrow", nil)
		if e.status != 200 {
			t.Fatalf("escrow: %d %s", e.status, e.raw)
		}
		got := e.first("escrows")
		for k, v := range map[string]float64{"posted": 1_000, "pending_in": 0, "pending_out": 1_000, "available": 0} {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		other := newMarketplace(t, base, 0)
		if r := other.do("GET", "/marketplaces/"+mp+"/escrow", nil); r.status != 404 {
			t.Errorf("another marketplace's escrow: %d %s", r.status, r.raw)
		}
		if r := other.do("GET", "/orders/OR-nope/escrow", nil); r.status != 404 {
			t.Errorf("a missing order's escrow: %d %s", r.status, r.raw)
		}
	})
}

// The escrow policy is read and set by the marketplace's own key; a live
// marketplace's dispute is decided over HTTP with its evidence.
func TestEscrowPolicyAndDisputeDecisionThroughHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		mp := c.do("GET", "/marketplaces", nil).id("marketplaces")
		if got := c.do("GET", "/marketplaces/"+mp+"/escrow_policy", nil).first("escrow_policies"); got["refuse_stale_order_debits"] != false {
			t.Fatalf("default policy %v", got)
		}
		r := c.do("PUT", "/marketplaces/"+mp+"/escrow_policy", map[string]any{"refuse_stale_order_debits": true})
		if r.status != 200 || r.first("escrow_policies")["refuse_stale_order_debits"] != true {
			t.Fatalf("set policy: %d %s", r.status, r.raw)
		}
		if got := c.do("GET", "/marketplaces/"+mp+"/escrow_policy", nil).first("escrow_policies"); got["refuse_stale_order_debits"] != true {
			t.Fatalf("policy read back %v", got)
		}

		anon := &client{t: t, base: base}
		secret, _ := anon.do("POST", "/api_keys", nil).first("api_keys")["secret"].(string)
		live := &client{t: t, base: base, secret: secret}
		if r := live.do("POST", "/marketplaces", map[string]any{"production": true}); r.status != 201 {
			t.Fatalf("live marketplace: %d %s", r.status, r.raw)
		}
		d := live.do("POST", "/debits", "amount=2500&source[number]=6500000000000002&source[expiration_month]=12&source[expiration_year]=2030",
			"Content-Type", "application/x-www-form-urlencoded")
		dt, _ := d.first("debits")["links"].(map[string]any)["dispute"].(string)
		if d.status != 201 || dt == "" {
			t.Fatalf("disputed debit: %d %s", d.status, d.raw)
		}
		if r := c.do("PUT", "/disputes/"+dt, map[string]any{"status": "won", "evidence": "receipt"}); r.status != 404 {
			t.Fatalf("another marketplace decided the dispute: %d %s", r.status, r.raw)
		}
		r = live.do("PUT", "/disputes/"+dt, map[string]any{"status": "won", "evidence": "signed receipt"})
		if r.status != 200 || r.first("disputes")["status"] != "won" {
			t.Fatalf("decide: %d %s", r.status, r.raw)
		}
		if r := live.do("PUT", "/disputes/"+dt, map[string]any{"status": "lost", "evidence": "again"}); r.status != 409 || r.category() != "dispute-already-decided" {
			t.Fatalf("decide twice: %d %s", r.status, r.raw)
		}
	})
}
