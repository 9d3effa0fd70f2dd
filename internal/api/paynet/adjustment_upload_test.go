package paynet_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A manager uploads an archived adjustments file with its login and
// control key, as the seed's debug form does; it adjusts only merchants
// it oversees, and the same file again changes nothing.
func TestManagerUploadsAdjustments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newStack(t, kind)
		call := mustCall(t, base)
		id := idOf
		secret := openMarketplace(call)
		merchant := func(login, ext string) string {
			cu := id(call(secret, "POST", "/customers", map[string]any{"name": login}), "customers")
			return id(call(secret, "POST", "/merchants", map[string]any{"login": login + "-" + kind, "control_key": "a control key 12345", "customer": cu, "external_merchant_id": ext}), "merchants")
		}
		mine := merchant("mine", "EXT-MINE")
		merchant("theirs", "EXT-THEIRS")
		mg := call(secret, "POST", "/managers", map[string]any{"login": "boss-" + kind, "control_key": "the boss control key", "merchants": []any{mine}, "external_merchant_id": "EXT-BOSS"})
		if ext := mg["managers"].([]any)[0].(map[string]any)["external_merchant_id"]; ext != "EXT-BOSS" {
			t.Fatalf("the manager's external ID: %v", ext)
		}
		upload := func(login, key, tsv string) (int, map[string]any) {
			t.Helper()
			var arch bytes.Buffer
			zw := zip.NewWriter(&arch)
			fw, _ := zw.Create("adjustments.tsv")
			fw.Write([]byte(tsv))
			zw.Close()
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			mw.WriteField("login", login)
			mw.WriteField("control_key", key)
			mw.WriteField("source", "monthly fees")
			ff, _ := mw.CreateFormFile("file", "adjustments.zip")
			ff.Write(arch.Bytes())
			mw.Close()
			resp, err := http.Post(base+paynet.AdjustmentsPath, mw.FormDataContentType(), &body)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		good := "10.45\t\teid1\tEXT-MINE\t\n\t0.45\teid2\tEXT-MINE\t\n"
		if code, out := upload("boss-"+kind, "not the key at all", good); code != 401 {
			t.Fatalf("a wrong control key: %d %v", code, out)
		}
		if code, out := upload("mine-"+kind, "a control key 12345", good); code != 401 {
			t.Fatalf("a merchant's login: %d %v", code, out)
		}
		code, out := upload("boss-"+kind, "the boss control key", good+"1.00\t\teid3\tEXT-THEIRS\t\n")
		if code != 400 {
			t.Fatalf("a line of another manager's merchant: %d %v", code, out)
		}
		bad := out["uploads"].([]any)[0].(map[string]any)["errors"].([]any)
		if len(bad) != 1 || bad[0].(map[string]any)["line"].(float64) != 3 {
			t.Fatalf("the bad line: %v", bad)
		}
		for i := 0; i < 2; i++ {
			if code, out := upload("boss-"+kind, "the boss control key", good); code != 201 {
				t.Fatalf("upload %d: %d %v", i+1, code, out)
			}
		}
		adjs := call(secret, "GET", "/merchants/"+mine+"/adjustments", nil)["adjustments"].([]any)
		if len(adjs) != 2 {
			t.Fatalf("%d adjustments after the same file twice, want 2", len(adjs))
		}
		var sum float64
		for _, a := range adjs {
			sum += a.(map[string]any)["amount"].(float64)
		}
		if sum != 1000 {
			t.Fatalf("the adjustments add up to %v, want 1000", sum)
		}
	})
}
