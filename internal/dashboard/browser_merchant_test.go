package dashboard_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// signInParty signs a merchant or manager in through the sign-in page.
func (tb *tab) signInParty(base, login, key string) {
	tb.t.Helper()
	if st := tb.load(chromedp.Navigate(base + "/dashboard/sign-in")); st != 200 {
		tb.t.Fatalf("the sign-in page answered %d", st)
	}
	tb.do(chromedp.SendKeys(chromedp.CSS("#login"), login), chromedp.SendKeys(chromedp.CSS("#control-key"), key))
	if st := tb.load(chromedp.Click(chromedp.CSS("#sign-in-party"))); st != 200 {
		tb.t.Fatalf("signing in answered %d: %s", st, tb.text("main"))
	}
}

// bucket reads one bucket of the first balance on a balance page.
func (tb *tab) bucket(name string) string {
	tb.t.Helper()
	return tb.text(".balances tbody tr td." + name)
}

func TestBrowserMerchantAndManagerSignIn(t *testing.T) {
	sh := newShop(t, "sqlite")
	mine, cu := sh.merchant("corner-shop", "")
	theirs, _ := sh.merchant("other-shop", "")
	sh.holdRule(mine, "10")
	sh.sell(cu, 12_500)
	tb := newTab(t)
	tb.signInParty(sh.s.base, "corner-shop", controlKey)
	if got := tb.text("h1"); !strings.HasPrefix(got, "corner-shop") {
		t.Fatalf("a merchant landed on %q", got)
	}
	if cur, sth, rr := tb.bucket("current"), tb.bucket("sth"), tb.bucket("rr"); cur != "$125.00" || sth != "$112.50" || rr != "$12.50" {
		t.Fatalf("the merchant's page shows current %s, hold %s, reserve %s", cur, sth, rr)
	}
	tb.screenshot("merchant_balance")
	if st := tb.load(chromedp.Navigate(sh.s.base + "/dashboard/merchants/" + theirs)); st != 404 {
		t.Fatalf("another merchant's page answered %d, want 404", st)
	}
	if body := tb.text("main"); strings.Contains(body, "other-shop") {
		t.Fatalf("the 404 names the other merchant: %s", body)
	}
	tb.screenshot("merchant_not_found")

	mg := newTab(t)
	if _, err := sh.s.mer.CreateManager(t.Context(), sh.mp, managerInput("reseller", mine)); err != nil {
		t.Fatal(err)
	}
	mg.signInParty(sh.s.base, "reseller", controlKey)
	if got := mg.text("#overseen"); !strings.Contains(got, "corner-shop") || !strings.Contains(got, "$125.00") {
		t.Fatalf("the manager's merchants: %s", got)
	}
	mg.screenshot("manager_balance")
}

func TestBrowserUploadNamesTheBadLine(t *testing.T) {
	sh := newShop(t, "sqlite")
	sh.merchant("uploader", "EXT-9")
	archive := filepath.Join(t.TempDir(), "adjustments.zip")
	tsv := "12.00\t\tU-1\tEXT-9\t\n\t2.00\tU-2\tEXT-9\t\n1,5\t\tU-3\tEXT-9\t\n"
	if err := os.WriteFile(archive, zipOf(t, map[string]string{"march.tsv": tsv}), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t)
	tb.signIn(sh.s.base, sh.api.secret)
	tb.load(chromedp.Navigate(sh.s.base + "/dashboard/adjustment-uploads"))
	tb.do(chromedp.SetUploadFiles(chromedp.CSS("#archive"), []string{archive}))
	if st := tb.load(chromedp.Click(chromedp.CSS("#upload"))); st != 400 {
		t.Fatalf("a file with a bad line answered %d: %s", st, tb.text("main"))
	}
	if got := tb.text(".bad-lines tbody"); !strings.HasPrefix(got, "3") {
		t.Fatalf("the bad lines shown: %q", got)
	}
	if got := tb.text(".upload-result h2"); !strings.Contains(got, "refused") {
		t.Fatalf("the file's result: %q", got)
	}
	tb.screenshot("upload_bad_line")
	_, body := sh.api.do("GET", "/merchants", nil)
	if m := first(body, "merchants"); len(sh.adjustmentsOf(m["id"].(string))) != 0 {
		t.Fatal("a refused file applied adjustments")
	}
}

func TestBrowserTogglesAScheduledAdjustment(t *testing.T) {
	sh := newShop(t, "sqlite")
	m, _ := sh.merchant("subscriber", "")
	tb := newTab(t)
	tb.signIn(sh.s.base, sh.api.secret)
	tb.load(chromedp.Navigate(sh.s.base + "/dashboard/merchants/" + m + "/scheduled"))
	tb.do(
		chromedp.SetValue(chromedp.CSS("#first-date"), "2031-02-01"),
		chromedp.SendKeys(chromedp.CSS("#schedule-amount"), "19.99"),
		chromedp.Click(chromedp.CSS("#risk-ack")),
	)
	if st := tb.load(chromedp.Click(chromedp.CSS("#add-schedule"))); st != 200 {
		t.Fatalf("adding a schedule answered %d: %s", st, tb.text("main"))
	}
	row := "#scheduled tbody tr"
	if got := tb.text(row); !strings.Contains(got, "on") || !strings.Contains(got, "-$19.99") || !strings.Contains(got, "2031-02-01") {
		t.Fatalf("the new schedule: %q", got)
	}
	if st := tb.load(chromedp.Click(chromedp.CSS(row + " button.toggle"))); st != 200 {
		t.Fatalf("the toggle answered %d", st)
	}
	if got := tb.text(row + " button.toggle"); got != "off" {
		t.Fatalf("after one click the status is %q", got)
	}
	_, body := sh.api.do("GET", "/merchants/"+m+"/scheduled_adjustments", nil)
	if s := first(body, "scheduled_adjustments"); s["status"] != "off" {
		t.Fatalf("the API shows the schedule %v", s["status"])
	}
	tb.screenshot("scheduled_off")
	// A toggle whose form lost its token is refused and changes nothing.
	tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#scheduled tbody tr form input[name=csrf]').remove()`))
	if st := tb.load(chromedp.Click(chromedp.CSS(row + " button.toggle"))); st != 403 {
		t.Fatalf("a toggle without its token answered %d, want 403", st)
	}
	tb.screenshot("scheduled_csrf_refused")
	_, body = sh.api.do("GET", "/merchants/"+m+"/scheduled_adjustments", nil)
	if s := first(body, "scheduled_adjustments"); s["status"] != "off" {
		t.Fatalf("a refused toggle turned the schedule %v", s["status"])
	}
}

func TestBrowserHoldBecomesLiveOnTheMerchantPage(t *testing.T) {
	sh := newShop(t, "sqlite")
	m, cu := sh.merchant("patient-shop", "")
	sh.holdRule(m, "10")
	sh.sell(cu, 50_000)
	merchant := newTab(t)
	merchant.signInParty(sh.s.base, "patient-shop", controlKey)
	if live, sth := merchant.bucket("live"), merchant.bucket("sth"); live != "$0.00" || sth != "$450.00" {
		t.Fatalf("at the sale: live %s, hold %s", live, sth)
	}
	if got := merchant.text("#release-calendar td.due"); !strings.Contains(got, "hold $450.00") {
		t.Fatalf("the calendar shows %q", got)
	}
	merchant.screenshot("hold_pending")
	op := newTab(t)
	op.signIn(sh.s.base, sh.api.secret)
	op.load(chromedp.Navigate(sh.s.base + "/dashboard/test-clock"))
	op.do(chromedp.SetValue(chromedp.CSS("#days"), "3"))
	if st := op.load(chromedp.Click(chromedp.CSS("#advance"))); st != 200 {
		t.Fatalf("advancing answered %d", st)
	}
	merchant.load(chromedp.Navigate(sh.s.base + "/dashboard/merchants/" + m))
	if live, sth, rr := merchant.bucket("live"), merchant.bucket("sth"), merchant.bucket("rr"); live != "$450.00" || sth != "$0.00" || rr != "$50.00" {
		t.Fatalf("three days on: live %s, hold %s, reserve %s", live, sth, rr)
	}
	merchant.screenshot("hold_live")
}

func TestBrowserExportShowsItsProgress(t *testing.T) {
	sh := newShop(t, "sqlite")
	m, cu := sh.merchant("exporter", "")
	for _, amount := range []int64{1_100, 2_200, 3_300} {
		sh.sell(cu, amount)
	}
	tb := newTab(t)
	tb.signInParty(sh.s.base, "exporter", controlKey)
	tb.load(chromedp.Navigate(sh.s.base + "/dashboard/merchants/" + m + "/transactions"))
	tb.do(chromedp.Click(chromedp.CSS("#export")), chromedp.WaitVisible(chromedp.CSS("#export-status[data-done]")))
	if got := tb.text("#export-status"); !strings.HasPrefix(got, "3 transactions, saved as transactions-"+m) {
		t.Fatalf("the export's status: %q", got)
	}
	ctx, cancel := tb.step()
	defer cancel()
	done, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('#export-progress').value`))
	if err != nil {
		t.Fatal(err)
	}
	if done != 1 {
		t.Fatalf("the progress bar ends at %v", done)
	}
	tb.screenshot("export_done")
}
