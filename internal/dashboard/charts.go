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

// History reads the ledger's posted journal summed per hour.
type History interface {
	HourlyPostings(ctx context.Context, accountIDs []string, from, to time.Time,
		fn func(accountID string, hour time.Time, inMinor, outMinor int64) error) error
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

// journalEnd bounds the journal a chart reads from above: everything. A
// row committed at the instant the page reads, or between its reads of an
// account and of its journal, is then counted after every past day's end,
// as it must be for those days to add up.
var journalEnd = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// dayOf is the index of the day an instant of the marketplace falls in:
// the first end after it.
func dayOf(ends []time.Time, at time.Time) int {
	for i, e := range ends {
		if at.Before(e) {
			return i
		}
	}
	return -1
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
	start := ends[0].AddDate(0, 0, -1)
	accounts := []string{payments.CardNetworkAccount(p.mp()), payments.BankNetworkAccount(p.mp())}
	err = d.history.HourlyPostings(p.ctx, accounts, start.Add(-offset), journalEnd, func(_ string, hour time.Time, in, out int64) error {
		if i := dayOf(ends, hour.Add(offset)); i >= 0 {
			// A network account gives what it loses: its outflow is the
			// marketplace's money in.
			c.Rows[0].Values[i] += out
			c.Rows[1].Values[i] += in
		}
		return nil
	})
	if err != nil {
		return nil, err
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
		ids := []string{set.STH, set.RR, set.Live}
		// after[a][i] is what account a's journal posted after the end of day i.
		after := map[string][]int64{}
		posted := map[string]int64{}
		for _, id := range ids {
			after[id] = make([]int64, len(ends))
			bal, err := d.balanceOfAccount(p, id)
			if err != nil {
				return nil, err
			}
			posted[id] = bal
		}
		err = d.history.HourlyPostings(p.ctx, ids, ends[0].Add(-offset), journalEnd, func(id string, hour time.Time, in, out int64) error {
			at := hour.Add(offset)
			for i, e := range ends[:len(ends)-1] {
				if !at.Before(e) {
					after[id][i] += in - out
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		c := chart{ID: "balance-chart-" + strconv.Itoa(bi), Title: set.Balance + " over time", Kind: "lines", Zone: zone.String(),
			Rows: []chartSeries{{Label: "Current"}, {Label: "Live"}, {Label: "Short-term hold"}, {Label: "Rolling reserve"}}}
		for i, e := range ends {
			sth, rr, live := posted[set.STH]-after[set.STH][i], posted[set.RR]-after[set.RR][i], posted[set.Live]-after[set.Live][i]
			if i == len(ends)-1 {
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

// balanceOfAccount is an account's posted balance; an account nothing has
// posted to yet holds nothing.
func (d *Dashboard) balanceOfAccount(p *page, id string) (int64, error) {
	b, err := d.balanceOf(p, id)
	return b.PostedMinor, err
}
