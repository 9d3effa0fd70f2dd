package paynet_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// The seed's balance-rules table, as its text writes it.
var seedRules = map[string]string{
	"sale": "Add", "capture": "Add", "dispute": "Add", "chargeback_reversal": "Add", "arbitration": "Add", "payout_cancel": "Add",
	"chargeback": "Deduct", "prearbitration": "Deduct", "reversal": "Deduct", "payout": "Deduct", "transfer (deposit2card)": "Deduct",
	"preauth": "Rate only", "cancel": "Rate only", "fraud": "Rate only", "retrieval": "Rate only", "pan_eligibility": "Rate only",
	"create_card_mapping": "Rate only", "update_card_mapping": "Rate only", "inquire_card_mapping": "Rate only",
	"delete_card_mapping": "Rate only", "mfo_scoring": "Rate only", "account_verification": "Rate only", "void": "Rate only",
}

// Every one of the 23 types, sent to the transactions API over HTTP, is
// read back through get-balance on exactly the balances that select it:
// the account balance of its endpoint, the processor balance of its
// gate's processor, the card-mapping balance when it names a mapping;
// added amounts keep a 10% reserve, deducted ones take theirs at release,
// rate-only ones move nothing.
func TestEveryTypeThroughHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newStack(t, kind)
		call := mustCall(t, base)
		id := idOf
		secret := openMarketplace(call)
		cu := id(call(secret, "POST", "/customers", map[string]any{"name": "Op"}), "customers")
		login := "types-" + kind
		merchant := id(call(secret, "POST", "/merchants", map[string]any{"login": login, "control_key": "types control key 1", "customer": cu}), "merchants")
		call(secret, "POST", "/gates", map[string]any{"name": "acq1-visa", "processor": "acq1"})
		call(secret, "POST", "/gates", map[string]any{"name": "acq2-mc", "processor": "acq2"})
		for _, b := range []map[string]any{{"name": "Main"}, {"name": "Acq1", "kind": "processor", "processors": []any{"acq1"}},
			{"name": "Mapped", "kind": "card_mapping"}} {
			call(secret, "POST", "/merchants/"+merchant+"/balances", b)
		}
		for typ, action := range seedRules {
			if action != "Rate only" {
				call(secret, "POST", "/merchants/"+merchant+"/balance_rules", map[string]any{"transaction_type": strings.Fields(typ)[0],
					"action": strings.ToLower(action), "reserve_rate": "10", "reserve_period_days": 30, "date_bump": "ASAP_plus_RR", "effective_from": "2026-01-01"})
			}
		}
		type bal struct{ current, rr int64 }
		model := map[string]*bal{"Main": {}, "Acq1": {}, "Mapped": {}}
		at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		var list []any
		n := 0
		for typ, action := range seedRules {
			for _, c := range []struct {
				gate, mapping string
				amount        int64
			}{{"acq1-visa", "", 1_000}, {"acq2-mc", "cm-9", 2_000}} {
				if strings.HasSuffix(typ, "card_mapping") && c.mapping == "" {
					continue
				}
				n++
				list = append(list, map[string]any{"external_id": fmt.Sprintf("h%d", n), "type": typ, "amount": c.amount, "currency": "USD",
					"merchant": merchant, "gate": c.gate, "card_mapping": c.mapping, "occurred_at": at})
				selected := []string{"Main"}
				if c.gate == "acq1-visa" {
					selected = append(selected, "Acq1")
				}
				if c.mapping != "" {
					selected = append(selected, "Mapped")
				}
				for _, name := range selected {
					switch action {
					case "Add":
						model[name].current += c.amount
						model[name].rr += c.amount / 10
					case "Deduct":
						model[name].current -= c.amount
						model[name].rr -= c.amount / 10
					}
				}
			}
		}
		if r := call(secret, "POST", "/operator_transactions", map[string]any{"operator_transactions": list}); len(r["operator_transactions"].([]any)) != n {
			t.Fatalf("recorded %v", r)
		}
		_, _, raw := signedPost(t, base, login, "types control key 1", paynet.Prefix+"merchant/"+login, nil, "application/json")
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		var rows []map[string]any
		if err := dec.Decode(&rows); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if len(rows) != 3 {
			t.Fatalf("balances: %s", raw)
		}
		cents := func(v any) int64 {
			t.Helper()
			s := string(v.(json.Number))
			whole, frac, _ := strings.Cut(s, ".")
			var w, f int64
			fmt.Sscan(whole, &w)
			fmt.Sscan((frac + "00")[:2], &f)
			if strings.HasPrefix(s, "-") {
				return w*100 - f
			}
			return w*100 + f
		}
		for _, row := range rows {
			want := model[row["name"].(string)]
			if cur, rr, live := cents(row["amount"]), cents(row["total-rolling-reserve-amount"]), cents(row["online-balance-live-amount"]); cur != want.current || rr != want.rr || live != want.current-want.rr {
				t.Errorf("%s: current %d rr %d live %d; the model says %d %d %d", row["name"], cur, rr, live, want.current, want.rr, want.current-want.rr)
			}
		}
	})
}
