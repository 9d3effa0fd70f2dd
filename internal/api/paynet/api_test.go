package paynet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// A marketplace moves money through the Balanced API; its merchant, and the
// merchant's manager, read the balance it fed over signed requests.
func TestGetBalanceFedByBalancedPayments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newStack(t, kind)
		call := mustCall(t, base)
		first := firstOf

		secret := openMarketplace(call)
		cu := first(call(secret, "POST", "/customers", map[string]any{"name": "Joe"}), "customers")["id"].(string)
		ba := first(call(secret, "POST", "/customers/"+cu+"/bank_accounts", map[string]any{"name": "Joe", "account_number": "9900000000", "routing_number": "021000021"}), "bank_accounts")["id"].(string)
		order := first(call(secret, "POST", "/customers/"+cu+"/orders", nil), "orders")["id"].(string)
		debit := first(call(secret, "POST", "/debits", map[string]any{"amount": 12_345, "order": order,
			"source": map[string]any{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030}}), "debits")["id"].(string)
		call(secret, "POST", "/debits/"+debit+"/refunds", map[string]any{"amount": 345})
		// A payout into an account whose ACH credits stay pending: it is
		// deducted and held in the buffer until its final status.
		call(secret, "POST", "/bank_accounts/"+ba+"/credits", map[string]any{"amount": 2_000, "order": order})
		merchant := first(call(secret, "POST", "/merchants", map[string]any{"login": "joe-shop", "control_key": "joe's control key 1", "customer": cu, "external_merchant_id": "EXT-9"}), "merchants")["id"].(string)
		call(secret, "POST", "/managers", map[string]any{"login": "reseller", "control_key": "reseller control key", "merchants": []any{merchant}})

		get := func(login, key, path string, form url.Values) (int, []map[string]any) {
			t.Helper()
			code, _, raw := signedPost(t, base, login, key, path, form, "")
			var out []map[string]any
			json.Unmarshal(raw, &out)
			return code, out
		}
		want := map[string]any{
			"name": "USD", "currency": "USD", "merchantLogin": "joe-shop", "externalMerchantIdentifier": "EXT-9",
			"amount": 100.0, "online-balance-live-amount": 100.0,
			"total-short-term-hold-amount": 0.0, "total-rolling-reserve-amount": 0.0, "amount-buffer-hold": 20.0,
		}
		check := func(who string, got []map[string]any) {
			t.Helper()
			if len(got) != 1 {
				t.Fatalf("%s: %v", who, got)
			}
			for k, v := range want {
				if got[0][k] != v {
					t.Fatalf("%s: %s = %v, want %v (all: %v)", who, k, got[0][k], v, got[0])
				}
			}
		}
		code, got := get("joe-shop", "joe's control key 1", paynet.Prefix+"merchant/joe-shop", nil)
		if code != 200 {
			t.Fatalf("merchant: %d", code)
		}
		check("merchant", got)
		code, got = get("reseller", "reseller control key", paynet.Prefix+"manager/reseller", url.Values{"balance-name": {"USD"}})
		if code != 200 {
			t.Fatalf("manager: %d", code)
		}
		check("manager", got)
		if code, _ := get("reseller", "reseller control key", paynet.Prefix+"merchant/joe-shop", nil); code != 403 {
			t.Fatalf("another login's balance: %d", code)
		}
		if code, _ := get("joe-shop", "wrong key for joe", paynet.Prefix+"merchant/joe-shop", nil); code != 401 {
			t.Fatalf("wrong control key: %d", code)
		}
		if code, _ := get("joe-shop", "joe's control key 1", paynet.Prefix+"merchant/joe-shop", url.Values{"balance-name": {"EUR"}}); code != 404 {
			t.Fatalf("unknown balance name: %d", code)
		}
	})
}

// fixedSecrets and anyNonce stand for a login store that still answers
// while the database behind the balances has failed.
type fixedSecrets struct{}

func (fixedSecrets) ControlKey(ctx context.Context, login string) (string, error) {
	return "a control key 12345", nil
}

type anyNonce struct{}

func (anyNonce) UseNonce(ctx context.Context, consumer, nonce string, at time.Time) error { return nil }

// A correctly signed request whose reads fail in the database is answered
// 5xx in the API's error format, never 404 or 403: the caller did nothing
// wrong, and what it asked for may well exist.
func TestDatabaseFailureIsNotNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(context.Background()) })
		v, _ := vault.New(make([]byte, vault.KeyLen))
		svc := payments.NewService(l, db, v)
		pn := paynet.New(svc, merchants.New(svc, db, v), &paynet.Verifier{Secrets: fixedSecrets{}, Nonces: anyNonce{}, Clock: clock.System()}, nil)
		db.Close()
		for _, path := range []string{"merchant/shop", "manager/boss", "EP0000000000000000000000"} {
			body := []byte("balance-provider=p")
			req := httptest.NewRequest("POST", "http://poise.test"+paynet.Prefix+path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			login := strings.TrimPrefix(strings.TrimPrefix(path, "merchant/"), "manager/")
			if strings.HasPrefix(path, "EP") {
				login = "shop"
			}
			if err := paynet.SignRequest(req, body, login, "a control key 12345", time.Now()); err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			pn.ServeHTTP(rec, req)
			var out map[string]map[string]any
			json.Unmarshal(rec.Body.Bytes(), &out)
			if rec.Code < 500 || out["error"]["code"] == nil {
				t.Errorf("%s with the database down: %d %s", path, rec.Code, rec.Body)
			}
		}
	})
}
