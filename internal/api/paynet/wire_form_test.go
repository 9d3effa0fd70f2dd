package paynet_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// get-balance answers as the seed's example shows: text/html;charset=utf-8
// with amounts to three decimals; a client asking for JSON gets JSON, each
// amount in its currency's decimals. A JPY and a KWD balance read back
// exactly what the operator recorded. By endpoint, balance-provider picks
// the balance: poise for the account balance, a processor for its
// processor balance, anything else is not found.
func TestGetBalanceWireForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newStack(t, kind)
		call := mustCall(t, base)
		id := idOf
		secret := openMarketplace(call)
		cu := id(call(secret, "POST", "/customers", map[string]any{"name": "Ken"}), "customers")
		login := "ken-" + kind
		merchant := id(call(secret, "POST", "/merchants", map[string]any{"login": login, "control_key": "ken's control key 1", "customer": cu}), "merchants")
		jpy := id(call(secret, "POST", "/merchants/"+merchant+"/endpoints", map[string]any{"name": "tokyo", "currency": "JPY"}), "endpoints")
		kwd := id(call(secret, "POST", "/merchants/"+merchant+"/endpoints", map[string]any{"name": "kuwait", "currency": "KWD"}), "endpoints")
		call(secret, "POST", "/gates", map[string]any{"name": "acq-jp", "processor": "jcb-acquirer"})
		call(secret, "POST", "/merchants/"+merchant+"/balances", map[string]any{"name": "JCB", "currency": "JPY", "kind": "processor", "processors": []any{"jcb-acquirer"}})
		at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		call(secret, "POST", "/operator_transactions", map[string]any{"operator_transactions": []any{
			map[string]any{"external_id": "u", "type": "sale", "amount": 1234, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at},
			map[string]any{"external_id": "j", "type": "sale", "amount": 98765, "currency": "JPY", "merchant": merchant, "endpoint": jpy, "gate": "acq-jp", "occurred_at": at},
			map[string]any{"external_id": "k", "type": "sale", "amount": 1234, "currency": "KWD", "merchant": merchant, "endpoint": kwd, "gate": "card", "occurred_at": at},
		}})

		post := func(path string, form url.Values, accept string) (int, http.Header, string) {
			t.Helper()
			code, h, b := signedPost(t, base, login, "ken's control key 1", path, form, accept)
			return code, h, string(b)
		}
		code, h, body := post(paynet.Prefix+"merchant/"+login, nil, "")
		if code != 200 || h.Get("Content-Type") != "text/html;charset=utf-8" {
			t.Fatalf("seed form: %d %s %s", code, h.Get("Content-Type"), body)
		}
		for _, want := range []string{`"name":"USD","amount":12.340,`, `"name":"JPY","amount":98765.000,`, `"name":"KWD","amount":1.234,`, `"name":"JCB","amount":98765.000,`, `"amount-buffer-hold":0.000`} {
			if !strings.Contains(body, want) {
				t.Errorf("the seed's form lacks %s: %s", want, body)
			}
		}
		code, h, body = post(paynet.Prefix+"merchant/"+login, url.Values{"balance-name": {"KWD"}}, "application/json")
		if code != 200 || h.Get("Content-Type") != "application/json" || !strings.Contains(body, `"amount":1.234,`) || strings.Contains(body, "JPY") {
			t.Fatalf("JSON: %d %s %s", code, h.Get("Content-Type"), body)
		}
		code, _, body = post(paynet.Prefix+"merchant/"+login, url.Values{"balance-name": {"JPY"}}, "application/json")
		if code != 200 || !strings.Contains(body, `"amount":98765,`) {
			t.Fatalf("JSON in yen: %d %s", code, body)
		}
		for provider, want := range map[string]string{"poise": "balance-amount=98765\n", "jcb-acquirer": "balance-amount=98765\n", "JCB": "balance-amount=98765\n"} {
			if code, _, body := post(paynet.Prefix+jpy, url.Values{"balance-provider": {provider}}, ""); code != 200 || body != want {
				t.Errorf("provider %s: %d %q", provider, code, body)
			}
		}
		if code, _, body := post(paynet.Prefix+jpy, url.Values{"balance-provider": {"visa-acquirer"}}, ""); code != 404 {
			t.Errorf("an unknown provider: %d %q", code, body)
		}
		if code, _, body := post(paynet.Prefix+kwd, url.Values{"balance-provider": {"poise"}}, ""); code != 200 || body != "balance-amount=1.234\n" {
			t.Errorf("KWD by endpoint: %d %q", code, body)
		}
	})
}
