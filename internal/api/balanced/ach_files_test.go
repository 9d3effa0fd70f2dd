package balanced_test

import (
	"bytes"
	"context"
	"github.com/poise-payments/poise/internal/achfile/achfiletest"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/ach"

	"github.com/poise-payments/poise/internal/api/balanced"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// A live marketplace configures its bank, a window closes, and its file
// is listed, read and downloaded; other keys see none of it.
func TestACHFilesThroughHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC))
		db := storetest.Open(t, kind)
		l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(ctx) })
		v, _ := vault.New(make([]byte, vault.KeyLen))
		svc := payments.NewService(l, db, v)
		sched := scheduler.New(db, clk)
		sched.Handle(payments.JobCloseACHWindow, svc.CloseACHWindow)
		srv := httptest.NewServer(balanced.New(svc, merchants.New(svc, db, v), nil))
		t.Cleanup(srv.Close)

		anon := &client{t: t, base: srv.URL}
		secret, _ := anon.do("POST", "/api_keys", nil).first("api_keys")["secret"].(string)
		live := &client{t: t, base: srv.URL, secret: secret}
		r := live.do("POST", "/marketplaces", map[string]any{"production": true})
		if r.status != 201 || r.first("marketplaces")["production"] != true {
			t.Fatalf("live marketplace: %d %s", r.status, r.raw)
		}
		mp := r.id("marketplaces")
		if strings.HasPrefix(mp, "TEST") {
			t.Fatalf("a live marketplace is named %s", mp)
		}
		test := newMarketplace(t, srv.URL, 0)
		testMP := test.do("GET", "/marketplaces", nil).id("marketplaces")

		if r := live.do("GET", "/marketplaces/"+mp+"/ach_settings", nil); r.status != 404 {
			t.Fatalf("settings before any: %d %s", r.status, r.raw)
		}
		settings := map[string]any{"odfi_routing_number": "121042882", "company_id": "1234567890",
			"company_name": "Rent Market", "origin_name": "Rent Market Inc", "destination_name": "Wells Fargo"}
		bad := map[string]any{}
		for k, v := range settings {
			bad[k] = v
		}
		bad["odfi_routing_number"] = "121042883"
		if r := live.do("PUT", "/marketplaces/"+mp+"/ach_settings", bad); r.status != 400 || r.category() != "invalid-routing-number" {
			t.Fatalf("bad routing: %d %s", r.status, r.raw)
		}
		if r := test.do("PUT", "/marketplaces/"+testMP+"/ach_settings", settings); r.status != 409 {
			t.Fatalf("settings of a test marketplace: %d %s", r.status, r.raw)
		}
		if r := test.do("PUT", "/marketplaces/"+mp+"/ach_settings", settings); r.status != 404 {
			t.Fatalf("settings of another's marketplace: %d %s", r.status, r.raw)
		}
		if r := live.do("PUT", "/marketplaces/"+mp+"/ach_settings", settings); r.status != 200 {
			t.Fatalf("settings: %d %s", r.status, r.raw)
		}
		if got := live.do("GET", "/marketplaces/"+mp+"/ach_settings", nil).first("ach_settings"); got["company_id"] != "1234567890" || got["odfi_routing_number"] != "121042882" {
			t.Fatalf("settings read back: %v", got)
		}

		bank, err := svc.CreateBankAccount(ctx, mp, payments.BankAccountInput{Name: "Alice", AccountNumber: "123456789", RoutingNumber: "231380104"})
		if err != nil {
			t.Fatal(err)
		}
		bz, err := svc.CreateVerification(ctx, mp, bank.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := db.GetResource(ctx, mp, bz.ID)
		a1, a2 := payments.Int(stored.Private["amount_1"]), payments.Int(stored.Private["amount_2"])
		if _, err := svc.ConfirmVerification(ctx, mp, bz.ID, a1, a2); err != nil {
			t.Fatal(err)
		}
		if err := clk.Set(time.Date(2026, 11, 25, 23, 40, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if n, err := sched.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("close ran %d, %v", n, err)
		}

		list := live.do("GET", "/ach_files", nil)
		if list.status != 200 || list.body["meta"].(map[string]any)["total"] != float64(1) {
			t.Fatalf("files: %d %s", list.status, list.raw)
		}
		id := list.id("ach_files")
		one := live.do("GET", "/ach_files/"+id, nil).first("ach_files")
		if one["entry_count"] != float64(2) || one["total_credit_amount"] != float64(a1+a2) || one["effective_date"] != "2026-11-27" {
			t.Fatalf("file: %v", one)
		}
		content := live.do("GET", "/ach_files/"+id+"/content", nil)
		if content.status != 200 || !strings.HasPrefix(content.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("content: %d %s", content.status, content.header.Get("Content-Type"))
		}
		file, err := ach.NewReader(bytes.NewReader(content.raw)).Read()
		if err != nil {
			t.Fatal(err)
		}
		if err := file.Validate(); err != nil || file.Control.EntryAddendaCount != 2 {
			t.Fatalf("downloaded file: %v, %d entries", err, file.Control.EntryAddendaCount)
		}
		for _, path := range []string{"/ach_files/" + id, "/ach_files/" + id + "/content"} {
			if r := test.do("GET", path, nil); r.status != 404 {
				t.Fatalf("another key reads %s: %d", path, r.status)
			}
		}
		if r := test.do("GET", "/ach_files", nil); r.status != 200 || r.body["meta"].(map[string]any)["total"] != float64(0) {
			t.Fatalf("another key lists: %d %s", r.status, r.raw)
		}

		// The bank returns the first micro-deposit: uploaded as a form's
		// file, then again as a plain body, which changes nothing.
		trace := file.Batches[0].GetEntries()[0].TraceNumber
		ret := achfiletest.ReturnsFile(t, achfiletest.Entry{Trace: trace, Code: "R03", AmountMinor: int64(file.Batches[0].GetEntries()[0].Amount)})
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, _ := mw.CreateFormFile("file", "returns.ach")
		fw.Write(ret)
		mw.Close()
		up := live.do("POST", "/ach_returns", form.String(), "Content-Type", mw.FormDataContentType())
		if up.status != 200 {
			t.Fatalf("upload: %d %s", up.status, up.raw)
		}
		got, _ := up.body["ach_returns"].([]any)
		if len(got) != 1 || got[0].(map[string]any)["outcome"] != "applied" || got[0].(map[string]any)["links"].(map[string]any)["transaction"] != bz.ID {
			t.Fatalf("returns: %s", up.raw)
		}
		if v := live.do("GET", "/verifications/"+bz.ID, nil).first("bank_account_verifications"); v["verification_status"] != "failed" {
			t.Fatalf("returned verification: %v", v)
		}
		again := live.do("POST", "/ach_returns", string(ret), "Content-Type", "text/plain")
		if got, _ := again.body["ach_returns"].([]any); again.status != 200 || len(got) != 1 || got[0].(map[string]any)["outcome"] != "already_applied" {
			t.Fatalf("again: %d %s", again.status, again.raw)
		}
		if r := test.do("POST", "/ach_returns", string(ret), "Content-Type", "text/plain"); r.status != 409 {
			t.Fatalf("returns to a test marketplace: %d %s", r.status, r.raw)
		}
		if r := live.do("POST", "/ach_returns", "garbage", "Content-Type", "text/plain"); r.status != 400 || r.category() != "ach-file-not-valid" {
			t.Fatalf("garbage: %d %s", r.status, r.raw)
		}
	})
}
