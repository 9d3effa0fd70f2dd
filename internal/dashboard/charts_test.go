package dashboard_test

import (
	"context"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// chartData is a chart as its data attribute carries it.
type chartData struct {
	Kind   string  `json:"kind"`
	Zone   string  `json:"zone"`
	Times  []int64 `json:"times"`
	Series []struct {
		Label  string  `json:"label"`
		Values []int64 `json:"values"`
	} `json:"series"`
}

var chartAttr = regexp.MustCompile(`id="([a-z0-9-]+)" data-chart="([^"]*)"`)

// charts reads a page's charts by id.
func (p page) charts(t testing.TB) map[string]chartData {
	t.Helper()
	out := map[string]chartData{}
	for _, m := range chartAttr.FindAllStringSubmatch(p.body, -1) {
		var c chartData
		if err := json.Unmarshal([]byte(html.UnescapeString(m[2])), &c); err != nil {
			t.Fatalf("chart %s: %v", m[1], err)
		}
		out[m[1]] = c
	}
	return out
}

// The overview's chart is what cards gave and got back per day: today's
// bars are the sale and the refund, every other day's nothing.
func TestVolumeChartIsTheDaysMoney(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		debit := mp.sale(8_000)
		b := newBrowser(t, base)
		b.signIn(mp.secret)
		tx := b.get("/dashboard/transactions/" + debit)
		if p := b.post("/dashboard/transactions/"+debit+"/refunds", url.Values{"csrf": {tx.field("csrf")}, "amount": {"30.25"},
			"idempotency_key": {tx.field("idempotency_key")}}); p.status != 303 {
			t.Fatalf("refund: %d %s", p.status, p.body)
		}
		c, ok := b.get("/dashboard/").charts(t)["volume-chart"]
		if !ok || c.Kind != "bars" || c.Zone != "America/New_York" || len(c.Times) != 30 || len(c.Series) != 2 {
			t.Fatalf("the volume chart: %+v", c)
		}
		last := len(c.Times) - 1
		for i := range c.Times {
			wantIn, wantOut := int64(0), int64(0)
			if i == last {
				wantIn, wantOut = 8_000, 3_025
			}
			if c.Series[0].Values[i] != wantIn || c.Series[1].Values[i] != wantOut {
				t.Fatalf("day %d: in %d out %d, want %d %d", i, c.Series[0].Values[i], c.Series[1].Values[i], wantIn, wantOut)
			}
		}
		// Each bar stands at noon of its day in New York, a day apart.
		ny := nyZone(t)
		for i := 1; i < len(c.Times); i++ {
			at := time.Unix(c.Times[i], 0).In(ny)
			if at.Hour() != 12 || at.Minute() != 0 || time.Unix(c.Times[i-1], 0).In(ny).AddDate(0, 0, 1) != at {
				t.Fatalf("bar %d at %s after %s", i, at, time.Unix(c.Times[i-1], 0).In(ny))
			}
		}
	})
}

// A merchant's balance chart is its buckets at the end of each day, from
// the ledger's journal: two sales a day apart, the first's hold released
// by the scheduler when due, each day's figures as a model of the rule
// gives them.
func TestBalanceChartFollowsTheDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		ny := nyZone(t)
		clk := clock.NewManual(time.Date(2026, 11, 2, 10, 0, 0, 0, ny)) // Monday, 10:00 in New York
		s := startSiteAt(t, storetest.Open(t, kind), clk)
		api := newMarketplace(t, s.base)
		_, body := api.do("GET", "/marketplaces", nil)
		sh := &shop{t: t, s: s, api: api, mp: first(body, "marketplaces")["id"].(string)}
		m, cu := sh.merchant("charted-"+kind, "")
		sh.holdRule(m, "10") // DAY+2, 10% reserve for 30 days
		sched := scheduler.New(s.db, clk)
		sched.Handle(merchants.JobBalanceRelease, s.mer.RunBalanceRelease)
		advanceTo := func(at time.Time) {
			t.Helper()
			if err := clk.Set(at); err != nil {
				t.Fatal(err)
			}
			if _, err := sched.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// The chart is read along the way too: the days that have ended by
		// then are kept and not read again, and must still add up below.
		glance := func() {
			t.Helper()
			b := newBrowser(t, s.base)
			b.signInParty("charted-"+kind, controlKey)
			if p := b.get("/dashboard/merchants/" + m); p.status != 200 {
				t.Fatalf("the balance page: %d", p.status)
			}
		}
		sh.sell(cu, 10_000)
		glance()
		advanceTo(time.Date(2026, 11, 3, 10, 0, 0, 0, ny))
		glance()
		sh.sell(cu, 5_000)
		advanceTo(time.Date(2026, 11, 4, 12, 0, 0, 0, ny)) // the first hold is due at 10:01 and is posted
		glance()
		advanceTo(time.Date(2026, 11, 5, 10, 0, 0, 0, ny)) // the second is due at 10:01, not yet
		sh.sell(cu, 2_000)                                 // at this very instant: in the last point only

		b := newBrowser(t, s.base)
		b.signInParty("charted-"+kind, controlKey)
		c, ok := b.get("/dashboard/merchants/" + m).charts(t)["balance-chart-0"]
		if !ok || c.Kind != "lines" || len(c.Times) != 30 {
			t.Fatalf("the balance chart: %+v", c)
		}
		type day struct{ current, live, sth, rr int64 }
		model := map[int]day{ // by index from the end: 0 is now
			3: {10_000, 0, 9_000, 1_000},     // the end of Monday
			2: {15_000, 0, 13_500, 1_500},    // the end of Tuesday
			1: {15_000, 9_000, 4_500, 1_500}, // the end of Wednesday
			0: {17_000, 9_000, 6_300, 1_700}, // Thursday 10:00
		}
		last := len(c.Times) - 1
		for i := range c.Times {
			want := model[last-i]
			got := day{c.Series[0].Values[i], c.Series[1].Values[i], c.Series[2].Values[i], c.Series[3].Values[i]}
			if got != want {
				t.Errorf("point %d (%s): %+v, want %+v", i, time.Unix(c.Times[i], 0).In(ny), got, want)
			}
		}
		if end := time.Unix(c.Times[last-1], 0).In(ny); end != time.Date(2026, 11, 5, 0, 0, 0, 0, ny) {
			t.Fatalf("the last day ends at %s", end)
		}
	})
}
