package balanced_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"strings"
	"testing"

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
		sevenZ, err := os.ReadFile("testdata/adjustments.7z")
		if err != nil {
			t.Fatal(err)
		}
		if res := c.upload(t, sevenZ); res.status != 201 {
			t.Fatalf("7z file: %d %s", res.status, res.raw)
		}
		if got := balanceOf(); got != 950+1250-225 {
			t.Fatalf("after the 7z file: %v", got)
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
		if len(lines) != 3 || lines[0] != "date,type,amount,currency,gate,source,reserve date,sth date,fee,date bumping,rule" {
			t.Fatalf("export:\n%s", r.raw)
		}
		for i, want := range []string{d1 + ",", "3.20,BDAY+2," + first, d2 + ",", "1.00,ASAP," + second} {
			if line := lines[1+i/2]; !strings.Contains(line, want) {
				t.Fatalf("line %d %q lacks %q", 1+i/2, line, want)
			}
		}
	})
}
