package dashboard

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
)

// Charts draw in the browser with uPlot (static/uplot, its released file
// and licence, served from the binary) from figures the server puts in the
// page: static/charts.js reads them from the chart's data attribute, so
// the page runs only the server's own scripts and no inline one. The same
// figures are in a table under each chart, for reading without a script.

// History reads an account's posted balance and its posted journal summed
// over intervals, the last one open-ended (see accountFlows).
type History interface {
	IntervalPostings(ctx context.Context, accountID string, bounds []time.Time,
		fn func(interval int, inMinor, outMinor int64)) (postedMinor int64, err error)
}

// chartDays is how many days a chart spans, ending today.
const chartDays = 30

// chartSeries is one line or set of bars of a chart, in cents.
type chartSeries struct {
	Label  string  `json:"label"`
	Values []int64 `json:"values"`
}

// chart is what charts.js draws: points at instants (Unix seconds), in
// cents, dated in the marketplace's zone.
type chart struct {
	ID    string        `json:"-"`
	Title string        `json:"-"`
	Kind  string        `json:"kind"` // "bars" or "lines"
	Zone  string        `json:"zone"`
	Times []int64       `json:"times"`
	Days  []string      `json:"-"`
	Rows  []chartSeries `json:"series"`
}

// JSON is the chart as its data attribute carries it.
func (c chart) JSON() (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

// chartWindow is the days a chart spans in the marketplace's zone, the
// instants they end at (the last: now), and the offset of the
// marketplace's clock from the ledger's, which dates its journal in
// process time. A test clock advanced during the window dates the
// journal's older rows by today's offset.
func (d *Dashboard) chartWindow(p *page) (ends []time.Time, offset time.Duration, err error) {
	now, err := d.svc.NowFor(p.ctx, p.mp())
	if err != nil {
		return nil, 0, err
	}
	offset = now.Sub(d.clk.Now())
	local := now.In(zone)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
	for i := chartDays - 1; i >= 1; i-- {
		ends = append(ends, today.AddDate(0, 0, 1-i))
	}
	return append(ends, now), offset, nil
}

// volumeChart is the overview's money taken in and paid back out per day,
// from the journal of the network accounts: what cards and banks gave
// (debits) and what went back to them (refunds, payouts).
func (d *Dashboard) volumeChart(p *page) (*chart, error) {
	if d.history == nil {
		return nil, nil
	}
	ends, offset, err := d.chartWindow(p)
	if err != nil {
		return nil, err
	}
	c := &chart{ID: "volume-chart", Title: "Money in and out per day", Kind: "bars", Zone: zone.String(),
		Rows: []chartSeries{{Label: "Taken in", Values: make([]int64, len(ends))}, {Label: "Paid back out", Values: make([]int64, len(ends))}}}
	// Day i is [ends[i-1], ends[i]), the first from a day before ends[0];
	// today's is open, as the journal's rows after now are none.
	bounds := []time.Time{ends[0].AddDate(0, 0, -1).Add(-offset)}
	for _, e := range ends[:len(ends)-1] {
		bounds = append(bounds, e.Add(-offset))
	}
	for _, account := range []string{payments.CardNetworkAccount(p.mp()), payments.BankNetworkAccount(p.mp())} {
		_, flows, err := d.accountFlows(p.ctx, account, bounds)
		if err != nil {
			return nil, err
		}
		for i, f := range flows {
			// A network account gives what it loses: its outflow is the
			// marketplace's money in.
			c.Rows[0].Values[i] += f.outMinor
			c.Rows[1].Values[i] += f.inMinor
		}
	}
	for _, e := range ends {
		day := e.Add(-time.Nanosecond).In(zone)
		c.Times = append(c.Times, time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, zone).Unix())
		c.Days = append(c.Days, day.Format(dateLayout))
	}
	return c, nil
}

// balanceCharts are a party's balances at the end of each day: each
// bucket's posted balance now, less what its journal posted after the
// day's end; the last point is now, as the balance page reads it (with
// releases due and not yet posted counted live).
func (d *Dashboard) balanceCharts(p *page, party payments.Resource, now []merchants.MerchantBalance) ([]chart, error) {
	if d.history == nil {
		return nil, nil
	}
	sets, err := d.mer.BalanceBucketAccounts(p.ctx, party)
	if err != nil {
		return nil, err
	}
	ends, offset, err := d.chartWindow(p)
	if err != nil {
		return nil, err
	}
	var charts []chart
	for bi, set := range sets {
		if bi >= len(now) {
			break
		}
		// A day's end balance is the balance now less what the journal
		// posted from that end on: interval i runs from the end of day i
		// to the next, the last one from the end of yesterday on.
		bounds := make([]time.Time, len(ends)-1)
		for i, e := range ends[:len(ends)-1] {
			bounds[i] = e.Add(-offset)
		}
		atEnd := map[string][]int64{}
		for _, id := range []string{set.STH, set.RR, set.Live} {
			posted, flows, err := d.accountFlows(p.ctx, id, bounds)
			if err != nil {
				return nil, err
			}
			balances := make([]int64, len(bounds))
			for i := len(flows) - 1; i >= 0; i-- {
				posted -= flows[i].inMinor - flows[i].outMinor
				balances[i] = posted
			}
			atEnd[id] = balances
		}
		c := chart{ID: "balance-chart-" + strconv.Itoa(bi), Title: set.Balance + " over time", Kind: "lines", Zone: zone.String(),
			Rows: []chartSeries{{Label: "Current"}, {Label: "Live"}, {Label: "Short-term hold"}, {Label: "Rolling reserve"}}}
		for i, e := range ends {
			var sth, rr, live int64
			if i < len(bounds) {
				sth, rr, live = atEnd[set.STH][i], atEnd[set.RR][i], atEnd[set.Live][i]
			} else {
				b := now[bi]
				sth, rr, live = b.STHMinor, b.RRMinor, b.LiveMinor
			}
			c.Rows[0].Values = append(c.Rows[0].Values, sth+rr+live)
			c.Rows[1].Values = append(c.Rows[1].Values, live)
			c.Rows[2].Values = append(c.Rows[2].Values, sth)
			c.Rows[3].Values = append(c.Rows[3].Values, rr)
			c.Times = append(c.Times, e.Unix())
			c.Days = append(c.Days, e.Add(-time.Nanosecond).In(zone).Format(dateLayout))
		}
		charts = append(charts, c)
	}
	return charts, nil
}
