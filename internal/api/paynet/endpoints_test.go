package paynet_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// Several balances in one currency: one names no endpoint and counts every
// endpoint the others do not claim; get-balance by endpoint answers the
// balance that counts it.
func TestBalancesByEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newStack(t, kind)
		call := func(secret, method, path string, body any) (int, map[string]any) {
			t.Helper()
			return balancedCall(t, base, secret, method, path, body)
		}
		id := func(m map[string]any, plural string) string {
			return m[plural].([]any)[0].(map[string]any)["id"].(string)
		}
		_, k := call("", "POST", "/api_keys", nil)
		secret := k["api_keys"].([]any)[0].(map[string]any)["secret"].(string)
		call(secret, "POST", "/marketplaces", nil)
		_, c := call(secret, "POST", "/customers", map[string]any{})
		cu := id(c, "customers")
		_, m := call(secret, "POST", "/merchants", map[string]any{"login": "multi-" + kind, "control_key": "multi control key 1", "customer": cu, "external_merchant_id": "M-1"})
		merchant := id(m, "merchants")
		_, e := call(secret, "POST", "/merchants/"+merchant+"/endpoints", map[string]any{"name": "kiosk", "currency": "USD"})
		kiosk := id(e, "endpoints")
		_, eps := call(secret, "GET", "/merchants/"+merchant+"/endpoints", nil)
		var standard string
		for _, ep := range eps["endpoints"].([]any) {
			if ep.(map[string]any)["default"] == true {
				standard = ep.(map[string]any)["id"].(string)
			}
		}
		if code, _ := call(secret, "POST", "/merchants/"+merchant+"/balances", map[string]any{"name": "Main"}); code != 201 {
			t.Fatalf("main balance: %d", code)
		}
		if code, _ := call(secret, "POST", "/merchants/"+merchant+"/balances", map[string]any{"name": "Kiosk", "endpoints": []any{kiosk}}); code != 201 {
			t.Fatalf("kiosk balance: %d", code)
		}
		if code, _ := call(secret, "POST", "/merchants/"+merchant+"/balances", map[string]any{"name": "Another"}); code != 409 {
			t.Fatalf("a second balance without endpoints: %d", code)
		}
		_, o := call(secret, "POST", "/customers/"+cu+"/orders", nil)
		call(secret, "POST", "/debits", map[string]any{"amount": 2_999, "order": id(o, "orders"),
			"source": map[string]any{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030}})
		if code, out := call(secret, "POST", "/merchants/"+merchant+"/adjustments", map[string]any{"credit_amount": 500, "external_source": "kiosk float", "balance_name": "Kiosk"}); code != 201 {
			t.Fatalf("adjustment to Kiosk: %d %v", code, out)
		}

		get := func(path string, form url.Values) (int, string) {
			t.Helper()
			code, _, b := signedPost(t, base, "multi-"+kind, "multi control key 1", path, form, "")
			return code, string(b)
		}
		provider := url.Values{"balance-provider": {"poise"}}
		if code, body := get(paynet.Prefix+standard, provider); code != 200 || body != "balance-amount=29.99\n" {
			t.Fatalf("default endpoint: %d %q", code, body)
		}
		if code, body := get(paynet.Prefix+kiosk, provider); code != 200 || body != "balance-amount=5.00\n" {
			t.Fatalf("kiosk endpoint: %d %q", code, body)
		}
		if code, _ := get(paynet.Prefix+kiosk, nil); code != 400 {
			t.Fatalf("without balance-provider: %d", code)
		}
		_, all := get(paynet.Prefix+"merchant/multi-"+kind, nil)
		if !strings.Contains(all, `"name":"Main"`) || !strings.Contains(all, `"name":"Kiosk"`) {
			t.Fatalf("all balances: %s", all)
		}
		// Another merchant's endpoint is not this merchant's to read.
		_, c2 := call(secret, "POST", "/customers", map[string]any{})
		call(secret, "POST", "/merchants", map[string]any{"login": "other-" + kind, "control_key": "other control key 1", "customer": id(c2, "customers")})
		if code, _, _ := signedPost(t, base, "other-"+kind, "other control key 1", paynet.Prefix+kiosk, provider, ""); code != 404 {
			t.Fatalf("another merchant's endpoint: %d", code)
		}
	})
}
