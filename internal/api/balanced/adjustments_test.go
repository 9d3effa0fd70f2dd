package balanced_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/store/storetest"
)

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

func gzipOf(body string) []byte {
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	gw.Write([]byte(body))
	gw.Close()
	return buf.Bytes()
}

func (c *client) upload(t *testing.T, archive []byte) reply {
	t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/adjustments/uploads?external_source=monthly-fees", bytes.NewReader(archive))
	req.SetBasicAuth(c.secret, "")
	req.Header.Set("Content-Type", "application/octet-stream")
	return c.send(t, req)
}

// Adjustments move a merchant's balance through the ledger: manual ones,
// idempotent by external ID, and archived TSV files applied whole or not
// at all, with every bad line reported.
func TestAdjustments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		cu := c.do("POST", "/customers", map[string]any{"name": "Shop"}).id("customers")
		m := c.do("POST", "/merchants", map[string]any{"login": "shop-" + kind, "control_key": "a control key 12345", "customer": cu, "external_merchant_id": "EXT-1"})
		merchant := m.id("merchants")
		if merchant == "" {
			t.Fatalf("merchant: %d %s", m.status, m.raw)
		}
		balanceOf := func() float64 {
			t.Helper()
			acct := c.do("GET", "/customers/"+cu+"/accounts", nil).first("accounts")
			return acct["balance"].(float64)
		}

		if r := c.do("POST", "/merchants/"+merchant+"/adjustments", map[string]any{"amount": 500}); r.status != 400 {
			t.Fatalf("no external source: %d %s", r.status, r.raw)
		}
		r := c.do("POST", "/merchants/"+merchant+"/adjustments", map[string]any{"credit_amount": 1000, "external_source": "support", "external_id": "T-1"})
		again := c.do("POST", "/merchants/"+merchant+"/adjustments", map[string]any{"credit_amount": 1000, "external_source": "support", "external_id": "T-1"})
		if r.status != 201 || again.id("adjustments") != r.id("adjustments") {
			t.Fatalf("idempotent adjustment: %d %s / %s", r.status, r.raw, again.raw)
		}
		if r := c.do("POST", "/merchants/"+merchant+"/adjustments", map[string]any{"debit_amount": 300, "external_source": "fee"}); r.status != 201 {
			t.Fatalf("debit: %d %s", r.status, r.raw)
		}
		if got := balanceOf(); got != 700 {
			t.Fatalf("balance after +10.00 −3.00 = %v", got)
		}

		// A file with bad lines is refused whole, every bad line named.
		bad := "credit\tdebit\tid\tmerchant\tbalance\n5.00\t\tB-1\tEXT-1\t\nabc\t\tB-2\tEXT-1\t\n1.00\t1.00\tB-3\tEXT-1\t\n2.00\t\tB-4\tNOBODY\t\n"
		res := c.upload(t, zipOf(t, map[string]string{"bad.tsv": bad}))
		if res.status != 400 || !strings.Contains(string(res.raw), `"line":3`) || !strings.Contains(string(res.raw), `"line":4`) {
			t.Fatalf("bad file: %d %s", res.status, res.raw)
		}
		if got := balanceOf(); got != 700 {
			t.Fatalf("a refused file moved money: %v", got)
		}
		res = c.upload(t, zipOf(t, map[string]string{"bad.tsv": "2.00\t\tB-4\tNOBODY\t\n"}))
		if res.status != 400 || !strings.Contains(string(res.raw), "NOBODY") {
			t.Fatalf("unknown merchant: %d %s", res.status, res.raw)
		}

		good := "4.00\t\tG-1\tEXT-1\t\n\t1.50\tG-2\tEXT-1\tUSD\n"
		for _, archive := range [][]byte{gzipOf(good), gzipOf(good), zipOf(t, map[string]string{"a.tsv": good})} {
			if res := c.upload(t, archive); res.status != 201 {
				t.Fatalf("good file: %d %s", res.status, res.raw)
			}
		}
		if got := balanceOf(); got != 700+400-150 {
			t.Fatalf("uploading one file three times applied it more than once: %v", got)
		}
		// A 7z archive is refused with a message naming the formats read,
		// and changes nothing.
		sevenZ, err := os.ReadFile("testdata/adjustments.7z")
		if err != nil {
			t.Fatal(err)
		}
		if res := c.upload(t, sevenZ); res.status != 400 || !strings.Contains(string(res.raw), "zip") {
			t.Fatalf("7z file: %d %s", res.status, res.raw)
		}
		if got := balanceOf(); got != 700+400-150 {
			t.Fatalf("after the refused 7z file: %v", got)
		}
		// The same lines zipped, as 7-Zip writes them when asked for zip.
		if res := c.upload(t, zipOf(t, map[string]string{"more.tsv": "12.50\t\tS-1\tEXT-1\t\n\t2.25\tS-2\tEXT-1\tUSD\n"})); res.status != 201 {
			t.Fatalf("zip file: %d %s", res.status, res.raw)
		}
		if got := balanceOf(); got != 950+1250-225 {
			t.Fatalf("after the zip file: %v", got)
		}
		if res := c.upload(t, []byte("not an archive")); res.status != 400 {
			t.Fatalf("not an archive: %d", res.status)
		}

		list := c.do("GET", "/merchants/"+merchant+"/adjustments?sort=created_at&limit=100", nil)
		if total := list.body["meta"].(map[string]any)["total"]; total != float64(6) {
			t.Fatalf("%v adjustments listed: %s", total, list.raw)
		}
		req, _ := http.NewRequest("GET", c.base+"/merchants/"+merchant+"/adjustments.csv", nil)
		req.SetBasicAuth(c.secret, "")
		csv := c.send(t, req)
		first := strings.SplitN(string(csv.raw), "\n", 2)[0]
		if csv.status != 200 || !strings.HasSuffix(first, ",19.75") {
			t.Fatalf("export first line %q (%d)", first, csv.status)
		}
	})
}

// A test marketplace's clock is advanced through the API, never back, and
// only by the marketplace itself.
func TestTestClockThroughHTTP(t *testing.T) {
	base := newServer(t, "sqlite")
	c := newMarketplace(t, base, 0)
	other := newMarketplace(t, base, 0)
	mp := c.do("GET", "/marketplaces", nil).id("marketplaces")
	r := c.do("POST", "/marketplaces/"+mp+"/test_clock", map[string]any{"advance": "72h"})
	clk, _ := r.body["test_clocks"].([]any)
	if r.status != 200 || len(clk) != 1 || clk[0].(map[string]any)["offset_seconds"] != float64(72*3600) {
		t.Fatalf("advance: %d %s", r.status, r.raw)
	}
	if r := c.do("POST", "/marketplaces/"+mp+"/test_clock", map[string]any{"advance": "-1h"}); r.status != 400 {
		t.Fatalf("backwards: %d", r.status)
	}
	if r := other.do("POST", "/marketplaces/"+mp+"/test_clock", map[string]any{"advance": "1h"}); r.status != 404 {
		t.Fatalf("another marketplace's clock: %d", r.status)
	}
	if r := c.do("GET", "/marketplaces/"+mp+"/test_clock", nil); r.status != 200 || !strings.Contains(string(r.raw), `"offset_seconds":259200`) {
		t.Fatalf("read: %d %s", r.status, r.raw)
	}
	// Days, as rolling reserves count them: 72h + 90 days + 1 day + 2 days.
	for _, body := range []map[string]any{{"advance": "90d"}, {"advance": "1 day"}, {"advance_days": 2}} {
		if r := c.do("POST", "/marketplaces/"+mp+"/test_clock", body); r.status != 200 {
			t.Fatalf("%v: %d %s", body, r.status, r.raw)
		}
	}
	if r := c.do("GET", "/marketplaces/"+mp+"/test_clock", nil); !strings.Contains(string(r.raw), fmt.Sprintf(`"offset_seconds":%d`, (3+93)*86400)) {
		t.Fatalf("after days: %s", r.raw)
	}
	for _, body := range []map[string]any{{"advance": "-2d"}, {"advance": "9999d"}, {"advance": "twod"}, {"advance_days": -1}} {
		if r := c.do("POST", "/marketplaces/"+mp+"/test_clock", body); r.status != 400 {
			t.Fatalf("%v: %d %s", body, r.status, r.raw)
		}
	}
}

// csvRows reads a CSV export of the merchant balance API.
func (c *client) csvRows(t *testing.T, path string) [][]string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.SetBasicAuth(c.secret, "")
	res := c.send(t, req)
	if res.status != 200 {
		t.Fatalf("GET %s: %d %s", path, res.status, res.raw)
	}
	r := csv.NewReader(bytes.NewReader(res.raw))
	r.FieldsPerRecord = -1 // the adjustments export opens with a summary line
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("GET %s: not CSV: %v\n%s", path, err, res.raw)
	}
	return rows
}

// An adjustment records the balance it went to, in its record and in the
// adjustments export: the one it named, or the balance that counts the
// merchant's default endpoint when it named none.
func TestAdjustmentRecordsItsBalance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		c := newMarketplace(t, newServer(t, kind), 0)
		cu := c.do("POST", "/customers", map[string]any{"name": "Kiosk shop"}).id("customers")
		merchant := c.do("POST", "/merchants", map[string]any{"login": "kiosk-" + kind, "control_key": "a control key 12345", "customer": cu}).id("merchants")
		ep := c.do("POST", "/merchants/"+merchant+"/endpoints", map[string]any{"name": "kiosk", "currency": "USD"}).id("endpoints")
		if ep == "" {
			t.Fatal("no endpoint")
		}
		const kiosk, main = "Kiosk & Till #1", "Main"
		for _, b := range []map[string]any{{"name": kiosk, "currency": "USD", "endpoints": []any{ep}}, {"name": main, "currency": "USD"}} {
			if r := c.do("POST", "/merchants/"+merchant+"/balances", b); r.status != 201 {
				t.Fatalf("balance %v: %d %s", b["name"], r.status, r.raw)
			}
		}
		want := map[string]string{}
		for _, name := range []string{kiosk, ""} {
			body := map[string]any{"credit_amount": 250, "external_source": "till"}
			if name != "" {
				body["balance_name"] = name
			}
			r := c.do("POST", "/merchants/"+merchant+"/adjustments", body)
			if r.status != 201 {
				t.Fatalf("adjustment to %q: %d %s", name, r.status, r.raw)
			}
			if name == "" {
				name = main
			}
			if got := r.first("adjustments")["balance_name"]; got != name {
				t.Fatalf("adjustment to %q records balance_name %v", name, got)
			}
			want[r.id("adjustments")] = name
		}
		rows := c.csvRows(t, "/merchants/"+merchant+"/adjustments.csv")
		if len(rows) != 2+len(want) {
			t.Fatalf("export: %v", rows)
		}
		col := -1
		for i, h := range rows[1] {
			if h == "balance_name" {
				col = i
			}
		}
		for _, row := range rows[2:] {
			if col < 0 || row[col] != want[row[0]] {
				t.Fatalf("export row %v: balance_name column %d, want %q", row, col, want[row[0]])
			}
		}
	})
}

// The transactions export and the adjustments export count New York days,
// as the release dates do: a sale at 23:47 New York on 29 November (04:47
// UTC on the 30th) is in from=2026-11-29&to=2026-11-30 and not in the next
// day's window, and the export made then is dated the 29th.
func TestExportsUseNewYorkDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		at := time.Date(2026, 11, 30, 4, 47, 0, 0, time.UTC)
		c := newMarketplace(t, newServerAt(t, kind, clock.NewManual(at)), 0)
		cu := c.do("POST", "/customers", map[string]any{"name": "Late shop"}).id("customers")
		merchant := c.do("POST", "/merchants", map[string]any{"login": "late-" + kind, "control_key": "a control key 12345", "customer": cu}).id("merchants")
		order := c.do("POST", "/customers/"+cu+"/orders", map[string]any{}).id("orders")
		card := c.do("POST", "/cards", map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030}).id("cards")
		if r := c.do("POST", "/cards/"+card+"/debits", map[string]any{"amount": 1234, "order": "/orders/" + order}); r.status != 201 {
			t.Fatalf("sale: %d %s", r.status, r.raw)
		}
		sales := func(from, to string) int {
			n := 0
			for _, row := range c.csvRows(t, "/merchants/"+merchant+"/transactions.csv?from="+from+"&to="+to)[1:] {
				if row[1] == "sale" && row[2] == "12.34" {
					n++
				}
			}
			return n
		}
		if n := sales("2026-11-29", "2026-11-30"); n != 1 {
			t.Fatalf("the 29th (New York) lists %d sales of 23:47 that day, want 1", n)
		}
		if n := sales("2026-11-30", "2026-12-01"); n != 0 {
			t.Fatalf("the 30th (New York) lists %d sales of 23:47 the day before, want 0", n)
		}
		if r := c.do("POST", "/merchants/"+merchant+"/adjustments", map[string]any{"credit_amount": 100, "external_source": "late"}); r.status != 201 {
			t.Fatalf("adjustment: %d %s", r.status, r.raw)
		}
		if got := c.csvRows(t, "/merchants/"+merchant+"/adjustments.csv")[0][0]; got != "2026-11-29" {
			t.Fatalf("adjustments export made at 23:47 New York on the 29th is dated %s", got)
		}
	})
}

// The transactions export shows, for each transaction, the fee, date
// bumping and rule that applied when it happened, even after the rule
// changed.
func TestTransactionsExportShowsAppliedRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		cu := c.do("POST", "/customers", map[string]any{"name": "Shop"}).id("customers")
		merchant := c.do("POST", "/merchants", map[string]any{"login": "export-" + kind, "control_key": "a control key 12345", "customer": cu}).id("merchants")
		order := c.do("POST", "/customers/"+cu+"/orders", nil).id("orders")
		rule := func(body map[string]any) string {
			t.Helper()
			r := c.do("POST", "/merchants/"+merchant+"/balance_rules", body)
			if r.status != 201 {
				t.Fatalf("rule: %d %s", r.status, r.raw)
			}
			return r.id("balance_rules")
		}
		sell := func() string {
			t.Helper()
			r := c.do("POST", "/debits", map[string]any{"amount": 10_000, "order": order,
				"source": map[string]any{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030}})
			if r.status != 201 {
				t.Fatalf("debit: %d %s", r.status, r.raw)
			}
			return r.id("debits")
		}
		first := rule(map[string]any{"transaction_type": "sale", "action": "add", "fee_rate": "2.9", "fee_fixed": 30, "date_bump": "BDAY+2"})
		d1 := sell()
		second := rule(map[string]any{"transaction_type": "sale", "action": "add", "fee_rate": "1", "date_bump": "ASAP"})
		d2 := sell()
		r := c.do("GET", "/merchants/"+merchant+"/transactions.csv?from=2000-01-01&to=2100-01-01", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "text/csv" {
			t.Fatalf("export: %d %s", r.status, r.raw)
		}
		lines := strings.Split(strings.TrimSpace(string(r.raw)), "\n")
		if len(lines) != 3 || lines[0] != "date,type,amount,currency,gate,source,reserve date,sth date,fee,date bumping,rule,balance" {
			t.Fatalf("export:\n%s", r.raw)
		}
		for i, want := range []string{d1 + ",", "3.20,BDAY+2," + first + ",USD", d2 + ",", "1.00,ASAP," + second + ",USD"} {
			if line := lines[1+i/2]; !strings.Contains(line, want) {
				t.Fatalf("line %d %q lacks %q", 1+i/2, line, want)
			}
		}
	})
}
