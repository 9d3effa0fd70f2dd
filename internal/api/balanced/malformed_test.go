package balanced_test

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/poise-payments/poise/internal/api/balanced"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// rowCounts counts the rows of every table of the store, found from its
// schema, so that a table added later is counted too. Commit markers are
// left out: every committed batch leaves one, whatever its operations did.
func rowCounts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Dialect() == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != "commit_markers" {
			tables = append(tables, name)
		}
	}
	rows.Close()
	if len(tables) < 5 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	counts := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// malformed is one bad request body and how it is sent.
type malformed struct {
	body string
	form bool
}

// genericMalformed is refused by every route that writes: bodies that are
// not one JSON object, text a database cannot store, forms that do not
// parse into names.
var genericMalformed = []malformed{
	{body: `"oops"`}, {body: `12`}, {body: `true`}, {body: `[1]`},
	{body: `{"a": 1}{"b": 2}`}, {body: `{"a": 1} trailing`},
	{body: `{"meta": {"k": "v\u0000"}, "description": "x"}`},
	{body: `{"name\u0000": "x"}`},
	{body: `na"me=1`, form: true}, {body: `name=%ff`, form: true}, {body: `name=a%00b`, form: true},
}

// Every route that writes, sent malformed variants of its body (wrong
// types, non-objects, trailing data, NULs, huge numbers, references of the
// wrong kind, inline instruments with a refused amount), answers 4xx and
// leaves every table of the store exactly as it was.
func TestMalformedWritesWriteNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(context.Background()) })
		v, _ := vault.New(make([]byte, vault.KeyLen))
		api := newAPI(l, db, v)
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		c := newMarketplace(t, srv.URL, 100_000)
		w := populate(t, c)
		ids := w.ids
		ids["marketplaces"] = c.do("GET", "/marketplaces", nil).id("marketplaces")
		m := c.do("POST", "/merchants", map[string]any{"login": "shop-" + kind, "control_key": "a control key 12345", "customer": ids["customers"], "external_merchant_id": "EXT-1"})
		ids["merchants"] = m.id("merchants")
		ids["managers"] = c.do("POST", "/managers", map[string]any{"login": "boss-" + kind, "control_key": "a control key 12345", "merchants": []any{ids["merchants"]}}).id("managers")
		ids["balances"] = c.do("GET", "/merchants/"+ids["merchants"]+"/balances", nil).id("balances")
		ids["scheduled_adjustments"] = c.do("POST", "/merchants/"+ids["merchants"]+"/scheduled_adjustments",
			map[string]any{"amount": 100, "period": "monthly", "external_source": "fee", "first_date": "2030-01-31", "risk_acknowledged": "true"}).id("scheduled_adjustments")
		if ids["balances"] == "" {
			ids["balances"] = c.do("POST", "/merchants/"+ids["merchants"]+"/balances", map[string]any{"name": "Second USD", "currency": "USD"}).id("balances")
		}
		c.do("POST", "/gates", map[string]any{"name": "acq-1", "processor": "acquirer-one"})
		ids["gate_groups"] = c.do("POST", "/gate_groups", map[string]any{"name": "europe", "gates": []any{"acq-1"}}).id("gate_groups")
		ids["balance_rules"] = c.do("POST", "/merchants/"+ids["merchants"]+"/balance_rules", map[string]any{"transaction_type": "fraud", "action": "rate_only", "fee_fixed": 5}).id("balance_rules")
		for _, need := range []string{"merchants", "managers", "balances", "marketplaces", "scheduled_adjustments", "gate_groups", "balance_rules"} {
			if ids[need] == "" {
				t.Fatalf("no %s to try", need)
			}
		}
		// Ids that name nothing still reach the handler (a 404 is a refusal too).
		for _, typ := range []string{"settlements"} {
			if ids[typ] == "" {
				ids[typ] = "XX0000000000000000000000"
			}
		}
		collection := map[string]string{"holds": "card_holds", "verifications": "bank_account_verifications"}
		card := `{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030, "name": "Pat"}`
		bank := `{"name": "Pat", "account_number": "9900000002", "routing_number": "021000021"}`
		money := []string{
			`{"amount": "ten"}`, `{"amount": {}}`, `{"amount": [100]}`, `{"amount": true}`, `{"amount": 1.5}`,
			`{"amount": 1e999}`, `{"amount": 99999999999999999999999}`, `{"amount": 0}`, `{"amount": -1}`,
			`{"amount": 100, "order": 12345}`, `{"amount": 100, "order": []}`, `{"amount": 100, "order": true}`, `{"amount": 100, "order": ""}`,
			`{"amount": 100, "order": "` + ids["customers"] + `"}`, `{"amount": 100, "order": "/cards/` + ids["orders"] + `"}`,
			`{"amount": 100, "links": {"order": 7}}`, `{"amount": 100, "links": "x"}`,
			`{"amount": 100, "currency": "EUR"}`, `{"amount": 100, "currency": "BTC"}`, `{"amount": 100, "currency": ""}`,
			`{"amount": 100, "description": {}}`, `{"amount": 100, "meta": "x"}`, `{"amount": 100, "appears_on_statement_as": []}`,
		}
		// What each route reads, sent wrong. Every route that writes must be
		// listed: a new one fails here until it is.
		fieldVariants := map[string][]string{
			"POST /api_keys":                            {`{"meta": "x"}`, `{"meta": []}`},
			"POST /marketplaces":                        {`{"name": {}}`, `{"meta": 5}`, `{"production": "maybe"}`},
			"PUT /marketplaces/:id":                     {`{"name": []}`, `{"domain_url": {}}`, `{"meta": "x"}`},
			"POST /ach_returns":                         {`not a nacha file`, `{"file": "x"}`},
			"PUT /marketplaces/:id/ach_settings":        {`{"odfi_routing_number": []}`, `{"company_id": {}}`, `{"odfi_routing_number": "121042883"}`, `{}`},
			"PUT /disputes/:id":                         {`{}`, `{"status": "maybe", "evidence": "x"}`, `{"status": "won"}`, `{"status": [], "evidence": "x"}`, `{"status": "won", "evidence": {}}`},
			"PUT /marketplaces/:id/escrow_policy":       {`{}`, `{"refuse_stale_order_debits": "maybe"}`, `{"refuse_stale_order_debits": []}`, `{"refuse_stale_order_debits": {}}`},
			"POST /marketplaces/:id/test_clock":         {`{}`, `{"advance": 5}`, `{"advance": []}`, `{"advance_seconds": "x"}`, `{"advance_seconds": 1e999}`, `{"advance_seconds": -5}`},
			"POST /customers":                           {`{"name": []}`, `{"dob_month": {}}`, `{"dob_month": 13}`, `{"dob_year": 1e999}`, `{"source": 12345}`, `{"source": "/orders/` + ids["orders"] + `"}`, `{"destination": ""}`, `{"links": {"destination": true}}`, `{"address": "x"}`, `{"address": {"line1": {}}}`, `{"meta": []}`},
			"PUT /customers/:id":                        {`{"email": {}}`, `{"source": 5}`, `{"destination": "/debits/` + ids["debits"] + `"}`, `{"meta": 1}`},
			"PATCH /customers/:id":                      {`[{"op": "replace", "path": "/customers/0/links/source", "value": 12345}]`, `[{"op": "nope"}]`, `[{"op": "test", "path": "/customers/0/name", "value": "not the name"}, {"op": "replace", "path": "/customers/0/name", "value": "x"}]`},
			"POST /customers/:id/orders":                {`{"description": {}}`, `{"currency": "EUR"}`, `{"delivery_address": "x"}`, `{"meta": 1}`},
			"POST /customers/:id/debits":                append(slices.Clone(money), `{"amount": 100, "source": true}`, `{"amount": 100, "source": "nope"}`, `{"amount": 100, "source": "/orders/`+ids["orders"]+`"}`, `{"amount": -1, "source": `+card+`}`, `{"amount": null, "source": `+card+`}`, `{"amount": 0, "source": `+card+`}`),
			"POST /customers/:id/credits":               append(slices.Clone(money), `{"amount": 100, "destination": []}`, `{"amount": 100, "destination": "/cards/`+ids["bank_accounts"]+`"}`, `{"amount": -1, "destination": `+bank+`}`, `{"amount": 100, "order": "`+ids["orders"]+`", "destination": `+bank+`}`),
			"POST /customers/:id/cards":                 {`{"number": []}`, `{"number": "4111111111111111", "expiration_month": {}, "expiration_year": 2030}`, `{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030, "customer": 5}`, `{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030, "address": 7}`},
			"POST /customers/:id/bank_accounts":         {`{"name": "x", "account_number": {}, "routing_number": "021000021"}`, `{"name": "x", "account_number": "1", "routing_number": []}`},
			"POST /cards":                               {`{"number": {}}`, `{"number": "4111111111111111", "expiration_month": "x", "expiration_year": 2030}`, `{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 1e999}`, `{"number": "4111111111111111", "expiration_month": 1, "expiration_year": 2030, "customer": "/orders/` + ids["orders"] + `"}`},
			"PUT /cards/:id":                            {`{"meta": "x"}`, `{"links": {"customer": 12345}}`, `{"customer": "/orders/` + ids["orders"] + `"}`},
			"PATCH /cards/:id":                          {`[{"op": "replace", "path": "/cards/0/links/customer", "value": true}]`},
			"POST /cards/:id/debits":                    money,
			"POST /cards/:id/credits":                   money,
			"POST /cards/:id/card_holds":                money,
			"POST /bank_accounts":                       {`{"name": {}, "account_number": "1", "routing_number": "021000021"}`, `{"name": "x", "account_number": "1", "routing_number": "021000021", "account_type": []}`},
			"PUT /bank_accounts/:id":                    {`{"meta": []}`, `{"links": {"customer": "CC1"}}`},
			"PATCH /bank_accounts/:id":                  {`[{"op": "replace", "path": "/bank_accounts/0/links/customer", "value": 7}]`},
			"POST /bank_accounts/:id/debits":            money,
			"POST /bank_accounts/:id/credits":           money,
			"POST /bank_accounts/:id/verifications":     nil,
			"PUT /verifications/:id":                    {`{"amount_1": "x", "amount_2": 1}`, `{"amount_1": 1, "amount_2": {}}`, `{"amount_1": 1e999, "amount_2": 1}`},
			"POST /external_accounts":                   {`{"provider": {}, "token": "t"}`, `{"provider": "test", "token": []}`, `{"provider": "test", "token": "t", "meta": 1}`},
			"PUT /external_accounts/:id":                {`{"meta": "x"}`, `{"customer": 5}`},
			"PATCH /external_accounts/:id":              {`[{"op": "remove", "path": "/external_accounts/0/nothing"}]`},
			"POST /external_accounts/:id/debits":        money,
			"PUT /card_holds/:id":                       {`{"description": {}}`, `{"meta": "x"}`, `{"is_void": []}`},
			"POST /card_holds/:id/debits":               money,
			"PUT /holds/:id":                            {`{"description": []}`, `{"meta": 7}`},
			"POST /holds/:id/debits":                    money,
			"POST /debits":                              append(slices.Clone(money), `{"amount": 100, "source": 12345}`, `{"amount": 100, "source": ""}`, `{"amount": 100, "source": "/orders/`+ids["orders"]+`"}`, `{"amount": 100, "source": {"id": 7}}`, `{"amount": -1, "source": `+card+`}`, `{"amount": 0, "source": `+card+`}`, `{"amount": null, "source": `+card+`}`, `{"amount": 100, "order": "/orders/OR0000000000000000000000", "source": `+card+`}`, `{"amount": 100, "currency": "EUR", "source": `+card+`}`),
			"POST /credits":                             append(slices.Clone(money), `{"amount": 100, "destination": 5}`, `{"amount": 100, "destination": "/customers/`+ids["customers"]+`"}`, `{"amount": -1, "destination": `+bank+`}`, `{"amount": 100, "destination": `+strings.Replace(card, `, "name": "Pat"`, "", 1)+`}`, `{"amount": 100, "order": "`+ids["orders"]+`", "destination": `+bank+`}`),
			"PUT /debits/:id":                           {`{"description": {}}`, `{"meta": "x"}`},
			"PUT /credits/:id":                          {`{"description": []}`, `{"meta": 1}`},
			"PUT /refunds/:id":                          {`{"description": {}}`},
			"PUT /reversals/:id":                        {`{"meta": []}`},
			"PUT /settlements/:id":                      {`{"description": {}}`},
			"POST /debits/:id/refunds":                  {`{"amount": "x"}`, `{"amount": {}}`, `{"amount": 1e999}`, `{"amount": -1}`, `{"amount": 100, "currency": "EUR"}`, `{"amount": 100, "description": []}`},
			"POST /credits/:id/reversals":               {`{"amount": "x"}`, `{"amount": []}`, `{"amount": 99999999999999999999}`, `{"amount": 0}`, `{"amount": 10, "currency": "BTC"}`, `{"amount": 10, "meta": "x"}`},
			"PUT /orders/:id":                           {`{"description": {}}`, `{"delivery_address": 5}`, `{"meta": "x"}`},
			"POST /accounts/:id/credits":                money,
			"POST /accounts/:id/settlements":            {`{"funding_instrument": 12345}`, `{"funding_instrument": ""}`, `{"funding_instrument": "/cards/` + ids["cards"] + `"}`, `{"funding_instrument": "` + ids["bank_accounts"] + `", "currency": "EUR"}`},
			"POST /merchants":                           {`{"login": {}, "control_key": "a control key 12345"}`, `{"login": "x-` + kind + `", "control_key": "a control key 12345", "customer": 5}`, `{"login": "y-` + kind + `", "control_key": "a control key 12345", "customer": "/cards/` + ids["cards"] + `"}`},
			"POST /managers":                            {`{"login": "z-` + kind + `", "control_key": "a control key 12345", "merchants": "x"}`, `{"login": "z-` + kind + `", "control_key": "a control key 12345", "merchants": [5]}`, `{"login": "z-` + kind + `", "control_key": "a control key 12345", "merchants": ["` + ids["customers"] + `"]}`},
			"POST /merchants/:id/adjustments":           {`{"amount": "x", "external_source": "s"}`, `{"credit_amount": {}, "external_source": "s"}`, `{"amount": 100, "external_source": []}`, `{"amount": 1e999, "external_source": "s"}`},
			"PUT /merchants/:id":                        {`{"enabled": []}`, `{"external_merchant_id": {}}`, `{"meta": "x"}`},
			"POST /merchants/:id/balance_rules":         {`{"transaction_type": {}}`, `{"transaction_type": "sale", "action": "add", "fee_rate": "x"}`, `{"transaction_type": "sale", "action": "add", "endpoint": 5}`, `{"transaction_type": "sale", "action": "add", "fee_fixed": []}`},
			"POST /merchants/:id/reserve_moves":         nil,
			"POST /merchants/:id/endpoints":             {`{"name": {}}`, `{"name": "e", "currency": []}`},
			"POST /merchants/:id/balances":              {`{"name": "b", "endpoints": "x"}`, `{"name": "b", "endpoints": [5]}`, `{"name": "b", "endpoints": ["` + ids["customers"] + `"]}`, `{"name": {}}`},
			"PUT /balances/:id":                         {`{"created_date": {}}`, `{"created_date": "yesterday"}`},
			"PUT /managers/:id":                         {`{"default_balance": {}}`},
			"POST /managers/:id/balances":               {`{"name": "b", "endpoints": [true]}`},
			"POST /managers/:id/balance_rules":          {`{"transaction_type": []}`},
			"POST /merchants/:id/scheduled_adjustments": {`{"amount": "x", "period": "monthly"}`, `{"amount": 100, "period": {}}`, `{"amount": 100, "period": "monthly", "first_date": 5}`},
			"PUT /scheduled_adjustments/:id":            {`{"amount": "x"}`, `{"status": "maybe"}`, `{"amount": 5, "status": "maybe"}`, `{"last_date": []}`},
			"POST /adjustments/uploads":                 {"not an archive", "PK\x03\x04broken"},
			"POST /operator_transactions": {`{"external_id": "e", "type": "sale", "amount": "x", "currency": "USD", "merchant": "` + ids["merchants"] + `", "gate": "card", "occurred_at": "2026-01-01T00:00:00Z"}`,
				`{"operator_transactions": [{"external_id": "e", "type": "sale", "amount": 1, "currency": "USD", "merchant": "` + ids["merchants"] + `", "gate": "card", "occurred_at": "2026-01-01T00:00:00Z"}, 5]}`,
				`{"external_id": "e", "type": "sale", "amount": 1, "currency": "USD", "merchant": "` + ids["merchants"] + `", "gate": "card", "occurred_at": "2999-01-01T00:00:00Z"}`,
				`{"external_id": "e", "type": "sale", "amount": 1, "currency": "JPY", "merchant": "` + ids["merchants"] + `", "gate": "card", "occurred_at": "2026-01-01T00:00:00Z"}`,
				`{"operator_transactions": []}`, `{"operator_transactions": "x"}`},
			"POST /operator_transactions/imports": {"not an archive", "PK\x03\x04broken"},
			"POST /gates":                         {`{"name": "card", "processor": "p"}`, `{"name": "acq-1", "processor": "p"}`, `{"name": "a b", "processor": "p"}`, `{"name": "g"}`, `{"name": [], "processor": "p"}`},
			"POST /gate_groups":                   {`{"name": "g", "gates": ["nope"]}`, `{"name": "g", "gates": []}`, `{"name": "europe", "gates": ["card"]}`, `{"name": "g", "gates": "card"}`},
			"PUT /balance_rules/:id":              {`{"effective_until": "yesterday"}`, `{"effective_until": "2000-01-01"}`, `{"effective_until": []}`, `{}`},
			"PUT /gate_groups/:id":                {`{"gates": ["nope"]}`, `{"gates": []}`, `{"gates": [1]}`},
			"POST /callbacks":                     {`{"url": {}}`, `{"url": "http://127.0.0.1:1/h", "method": []}`, `{"url": "http://127.0.0.1:1/h2", "revision": 5}`},
		}
		routes := balanced.WriteRoutes(api)
		for _, route := range routes {
			if _, ok := fieldVariants[route]; !ok {
				t.Errorf("route %s has no malformed variants listed", route)
			}
		}
		for _, route := range slices.Sorted(maps.Keys(fieldVariants)) {
			if !slices.Contains(routes, route) {
				t.Errorf("variants listed for %s, which is no route", route)
			}
		}
		checked := 0
		for _, route := range routes {
			method, pattern, _ := strings.Cut(route, " ")
			path := pattern
			if strings.Contains(pattern, ":id") {
				top := strings.Split(pattern, "/")[1]
				if alias, ok := collection[top]; ok {
					top = alias
				}
				id := ids[top]
				if id == "" {
					t.Fatalf("no %s for %s", top, route)
				}
				path = strings.Replace(pattern, ":id", id, 1)
			}
			variants := slices.Clone(genericMalformed)
			for _, body := range fieldVariants[route] {
				variants = append(variants, malformed{body: body})
			}
			before := rowCounts(t, db)
			for _, m := range variants {
				ct := "application/json"
				if m.form {
					ct = "application/x-www-form-urlencoded"
				}
				r := c.do(method, path, m.body, "Content-Type", ct)
				if r.status < 400 || r.status >= 500 {
					t.Errorf("%s %s %s: %d %s", method, path, m.body, r.status, r.raw)
				}
				checked++
			}
			if after := rowCounts(t, db); !maps.Equal(before, after) {
				t.Errorf("%s: refusals wrote rows: %s", route, diffCounts(before, after))
			}
		}
		if checked < 500 {
			t.Fatalf("only %d malformed requests were sent", checked)
		}
	})
}

func diffCounts(before, after map[string]int64) string {
	var out []string
	for _, table := range slices.Sorted(maps.Keys(after)) {
		if before[table] != after[table] {
			out = append(out, fmt.Sprintf("%s %d→%d", table, before[table], after[table]))
		}
	}
	return strings.Join(out, ", ")
}

// A transaction that is refused leaves no instrument behind: not the card
// given inline, not the claim of a card tokenized without a key, not under
// concurrent retries of one Idempotency-Key.
func TestRefusedTransactionsLeaveNoInstrument(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(context.Background()) })
		v, _ := vault.New(make([]byte, vault.KeyLen))
		srv := httptest.NewServer(newAPI(l, db, v))
		t.Cleanup(srv.Close)
		c := newMarketplace(t, srv.URL, 0)
		cards := func() float64 { return c.do("GET", "/cards", nil).body["meta"].(map[string]any)["total"].(float64) }
		inline := map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030}
		start := cards()

		// Concurrent retries of one keyed inline debit: one card, one debit.
		var wg sync.WaitGroup
		replies := make([]reply, 8)
		for i := range replies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replies[i] = c.do("POST", "/debits", map[string]any{"amount": 500, "source": inline}, "Idempotency-Key", "once")
			}()
		}
		wg.Wait()
		for _, r := range replies {
			if r.status != 201 || r.id("debits") != replies[0].id("debits") {
				t.Fatalf("keyed retry: %d %s", r.status, r.raw)
			}
		}
		if got := cards(); got != start+1 {
			t.Fatalf("%v cards after one keyed inline debit retried 8 times", got-start)
		}
		// Refused keyed inline debits, retried: no card at all.
		for i := 0; i < 4; i++ {
			for _, amount := range []any{-1, 0, nil} {
				key := fmt.Sprintf("refused-%v", amount)
				if r := c.do("POST", "/debits", map[string]any{"amount": amount, "source": inline}, "Idempotency-Key", key); r.status != 400 {
					t.Fatalf("amount %v: %d %s", amount, r.status, r.raw)
				}
			}
		}
		if got := cards(); got != start+1 {
			t.Fatalf("refused inline debits stored %v cards", got-start-1)
		}

		// Instruments tokenized without a key are claimed only by what
		// succeeds.
		anon := &client{t: t, base: srv.URL}
		card := anon.do("POST", "/cards", inline).id("cards")
		bank := anon.do("POST", "/bank_accounts", map[string]any{"name": "x", "account_number": "9900000002", "routing_number": "021000021"}).id("bank_accounts")
		cu := c.do("POST", "/customers", map[string]any{"name": "x"}).id("customers")
		acct := c.do("GET", "/customers/"+cu+"/accounts", nil).id("accounts")
		other := c.do("POST", "/customers", map[string]any{"name": "y"}).id("customers")
		if card == "" || bank == "" || acct == "" || other == "" {
			t.Fatal("setup failed")
		}
		before := rowCounts(t, db)
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
		}{
			{"POST", "/cards/" + card + "/debits", map[string]any{"amount": 0}, 400},
			{"POST", "/cards/" + card + "/card_holds", map[string]any{"amount": -5}, 400},
			{"POST", "/cards/" + card + "/credits", map[string]any{"amount": 100}, 400},
			{"POST", "/bank_accounts/" + bank + "/credits", map[string]any{"amount": 100, "order": "OR0000000000000000000000"}, 404},
			{"PUT", "/bank_accounts/" + bank, map[string]any{"links": map[string]any{"customer": "CU0000000000000000000000"}}, 404},
			{"POST", "/accounts/" + acct + "/settlements", map[string]any{"funding_instrument": "/bank_accounts/" + bank}, 409},
			{"POST", "/debits", map[string]any{"amount": 100, "source": card, "order": "OR0000000000000000000000"}, 404},
			{"POST", "/customers", map[string]any{"source": card, "destination": "BA0000000000000000000000"}, 404},
			{"PUT", "/customers/CU0000000000000000000000", map[string]any{"source": card}, 404},
		} {
			if r := c.do(tc.method, tc.path, tc.body); r.status != tc.status {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.raw, tc.status)
			}
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Errorf("refusals claimed or stored something: %s", diffCounts(before, after))
		}
	})
}
