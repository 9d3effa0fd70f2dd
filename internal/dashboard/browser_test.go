package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser tests drive Debian's Chromium through the pages of a real server
// on loopback. They run on SQLite only: what they add over the HTTP tests
// is the browser, and both stores are covered there. Each saves a
// full-page screenshot in its artifact directory (kept with
// `go test -artifacts -outputdir DIR`, else a temporary directory).

// stepTimeout bounds one step of a browser test; a page of this server
// answers in milliseconds, so this only stops a wedged browser from
// hanging CI.
const stepTimeout = 30 * time.Second

// chromiumPath finds the browser. Outside CI a machine without it skips
// the browser tests; in CI (CI set) a missing browser fails them.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("chromium is not installed (apt-get install chromium); browser tests skipped outside CI")
	}
	t.Fatal("CI is set and chromium is not installed")
	return ""
}

// tab is one browser tab on its own browser.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func newTab(t *testing.T) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath(t)), chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		// Chromium refuses to sandbox itself as root (as in CI containers).
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The browser lives as long as the context of its first call: start
	// it here, without the timeout each step has.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx}
}

func (tb *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(tb.ctx, stepTimeout)
}

// do runs steps that load nothing new, or whose page a later wait finds.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatal(err)
	}
}

// load runs steps that load a page and returns the page's HTTP status.
func (tb *tab) load(steps ...chromedp.Action[chromedp.Void]) int64 {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		tb.t.Fatal(err)
	}
	return resp.Status
}

// text reads the visible text of the element a CSS selector finds.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

// screenshot saves the whole page as name.png (quality 100 makes a PNG)
// in the test's artifact directory.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatal(err)
	}
	path := filepath.Join(tb.t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot: %s", path)
}

// signIn signs in through the sign-in page and lands on the overview.
func (tb *tab) signIn(base, secret string) {
	tb.t.Helper()
	if st := tb.load(chromedp.Navigate(base + "/dashboard/")); st != 200 {
		tb.t.Fatalf("the sign-in page answered %d", st)
	}
	tb.do(chromedp.SendKeys(chromedp.CSS("#secret"), secret))
	if st := tb.load(chromedp.Click(chromedp.CSS("#sign-in"))); st != 200 {
		tb.t.Fatalf("signing in answered %d", st)
	}
	if got := tb.text("h1"); got == "Sign in" {
		tb.t.Fatalf("still on the sign-in page: %s", tb.text("main"))
	}
}

// An operator sells on a customer's stored card from the customer's page,
// then refunds part of the sale from the debit's page: both through the
// pages, checked against what the API then reports.
func TestBrowserSaleThenRefund(t *testing.T) {
	base := newSite(t, "sqlite")
	mp := newMarketplace(t, base)
	cu, _ := mp.buyer("Ada Lovelace", "4111111111111111")
	tb := newTab(t)
	tb.signIn(base, mp.secret)
	if got := tb.text("#in-escrow"); got != "$0.00" {
		t.Fatalf("the overview shows %q in escrow before any sale", got)
	}
	tb.load(chromedp.Navigate(base + "/dashboard/customers"))
	if st := tb.load(chromedp.Click(chromedp.CSS(`a[href="/dashboard/customers/` + cu + `"]`))); st != 200 {
		t.Fatalf("the customer's page answered %d", st)
	}
	if got := tb.text("#sale-card"); got != "Visa •••• 1111" {
		t.Fatalf("the sale form offers the card as %q", got)
	}
	tb.do(chromedp.SendKeys(chromedp.CSS("#sale-amount"), "80.00"),
		chromedp.SendKeys(chromedp.CSS("#sale-description"), "a telescope"))
	tb.screenshot("sale_form")
	if st := tb.load(chromedp.Click(chromedp.CSS("#sell"))); st != 200 {
		t.Fatalf("the sale answered %d: %s", st, tb.text("main"))
	}
	if got, status := tb.text("#amount"), tb.text("#status"); got != "$80.00 USD" || status != "succeeded" {
		t.Fatalf("the sale's page shows %q %q", got, status)
	}
	if got := tb.text("#instrument"); !strings.HasSuffix(got, "•••• 1111") {
		t.Fatalf("the card shows as %q", got)
	}
	tb.screenshot("sale")
	debits := mp.debitsOf(cu)
	if len(debits) != 1 || len(debits["succeeded"]) != 1 || debits["succeeded"][0] != 8_000 {
		t.Fatalf("the API lists the customer's debits %v; want one succeeded of 8000", debits)
	}
	ctx, cancel := tb.step()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	debit := loc[strings.LastIndex(loc, "/")+1:]
	tb.load(chromedp.Navigate(base + "/dashboard/"))
	if got := tb.text("#in-escrow"); got != "$80.00" {
		t.Fatalf("the overview shows %q in escrow after a sale of $80.00", got)
	}
	tb.screenshot("overview")
	link := chromedp.CSS(`a[href="/dashboard/transactions/` + debit + `"]`)
	tb.load(chromedp.Navigate(base + "/dashboard/transactions"))
	tb.screenshot("transactions")
	if st := tb.load(chromedp.Click(link)); st != 200 {
		t.Fatalf("the debit's page answered %d", st)
	}
	tb.do(chromedp.SendKeys(chromedp.CSS("#action-amount"), "30.25"))
	if st := tb.load(chromedp.Click(chromedp.CSS("#act"))); st != 200 {
		t.Fatalf("the refund answered %d: %s", st, tb.text("main"))
	}
	if got, status := tb.text("#amount"), tb.text("#status"); got != "$30.25 USD" || status != "succeeded" {
		t.Fatalf("the refund's page shows %q %q", got, status)
	}
	tb.screenshot("refund")
	if n, total := mp.refundsOf(debit); n != 1 || total != 3_025 {
		t.Fatalf("the API lists %d refunds of %d cents; want one of 3025", n, total)
	}
	tb.load(chromedp.Navigate(base + "/dashboard/"))
	if got := tb.text("#in-escrow"); got != "$49.75" {
		t.Fatalf("the overview shows %q in escrow after refunding $30.25 of $80.00", got)
	}
}

func TestBrowserAdvancesTheTestClock(t *testing.T) {
	base := newSite(t, "sqlite")
	mp := newMarketplace(t, base)
	tb := newTab(t)
	tb.signIn(base, mp.secret)
	tb.load(chromedp.Navigate(base + "/dashboard/test-clock"))
	before, err := time.Parse("2006-01-02 15:04:05 UTC", tb.text("#clock-now"))
	if err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.SetValue(chromedp.CSS("#days"), "3"))
	if st := tb.load(chromedp.Click(chromedp.CSS("#advance"))); st != 200 {
		t.Fatalf("advancing answered %d: %s", st, tb.text("main"))
	}
	after, err := time.Parse("2006-01-02 15:04:05 UTC", tb.text("#clock-now"))
	if err != nil {
		t.Fatal(err)
	}
	if moved := after.Sub(before); moved < 72*time.Hour || moved > 72*time.Hour+time.Minute {
		t.Fatalf("the page's clock moved by %s, want 72h", moved)
	}
	// The API, asked on its own, sees the same offset.
	_, mpBody := mp.do("GET", "/marketplaces", nil)
	id := first(mpBody, "marketplaces")["id"].(string)
	_, clockBody := mp.do("GET", "/marketplaces/"+id+"/test_clock", nil)
	if off := first(clockBody, "test_clocks")["offset_seconds"]; off != float64(3*24*3600) {
		t.Fatalf("the API's test clock offset is %v, want 259200", off)
	}
	tb.screenshot("test_clock")
}

func TestBrowserRefusesAFormWithoutItsCSRFToken(t *testing.T) {
	base := newSite(t, "sqlite")
	mp := newMarketplace(t, base)
	debit := mp.sale(4_000)
	tb := newTab(t)
	tb.signIn(base, mp.secret)
	tb.load(chromedp.Navigate(base + "/dashboard/transactions/" + debit))
	tb.do(
		// The page runs no script; the test reaches in through DevTools to
		// take the token out, as a forged form would lack it.
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#action-form input[name=csrf]').remove()`),
		chromedp.SendKeys(chromedp.CSS("#action-amount"), "10"),
	)
	if st := tb.load(chromedp.Click(chromedp.CSS("#act"))); st != 403 {
		t.Fatalf("the form without its token answered %d, want 403", st)
	}
	tb.screenshot("csrf_refused")
	if n, _ := mp.refundsOf(debit); n != 0 {
		t.Fatalf("a refused form made %d refunds", n)
	}
}

func TestBrowserAnotherMarketplacesTransactionIsNotFound(t *testing.T) {
	base := newSite(t, "sqlite")
	mine, theirs := newMarketplace(t, base), newMarketplace(t, base)
	debit := theirs.sale(6_000)
	tb := newTab(t)
	tb.signIn(base, mine.secret)
	if st := tb.load(chromedp.Navigate(base + "/dashboard/transactions/" + debit)); st != 404 {
		t.Fatalf("another marketplace's transaction answered %d, want 404", st)
	}
	if body := tb.text("main"); strings.Contains(body, "60.00") || strings.Contains(body, "a sale") {
		t.Fatalf("the 404 page shows the other marketplace's debit: %s", body)
	}
	tb.screenshot("not_found")
}
