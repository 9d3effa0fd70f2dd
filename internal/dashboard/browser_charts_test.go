package dashboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"

	"github.com/chromedp/chromedp"
)

// chartDrawn waits for uPlot to draw a chart and returns its legend's text.
func (tb *tab) chartDrawn(id string) string {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.CSS("#" + id + " .uplot canvas")))
	return tb.text("#" + id + " .u-legend")
}

// paintedPixels counts the pixels a chart's canvas painted: axes, labels,
// bars and lines.
func (tb *tab) paintedPixels(id string) int {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => {
		const c = document.querySelector('#`+id+` canvas');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
		return n;
	})()`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return n
}

// The charts draw in the browser under the page's Content-Security-Policy
// (only the server's own script files), with their axes in dollars, at a
// laptop's width and at a phone's.
func TestBrowserChartsAtLaptopAndPhoneWidth(t *testing.T) {
	// Three weeks of trade, a day at a time: sales to a merchant whose
	// holds the scheduler releases as they fall due, sales into the
	// marketplace's escrow, and now and then a refund.
	ctx := context.Background()
	clk := clock.NewManual(time.Now().Add(-21 * 24 * time.Hour))
	s := startSiteAt(t, storetest.Open(t, "sqlite"), clk)
	api := newMarketplace(t, s.base)
	_, body := api.do("GET", "/marketplaces", nil)
	sh := &shop{t: t, s: s, api: api, mp: first(body, "marketplaces")["id"].(string)}
	m, cu := sh.merchant("charted-shop", "")
	sh.holdRule(m, "10")
	sched := scheduler.New(s.db, clk)
	sched.Handle(merchants.JobBalanceRelease, s.mer.RunBalanceRelease)
	for day := range 21 {
		sh.sell(cu, int64(20_000+(day*7_919)%45_000))
		debit := sh.api.sale(int64(10_000 + (day*5_003)%30_000))
		if day%4 == 3 {
			if _, err := s.pay.Refund(ctx, sh.mp, debit, payments.TxInput{AmountMinor: 4_500, HasAmount: true}); err != nil {
				t.Fatal(err)
			}
		}
		if err := clk.Advance(24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := sched.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tb := newTab(t)
	tb.signIn(sh.s.base, sh.api.secret)
	if legend := tb.chartDrawn("volume-chart"); !strings.Contains(legend, "Taken in") || !strings.Contains(legend, "Paid back out") {
		t.Fatalf("the volume chart's legend: %q", legend)
	}
	if n := tb.paintedPixels("volume-chart"); n < 2_000 {
		t.Fatalf("the volume chart painted %d pixels: no axes or bars", n)
	}
	tb.screenshot("overview")
	tb.load(chromedp.Navigate(sh.s.base + "/dashboard/merchants/" + m))
	if legend := tb.chartDrawn("balance-chart-0"); !strings.Contains(legend, "Short-term hold") || !strings.Contains(legend, "Rolling reserve") {
		t.Fatalf("the balance chart's legend: %q", legend)
	}
	tb.screenshot("merchant_balance")

	// A phone: the chart fits the screen's width, the page does not
	// scroll sideways.
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	tb.load(chromedp.Navigate(sh.s.base + "/dashboard/merchants/" + m))
	tb.chartDrawn("balance-chart-0")
	ctx, cancel := tb.step()
	defer cancel()
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth,
		document.querySelector('#balance-chart-0 canvas').getBoundingClientRect().width]`))
	if err != nil {
		t.Fatal(err)
	}
	if widths[0] > widths[1] || widths[2] > widths[1] || widths[2] < 200 {
		t.Fatalf("at a phone's width: page %dpx wide in %dpx, chart %dpx", widths[0], widths[1], widths[2])
	}
	tb.screenshot("merchant_balance_phone")
	tb.load(chromedp.Navigate(sh.s.base + "/dashboard/"))
	tb.chartDrawn("volume-chart")
	tb.screenshot("overview_phone")
}
