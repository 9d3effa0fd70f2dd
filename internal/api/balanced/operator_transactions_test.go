package balanced_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/store/storetest"
)

func (c *client) importTransactions(t *testing.T, archive []byte) reply {
	t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/operator_transactions/imports", bytes.NewReader(archive))
	req.SetBasicAuth(c.secret, "")
	req.Header.Set("Content-Type", "application/octet-stream")
	return c.send(t, req)
}

// operatorFile writes n transactions of one merchant as a TSV file: sales
// of 1.00 to 9.99 and, every tenth line, a reversal; bad, when non-zero,
// is a line whose gate nobody configured. It returns the file and what the
// lines add up to on a balance under the seed's table.
func operatorFile(n, bad int, merchant string, at time.Time) (string, int64) {
	var b strings.Builder
	b.WriteString("external_id\ttype\tamount\tcurrency\tmerchant\tgate\toccurred_at\n")
	var sum int64
	stamp := at.UTC().Format(time.RFC3339)
	for i := 1; i <= n; i++ {
		gate := "acq-1"
		if i+1 == bad { // line numbers count the header
			gate = "acq-unknown"
		}
		cents := int64(100 + i%900)
		typ := "sale"
		if i%10 == 0 {
			typ, sum = "reversal", sum-cents
		} else {
			sum += cents
		}
		fmt.Fprintf(&b, "t%d\t%s\t%d.%02d\tUSD\t%s\t%s\t%s\n", i, typ, cents/100, cents%100, merchant, gate, stamp)
	}
	return b.String(), sum
}

// A day's file of 100,000 transactions with one bad line is refused whole,
// the line named; put right it is recorded, and imported again it changes
// nothing.
func TestOperatorTransactionsImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		cu := c.do("POST", "/customers", map[string]any{"name": "Shop"}).id("customers")
		m := c.do("POST", "/merchants", map[string]any{"login": "op-shop-" + kind, "control_key": "a control key 12345", "customer": cu, "external_merchant_id": "SHOP-1"})
		merchant := m.id("merchants")
		if r := c.do("POST", "/gates", map[string]any{"name": "acq-1", "processor": "acquirer-one"}); r.status != 201 {
			t.Fatalf("gate: %d %s", r.status, r.raw)
		}
		balance := func() float64 {
			t.Helper()
			r := c.do("GET", "/merchants/"+merchant+"/reconciliation", nil)
			rec := r.first("reconciliations")
			if r.status != 200 || rec["reconciled"] != true {
				t.Fatalf("reconciliation: %d %s", r.status, r.raw)
			}
			return rec["balance"].(float64)
		}
		n, badLine := 100_000, 50_001
		if raceDetector {
			n, badLine = 5_000, 2_501
		}
		at := time.Now().Add(-time.Hour)
		file, _ := operatorFile(n, badLine, "SHOP-1", at)
		r := c.importTransactions(t, zipOf(t, map[string]string{"day.tsv": file}))
		imp, _ := r.body["imports"].([]any)
		if r.status != 400 || len(imp) != 1 {
			t.Fatalf("a file with a bad line: %d %.300s", r.status, r.raw)
		}
		errs := imp[0].(map[string]any)["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["line"].(float64) != float64(badLine) ||
			!strings.Contains(errs[0].(map[string]any)["message"].(string), "acq-unknown") {
			t.Fatalf("the bad line: %v", errs)
		}
		if got := balance(); got != 0 {
			t.Fatalf("a refused file moved the balance to %v", got)
		}

		file, sum := operatorFile(n, 0, "SHOP-1", at)
		archive := zipOf(t, map[string]string{"day.tsv": file})
		began := time.Now()
		r = c.importTransactions(t, archive)
		t.Logf("%d transactions imported over HTTP in %v (%.0f/s)", n, time.Since(began).Round(time.Millisecond), float64(n)/time.Since(began).Seconds())
		imp, _ = r.body["imports"].([]any)
		if r.status != 201 || imp[0].(map[string]any)["recorded"].(float64) != float64(n) {
			t.Fatalf("the day's file: %d %.300s", r.status, r.raw)
		}
		if got := balance(); got != float64(sum) {
			t.Fatalf("balance %v after the day's file, its lines add up to %d", got, sum)
		}
		began = time.Now()
		r = c.importTransactions(t, archive)
		t.Logf("the same file again in %v", time.Since(began).Round(time.Millisecond))
		imp, _ = r.body["imports"].([]any)
		if r.status != 201 || imp[0].(map[string]any)["recorded"].(float64) != 0 || imp[0].(map[string]any)["already_recorded"].(float64) != float64(n) {
			t.Fatalf("the same file again: %d %.300s", r.status, r.raw)
		}
		if got := balance(); got != float64(sum) {
			t.Fatalf("the same file again moved the balance to %v, was %d", got, sum)
		}
	})
}

// One transaction and a list through the API: recorded once per external
// ID, bad input answered in the API's error format.
func TestOperatorTransactionsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		cu := c.do("POST", "/customers", map[string]any{"name": "Shop"}).id("customers")
		merchant := c.do("POST", "/merchants", map[string]any{"login": "api-shop-" + kind, "control_key": "a control key 12345", "customer": cu}).id("merchants")
		at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		one := map[string]any{"external_id": "x-1", "type": "sale", "amount": 1250, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at}
		r := c.do("POST", "/operator_transactions", map[string]any{"operator_transactions": []any{one}})
		if r.status != 201 || r.first("operator_transactions")["processor"] != "balanced" {
			t.Fatalf("one transaction: %d %s", r.status, r.raw)
		}
		id := r.id("operator_transactions")
		again := c.do("POST", "/operator_transactions", one)
		if again.status != 200 || again.id("operator_transactions") != id {
			t.Fatalf("sent again: %d %s", again.status, again.raw)
		}
		if g := c.do("GET", "/operator_transactions/"+id, nil); g.status != 200 || g.first("operator_transactions")["amount"].(float64) != 1250 {
			t.Fatalf("read back: %d %s", g.status, g.raw)
		}
		// Another marketplace neither reads it nor records for this one's merchant.
		other := newMarketplace(t, base, 0)
		if g := other.do("GET", "/operator_transactions/"+id, nil); g.status != 404 || strings.Contains(string(g.raw), "1250") {
			t.Fatalf("another marketplace read it: %d %s", g.status, g.raw)
		}
		theirs := map[string]any{"external_id": "x-9", "type": "sale", "amount": 1, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at}
		if r := other.do("POST", "/operator_transactions", theirs); r.status != 404 {
			t.Fatalf("another marketplace recorded for this one's merchant: %d %s", r.status, r.raw)
		}
		list := []any{
			map[string]any{"external_id": "x-2", "type": "chargeback", "amount": 250, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at},
			map[string]any{"external_id": "x-3", "type": "create_card_mapping", "amount": 0, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at},
		}
		if r := c.do("POST", "/operator_transactions", map[string]any{"operator_transactions": list}); r.status != 400 || !strings.Contains(string(r.raw), "item 2") {
			t.Fatalf("a card mapping without its mapping: %d %s", r.status, r.raw)
		}
		list[1].(map[string]any)["card_mapping"] = "cm-77"
		if r := c.do("POST", "/operator_transactions", map[string]any{"operator_transactions": list}); r.status != 201 {
			t.Fatalf("a list: %d %s", r.status, r.raw)
		}
		for _, bad := range []map[string]any{
			{"external_id": "y", "type": "refund", "amount": 1, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at},
			{"external_id": "y", "type": "sale", "amount": -1, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at},
			{"external_id": "y", "type": "sale", "amount": 1, "currency": "XXY", "merchant": merchant, "gate": "card", "occurred_at": at},
			{"external_id": "y", "type": "sale", "amount": 1, "currency": "USD", "merchant": "MC404", "gate": "card", "occurred_at": at},
			{"external_id": "y", "type": "sale", "amount": 1, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": "yesterday"},
			{"external_id": "y", "type": "sale", "amount": 1, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at, "colour": "red"},
			{"external_id": "x-1", "type": "sale", "amount": 1251, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at},
		} {
			if r := c.do("POST", "/operator_transactions", bad); r.status < 400 || r.status >= 500 || r.category() == "" {
				t.Errorf("%v: %d %s", bad, r.status, r.raw)
			}
		}
		rec := c.do("GET", "/merchants/"+merchant+"/reconciliation", nil).first("reconciliations")
		if rec["balance"].(float64) != 1000 || rec["reconciled"] != true {
			t.Fatalf("balance after a sale of 12.50 and a chargeback of 2.50: %v", rec)
		}
	})
}

// Reconciliation, export, moving the rolling reserve and the adjustments
// CSV work per balance, and per merchant as the roll-up of its balances.
func TestPerBalanceOperations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		cu := c.do("POST", "/customers", map[string]any{"name": "Shop"}).id("customers")
		merchant := c.do("POST", "/merchants", map[string]any{"login": "per-" + kind, "control_key": "a control key 12345", "customer": cu}).id("merchants")
		ep := c.do("POST", "/merchants/"+merchant+"/endpoints", map[string]any{"name": "kiosk", "currency": "USD"}).id("endpoints")
		for _, b := range []map[string]any{{"name": "Main"}, {"name": "Kiosk", "endpoints": []any{ep}}} {
			if r := c.do("POST", "/merchants/"+merchant+"/balances", b); r.status != 201 {
				t.Fatalf("balance: %d %s", r.status, r.raw)
			}
		}
		if r := c.do("POST", "/merchants/"+merchant+"/balance_rules", map[string]any{"transaction_type": "sale", "action": "add", "reserve_rate": "10",
			"reserve_period_days": 30, "date_bump": "ASAP_plus_RR", "effective_from": "2026-01-01"}); r.status != 201 {
			t.Fatalf("rule: %d %s", r.status, r.raw)
		}
		at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		list := []any{
			map[string]any{"external_id": "m1", "type": "sale", "amount": 10_000, "currency": "USD", "merchant": merchant, "gate": "card", "occurred_at": at},
			map[string]any{"external_id": "k1", "type": "sale", "amount": 2_000, "currency": "USD", "merchant": merchant, "endpoint": ep, "gate": "card", "occurred_at": at},
			map[string]any{"external_id": "k2", "type": "payout", "amount": 500, "currency": "USD", "merchant": merchant, "endpoint": ep, "gate": "card", "occurred_at": at},
		}
		if r := c.do("POST", "/operator_transactions", map[string]any{"operator_transactions": list}); r.status != 201 {
			t.Fatalf("transactions: %d %s", r.status, r.raw)
		}
		c.do("POST", "/merchants/"+merchant+"/adjustments", map[string]any{"credit_amount": 300, "external_source": "s", "balance_name": "Kiosk"})
		c.do("POST", "/merchants/"+merchant+"/adjustments", map[string]any{"debit_amount": 100, "external_source": "s", "balance_name": "Main"})

		rec := c.do("GET", "/merchants/"+merchant+"/reconciliation?balance=Kiosk", nil).first("reconciliations")
		per, _ := rec["balances"].([]any)
		if rec["reconciled"] != true || len(per) != 1 || rec["balance"].(float64) != 2_000-200-500+300+200 || rec["entries"].(float64) != 3 {
			t.Fatalf("Kiosk's reconciliation: %v", rec)
		}
		all := c.do("GET", "/merchants/"+merchant+"/reconciliation", nil).first("reconciliations")
		if all["reconciled"] != true || len(all["balances"].([]any)) != 2 || all["balance"].(float64) != 10_000-100+2_000-500+300 {
			t.Fatalf("the roll-up: %v", all)
		}
		if r := c.do("GET", "/merchants/"+merchant+"/reconciliation?balance=Nope", nil); r.status != 404 {
			t.Fatalf("an unknown balance: %d %s", r.status, r.raw)
		}

		r := c.do("GET", "/merchants/"+merchant+"/transactions.csv?from=2000-01-01&to=2100-01-01&balance=Kiosk", nil)
		lines := strings.Split(strings.TrimSpace(string(r.raw)), "\n")
		if r.status != 200 || len(lines) != 4 || !strings.HasSuffix(lines[1], ",Kiosk") || !strings.HasSuffix(lines[3], ",Kiosk") {
			t.Fatalf("Kiosk's export: %d\n%s", r.status, r.raw)
		}

		if r := c.do("POST", "/merchants/"+merchant+"/reserve_moves", map[string]any{"balance": "Kiosk"}); r.status != 201 {
			t.Fatalf("moving Kiosk's reserve: %d %s", r.status, r.raw)
		}
		kiosk := c.do("GET", "/merchants/"+merchant+"/reconciliation?balance=Kiosk", nil).first("reconciliations")
		if kiosk["reconciled"] != true || kiosk["balance"].(float64) != 1_800 {
			t.Fatalf("after the move: %v", kiosk)
		}
		// Moving one balance's reserve left the other's held: read through the
		// merchant balance API is covered elsewhere; here the ledger agrees.

		r = c.do("GET", "/merchants/"+merchant+"/adjustments.csv?balance=Kiosk", nil)
		lines = strings.Split(strings.TrimSpace(string(r.raw)), "\n")
		if r.status != 200 || len(lines) != 3 || !strings.HasSuffix(lines[0], ",3.00") {
			t.Fatalf("Kiosk's adjustments: %d\n%s", r.status, r.raw)
		}
		r = c.do("GET", "/merchants/"+merchant+"/adjustments.csv", nil)
		lines = strings.Split(strings.TrimSpace(string(r.raw)), "\n")
		if r.status != 200 || len(lines) != 4 || !strings.HasSuffix(lines[0], ",2.00") {
			t.Fatalf("all adjustments: %d\n%s", r.status, r.raw)
		}
	})
}

// An adjustments file's amounts are read in the currency of the balance
// each line reaches: three decimals for a KWD balance, none for JPY, two
// for USD; more than the currency has is a bad line.
func TestAdjustmentFilesInEveryCurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		cu := c.do("POST", "/customers", map[string]any{"name": "Shop"}).id("customers")
		merchant := c.do("POST", "/merchants", map[string]any{"login": "fx-file-" + kind, "control_key": "a control key 12345", "customer": cu, "external_merchant_id": "FX-1"}).id("merchants")
		for _, cur := range []string{"KWD", "JPY"} {
			c.do("POST", "/merchants/"+merchant+"/endpoints", map[string]any{"name": cur, "currency": cur})
		}
		r := c.upload(t, zipOf(t, map[string]string{"a.tsv": "1.2345\t\te0\tFX-1\tKWD\n10.5\t\te1\tFX-1\tJPY\n1.001\t\te2\tFX-1\t\n"}))
		if r.status != 400 || !strings.Contains(string(r.raw), `"line":1`) || !strings.Contains(string(r.raw), `"line":2`) || !strings.Contains(string(r.raw), `"line":3`) {
			t.Fatalf("amounts with more decimals than their currency: %d %s", r.status, r.raw)
		}
		r = c.upload(t, zipOf(t, map[string]string{"a.tsv": "1.234\t\te0\tFX-1\tKWD\n1050\t\te1\tFX-1\tJPY\n\t1.25\te2\tFX-1\t\n"}))
		if r.status != 201 {
			t.Fatalf("a file in three currencies: %d %s", r.status, r.raw)
		}
		want := map[string][2]any{"KWD": {1234.0, "KWD"}, "JPY": {1050.0, "JPY"}, "USD": {-125.0, "USD"}}
		list, _ := c.do("GET", "/merchants/"+merchant+"/adjustments", nil).body["adjustments"].([]any)
		if len(list) != 3 {
			t.Fatalf("%d adjustments", len(list))
		}
		for _, v := range list {
			adj := v.(map[string]any)
			w := want[adj["balance_name"].(string)]
			if adj["amount"] != w[0] || adj["currency"] != w[1] {
				t.Errorf("adjustment of %v: %v %v, want %v %v", adj["balance_name"], adj["amount"], adj["currency"], w[0], w[1])
			}
		}
		rec := c.do("GET", "/merchants/"+merchant+"/reconciliation", nil).first("reconciliations")
		if rec["reconciled"] != true {
			t.Fatalf("reconciliation: %v", rec)
		}
	})
}
