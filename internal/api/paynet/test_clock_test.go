package paynet_test

import (
	"encoding/json"
	"testing"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// Through both APIs, as a user tries it: a test marketplace's clock is
// advanced a week, then a 10.00 sale under DAY+1 is held short-term for a
// day of that clock, then live.
func TestSaleAfterTestClockAdvanceThroughHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newStack(t, kind)
		call := mustCall(t, base)
		first := firstOf
		secret := first(call("", "POST", "/api_keys", nil), "api_keys")["secret"].(string)
		mp := first(call(secret, "POST", "/marketplaces", nil), "marketplaces")["id"].(string)
		cu := first(call(secret, "POST", "/customers", map[string]any{"name": "Ann"}), "customers")["id"].(string)
		merchant := first(call(secret, "POST", "/merchants", map[string]any{"login": "ann-shop", "control_key": "ann's control key 1", "customer": cu}), "merchants")["id"].(string)
		call(secret, "POST", "/merchants/"+merchant+"/balance_rules", map[string]any{"transaction_type": "sale", "action": "add", "date_bump": "DAY+1"})
		call(secret, "POST", "/marketplaces/"+mp+"/test_clock", map[string]any{"advance": "168h"})
		order := first(call(secret, "POST", "/customers/"+cu+"/orders", nil), "orders")["id"].(string)
		call(secret, "POST", "/debits", map[string]any{"amount": 1_000, "order": order,
			"source": map[string]any{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030}})

		balance := func() map[string]any {
			t.Helper()
			code, _, raw := signedPost(t, base, "ann-shop", "ann's control key 1", paynet.Prefix+"merchant/ann-shop", nil, "")
			var out []map[string]any
			if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
				t.Fatalf("get-balance: %d %s", code, raw)
			}
			return out[0]
		}
		want := func(when string, sth, live float64) {
			t.Helper()
			b := balance()
			if b["total-short-term-hold-amount"] != sth || b["online-balance-live-amount"] != live {
				t.Fatalf("%s: sth %v live %v, want sth %v live %v", when, b["total-short-term-hold-amount"], b["online-balance-live-amount"], sth, live)
			}
		}
		want("at the sale", 10.0, 0.0)
		// DAY+1 with the hourly rounding is due between 24 and 25 hours
		// after the sale, whatever real time the test runs at.
		call(secret, "POST", "/marketplaces/"+mp+"/test_clock", map[string]any{"advance": "23h"})
		want("23 hours on", 10.0, 0.0)
		call(secret, "POST", "/marketplaces/"+mp+"/test_clock", map[string]any{"advance": "3h"})
		want("26 hours on", 0.0, 10.0)
	})
}
