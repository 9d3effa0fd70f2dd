package balanced_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// listed is one resource of a list as the API shows it.
type listed map[string]any

func (r listed) str(k string) string { s, _ := r[k].(string); return s }
func (r listed) num(k string) int64  { f, _ := r[k].(float64); return int64(f) }
func (r listed) meta(k string) (string, bool) {
	m, _ := r["meta"].(map[string]any)
	s, ok := m[k].(string)
	return s, ok
}
func (r listed) created(t *testing.T) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, r.str("created_at"))
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// walk follows a list's next hrefs from path, returning every resource and
// the total each page reported.
func walk(t *testing.T, c *client, plural, path string) ([]listed, float64) {
	t.Helper()
	var out []listed
	var total float64 = -1
	for next := path; next != ""; {
		r := c.do("GET", next, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", next, r.status, r.raw)
		}
		meta := r.body["meta"].(map[string]any)
		if total >= 0 && meta["total"] != total {
			t.Fatalf("GET %s: total changed from %v to %v while paging", next, total, meta["total"])
		}
		total = meta["total"].(float64)
		for _, x := range r.body[plural].([]any) {
			out = append(out, listed(x.(map[string]any)))
		}
		next, _ = meta["next"].(string)
		if len(out) > 1000 {
			t.Fatalf("GET %s: paging does not end", path)
		}
	}
	return out, total
}

// plus2 is when r was created, written in a zone two hours east of UTC.
func plus2(t *testing.T, r listed) string {
	return r.created(t).In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
}

func ids(rs []listed) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.str("id")
	}
	return out
}

// Balanced's list filters and sort, through HTTP on both stores, against
// a model computed in Go from the unfiltered list: the filtered lists hold
// exactly the matching resources in the asked order, their totals count
// them, and next hrefs keep the filters while paging.
func TestListFiltersThroughHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		other := newMarketplace(t, base, 0)
		card := func(c *client, number string) string {
			r := c.do("POST", "/cards", map[string]any{"number": number, "expiration_month": 12, "expiration_year": 2030})
			if r.status != 201 {
				t.Fatalf("card: %d %s", r.status, r.raw)
			}
			return r.id("cards")
		}
		good, declined := card(c, "4111111111111111"), card(c, "4444444444444448")
		cu := c.do("POST", "/customers", map[string]any{"email": "buyer@example.com"}).id("customers")
		c.do("PUT", "/cards/"+good, map[string]any{"links": map[string]any{"customer": cu}})
		tags := []string{"1", "2", "1", "first debit", "", "Tag", "1"}
		for i, amount := range []int64{50, 100, 150, 100, 5000, 250, 100, 75, 300} {
			body := map[string]any{"amount": amount, "description": fmt.Sprintf("order %d of spring", i)}
			if i < len(tags) {
				meta := map[string]any{"tag": tags[i]}
				if i == 3 {
					meta["testing"] = "first debit"
				}
				body["meta"] = meta
			}
			src := good
			if i == 4 || i == 7 {
				src = declined
			}
			r := c.do("POST", "/cards/"+src+"/debits", body)
			if r.status != 201 && r.status != 402 {
				t.Fatalf("debit %d: %d %s", i, r.status, r.raw)
			}
		}
		// Another marketplace's debits match the same filters and must not
		// show.
		theirs := card(other, "4111111111111111")
		other.do("POST", "/cards/"+theirs+"/debits", map[string]any{"amount": 100, "meta": map[string]any{"tag": "1"}})

		all, total := walk(t, c, "debits", "/debits?limit=100")
		if len(all) != 9 || total != 9 {
			t.Fatalf("%d debits listed, total %v; want 9", len(all), total)
		}
		statuses := map[string]int{}
		for _, d := range all {
			statuses[d.str("status")]++
		}
		if statuses["failed"] != 2 || statuses["succeeded"] != 7 {
			t.Fatalf("statuses %v; the test needs failed and succeeded debits", statuses)
		}
		byTime := slices.Clone(all)
		slices.SortStableFunc(byTime, func(a, b listed) int { return a.created(t).Compare(b.created(t)) })
		third := byTime[2].str("created_at")
		sixth := byTime[5].str("created_at")

		newestFirst := func(rs []listed) []listed {
			out := slices.Clone(rs)
			slices.SortStableFunc(out, func(a, b listed) int { return b.created(t).Compare(a.created(t)) })
			return out
		}
		where := func(keep func(listed) bool) []listed {
			var out []listed
			for _, d := range newestFirst(all) {
				if keep(d) {
					out = append(out, d)
				}
			}
			return out
		}
		q := url.QueryEscape
		cases := []struct {
			query string
			want  []listed
		}{
			{"meta.tag=1", where(func(d listed) bool { v, _ := d.meta("tag"); return v == "1" })},
			{"meta.testing=first%20debit", where(func(d listed) bool { v, _ := d.meta("testing"); return v == "first debit" })},
			{"meta.tag=", where(func(d listed) bool { v, ok := d.meta("tag"); return ok && v == "" })},
			{"meta.tag[in]=2,Tag", where(func(d listed) bool { v, _ := d.meta("tag"); return v == "2" || v == "Tag" })},
			{"meta.tag[startswith]=first", where(func(d listed) bool { v, _ := d.meta("tag"); return strings.HasPrefix(v, "first") })},
			{"meta.tag[!=]=1", where(func(d listed) bool { v, ok := d.meta("tag"); return ok && v != "1" })},
			{"amount[>]=100", where(func(d listed) bool { return d.num("amount") > 100 })},
			{"amount[>=]=100&amount[<]=300", where(func(d listed) bool { return d.num("amount") >= 100 && d.num("amount") < 300 })},
			// As a client library sends it: the brackets and operator encoded.
			{"amount%5B%3E%3D%5D=150", where(func(d listed) bool { return d.num("amount") >= 150 })},
			{"amount=100", where(func(d listed) bool { return d.num("amount") == 100 })},
			{"amount[!in]=100,50", where(func(d listed) bool { return d.num("amount") != 100 && d.num("amount") != 50 })},
			{"status=failed", where(func(d listed) bool { return d.str("status") == "failed" })},
			{"status[in]=pending,succeeded", where(func(d listed) bool { return d.str("status") != "failed" })},
			{"description[contains]=" + q("3 of"), where(func(d listed) bool { return strings.Contains(d.str("description"), "3 of") })},
			{"description[endswith]=spring&amount[<=]=100", where(func(d listed) bool { return d.num("amount") <= 100 })},
			{"transaction_number[startswith]=W", where(func(d listed) bool { return strings.HasPrefix(d.str("transaction_number"), "W") })},
			{"created_at[>]=" + q(third), where(func(d listed) bool { return d.str("created_at") > third })},
			{"created_at[>=]=" + q(third) + "&created_at[<]=" + q(sixth), where(func(d listed) bool {
				return d.str("created_at") >= third && d.str("created_at") < sixth
			})},
			{"created_at[>]=2026-11-01T00:00:00Z", where(func(d listed) bool { return d.created(t).After(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) })},
			{"created_at[<]=2000-01-01", nil},
			// The same instants written with an offset, escaped or typed as is
			// (its + arrives as a space).
			{"created_at[>]=" + q(plus2(t, byTime[2])), where(func(d listed) bool { return d.str("created_at") > third })},
			{"created_at[>=]=" + plus2(t, byTime[2]) + "&created_at[<]=" + plus2(t, byTime[5]), where(func(d listed) bool {
				return d.str("created_at") >= third && d.str("created_at") < sixth
			})},
			{"sort=created_at,desc", newestFirst(all)},
			{"sort=created_at,asc", byTime},
			{"sort=created_at", byTime},
		}
		// Sorted by amount: ascending, then newest first among equals.
		byAmount := newestFirst(all)
		slices.SortStableFunc(byAmount, func(a, b listed) int { return int(a.num("amount") - b.num("amount")) })
		cases = append(cases, struct {
			query string
			want  []listed
		}{"sort=amount,asc&status=succeeded", func() []listed {
			var out []listed
			for _, d := range byAmount {
				if d.str("status") == "succeeded" {
					out = append(out, d)
				}
			}
			return out
		}()})
		// Sorted by meta.tag descending, debits without one last.
		byTag := newestFirst(all)
		slices.SortStableFunc(byTag, func(a, b listed) int {
			va, oka := a.meta("tag")
			vb, okb := b.meta("tag")
			switch {
			case oka != okb && oka:
				return -1
			case oka != okb:
				return 1
			}
			return strings.Compare(vb, va)
		})
		cases = append(cases, struct {
			query string
			want  []listed
		}{"sort=meta.tag,desc", byTag})

		for _, tc := range cases {
			for _, limit := range []int{2, 100} {
				path := fmt.Sprintf("/debits?%s&limit=%d&offset=0", tc.query, limit)
				got, total := walk(t, c, "debits", path)
				if !slices.Equal(ids(got), ids(tc.want)) || int(total) != len(tc.want) {
					t.Errorf("GET %s:\n got %d %v\nwant %d %v", path, int(total), ids(got), len(tc.want), ids(tc.want))
				}
			}
		}

		// The paging hrefs carry the filters and the sort.
		r := c.do("GET", "/debits?meta.tag=1&sort=created_at,asc&limit=1&offset=1", nil)
		meta := r.body["meta"].(map[string]any)
		for _, k := range []string{"href", "first", "last", "next", "previous"} {
			h, _ := meta[k].(string)
			u, err := url.Parse(h)
			if err != nil || u.Path != "/debits" || u.Query().Get("meta.tag") != "1" || u.Query().Get("sort") != "created_at,asc" || u.Query().Get("limit") != "1" {
				t.Errorf("meta.%s = %q: the filters are lost", k, h)
			}
		}
		if meta["total"] != float64(3) {
			t.Errorf("meta.total = %v, want 3", meta["total"])
		}

		// Filters apply to sub-collections too, scoped to their parent.
		subs, subTotal := walk(t, c, "debits", "/customers/"+cu+"/debits?amount[<=]=100&sort=amount,desc")
		want := where(func(d listed) bool { return d.num("amount") <= 100 && d.str("status") == "succeeded" })
		slices.SortStableFunc(want, func(a, b listed) int { return int(b.num("amount") - a.num("amount")) })
		if !slices.Equal(ids(subs), ids(want)) || int(subTotal) != len(want) {
			t.Errorf("customer's debits: got %v, want %v", ids(subs), ids(want))
		}
		cus, _ := walk(t, c, "customers", "/customers?email[endswith]=example.com")
		if !slices.Equal(ids(cus), []string{cu}) {
			t.Errorf("customers by email: %v, want [%s]", ids(cus), cu)
		}
		cards, _ := walk(t, c, "cards", "/cards?can_debit=true&sort=created_at,asc")
		if !slices.Equal(ids(cards), []string{good, declined}) {
			t.Errorf("cards: %v, want [%s %s]", ids(cards), good, declined)
		}
		evs, evTotal := walk(t, c, "events", "/events?type=debit.created&occurred_at[>]=2000-01-01T00:00:00Z")
		for _, e := range evs {
			if e.str("type") != "debit.created" {
				t.Errorf("event of type %s listed", e.str("type"))
			}
		}
		if int(evTotal) != len(evs) || len(evs) == 0 {
			t.Errorf("%d debit.created events, total %v", len(evs), evTotal)
		}
		if mps, _ := walk(t, c, "marketplaces", "/marketplaces?name[startswith]=Nope"); len(mps) != 0 {
			t.Errorf("marketplaces filtered by a name none has: %v", ids(mps))
		}
		if mps, _ := walk(t, c, "marketplaces", "/marketplaces?name[startswith]=Test"); len(mps) != 1 {
			t.Errorf("the marketplace by its name: %v", ids(mps))
		}
	})
}

// Filters a collection does not know, operators a field does not take and
// values of the wrong kind are refused with a 400 that names the
// parameter, in Balanced's error format; never silently ignored.
func TestListFilterRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 1_000)
		long := strings.Repeat("x", 2000)
		many := strings.TrimSuffix(strings.Repeat("1,", 101), ",")
		cases := []struct{ path, names string }{
			{"/debits?foo=1", "foo"},
			{"/debits?amount[~]=1", "amount[~]"},
			{"/debits?amount[like]=1", "amount[like]"},
			{"/debits?amount[=]=1", "amount[=]"},
			{"/debits?amount[>]=ten", "amount[>]"},
			{"/debits?amount[>]=", "amount[>]"},
			{"/debits?amount[>]=1.5", "amount[>]"},
			{"/debits?amount[in]=1,,2", "amount[in]"},
			{"/debits?amount[in]=" + many, "amount[in]"},
			{"/debits?status[<]=failed", "status[<]"},
			{"/debits?amount[contains]=1", "amount[contains]"},
			{"/debits?created_at[>]=yesterday", "created_at[>]"},
			{"/debits?created_at[startswith]=2026", "created_at[startswith]"},
			{"/debits?sort=nope,asc", "sort"},
			{"/debits?sort=amount,sideways", "sort"},
			{"/debits?sort=amount&sort=status&sort=meta.a&sort=created_at&sort=updated_at", "sort"},
			{"/debits?meta.=1", "meta."},
			{"/debits?meta.a%22b=1", "meta.a\"b"},
			{"/debits?meta.tag=" + long, "meta.tag"},
			{"/debits?meta.tag=%00", "meta.tag"},
			{"/debits?meta.tag=%ff", "meta.tag"},
			{"/debits?[>]=1", "[>]"},
			{"/events?meta.tag=1", "meta.tag"},
			{"/events?created_at[>]=2026-01-01", "created_at[>]"},
			{"/customers?status=failed", "status"},
			{"/customers?amount[>]=1", "amount[>]"},
			{"/cards?can_debit=maybe", "can_debit"},
			{"/cards?can_debit[>]=true", "can_debit[>]"},
			{"/customers/nope/debits?foo=1", ""},
			{"/marketplaces?foo=1", "foo"},
			{"/debits?a=1;b=2", ""},
		}
		for _, tc := range cases {
			r := c.do("GET", tc.path, nil)
			errs, _ := r.body["errors"].([]any)
			desc := ""
			if len(errs) == 1 {
				desc, _ = errs[0].(map[string]any)["description"].(string)
			}
			if strings.HasPrefix(tc.path, "/customers/nope") {
				if r.status != 404 {
					t.Errorf("GET %s: %d, want 404 before looking at filters", tc.path, r.status)
				}
				continue
			}
			if r.status != 400 || r.category() != "request" || !strings.Contains(desc, tc.names) || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("GET %s: %d %q %q; want 400 request naming %q", tc.path, r.status, r.category(), desc, tc.names)
			}
		}
	})
}

// API keys live in their own table and filter the same way: by meta and
// created_at, sorted, and only the caller's marketplace's.
func TestAPIKeyListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newServer(t, kind)
		c := newMarketplace(t, base, 0)
		other := newMarketplace(t, base, 0)
		other.do("POST", "/api_keys", map[string]any{"meta": map[string]any{"team": "ops"}})
		var made []string
		for _, team := range []string{"ops", "web", "ops"} {
			r := c.do("POST", "/api_keys", map[string]any{"meta": map[string]any{"team": team}})
			if r.status != 201 {
				t.Fatalf("key: %d %s", r.status, r.raw)
			}
			made = append(made, r.id("api_keys"))
		}
		all, total := walk(t, c, "api_keys", "/api_keys?limit=2")
		if len(all) != 4 || total != 4 {
			t.Fatalf("%d keys, total %v; want 4 (the first key and three more)", len(all), total)
		}
		ops, opsTotal := walk(t, c, "api_keys", "/api_keys?meta.team=ops&sort=created_at,asc&limit=1")
		if !slices.Equal(ids(ops), []string{made[0], made[2]}) || opsTotal != 2 {
			t.Errorf("ops keys oldest first: %v (total %v), want %v", ids(ops), opsTotal, []string{made[0], made[2]})
		}
		second := c.do("GET", "/api_keys/"+made[1], nil).first("api_keys")["created_at"].(string)
		newer, _ := walk(t, c, "api_keys", "/api_keys?created_at[>=]="+url.QueryEscape(second))
		if !slices.Equal(ids(newer), []string{made[2], made[1]}) {
			t.Errorf("keys made since the second: %v, want %v", ids(newer), []string{made[2], made[1]})
		}
		for _, p := range []string{"/api_keys?updated_at[>]=2026-01-01", "/api_keys?secret=x", "/api_keys?meta.team[<]=x"} {
			if r := c.do("GET", p, nil); r.status != 400 || r.category() != "request" {
				t.Errorf("GET %s: %d %s, want 400", p, r.status, r.raw)
			}
		}
		// A key without a marketplace sees only itself.
		anon := &client{t: t, base: base}
		loose := &client{t: t, base: base, secret: anon.do("POST", "/api_keys", nil).first("api_keys")["secret"].(string)}
		anon.do("POST", "/api_keys", nil)
		if mine, n := walk(t, loose, "api_keys", "/api_keys"); len(mine) != 1 || n != 1 {
			t.Errorf("a key without a marketplace lists %d keys (total %v), want itself", len(mine), n)
		}
	})
}
