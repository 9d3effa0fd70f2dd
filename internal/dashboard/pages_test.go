package dashboard_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

func TestSignInOpensASessionAndSignOutEndsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		mp.sale(12_345)
		b := newBrowser(t, base)

		if p := b.get("/dashboard/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/sign-in" {
			t.Fatalf("signed out, the overview answered %d %q", p.status, p.header.Get("Location"))
		}
		form := b.get("/dashboard/sign-in")
		p := b.post("/dashboard/sign-in", url.Values{"csrf": {form.field("csrf")}, "secret": {mp.secret}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d %s", p.status, p.body)
		}
		cookie := p.header.Get("Set-Cookie")
		for _, want := range []string{"poise_session=", "HttpOnly", "SameSite=Strict", "Path=/dashboard/"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie %q lacks %s", cookie, want)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("a cookie over plain HTTP is marked Secure: %q", cookie)
		}
		if strings.Contains(cookie, mp.secret) {
			t.Fatal("the session cookie holds the API key secret")
		}
		// The escrow the overview shows is the marketplace's in_escrow as
		// the API reports it, and the sale's amount: nothing else moved.
		_, mpBody := mp.do("GET", "/marketplaces", nil)
		inEscrow := int64(first(mpBody, "marketplaces")["in_escrow"].(float64))
		if inEscrow != 12_345 {
			t.Fatalf("the API shows %d in escrow after one sale of 12345", inEscrow)
		}
		over := b.get("/dashboard/")
		if over.status != 200 || !strings.Contains(over.body, `id="in-escrow">$123.45<`) {
			t.Fatalf("overview: %d, escrow not $123.45:\n%s", over.status, over.body)
		}
		// The sale arrived today: all of it is in the youngest age bucket.
		if !strings.Contains(over.body, `<tr><td>0–6 days</td><td class="num">$123.45</td></tr>`) ||
			!strings.Contains(over.body, `<tr><td>30 days and more</td><td class="num">$0.00</td></tr>`) {
			t.Fatalf("the overview's escrow by age does not show the sale as new:\n%s", over.body)
		}
		out := b.post("/dashboard/sign-out", url.Values{"csrf": {over.field("csrf")}})
		if out.status != http.StatusSeeOther {
			t.Fatalf("sign-out: %d %s", out.status, out.body)
		}
		if p := b.get("/dashboard/"); p.status != http.StatusSeeOther {
			t.Fatalf("after sign-out the overview answered %d", p.status)
		}
	})
}

// Pages run only the server's own script files (the charts), never an
// inline script or one from elsewhere, and forbid every frame.
func TestPagesAreLockedDown(t *testing.T) {
	base := newSite(t, "sqlite")
	mp := newMarketplace(t, base)
	mp.sale(1_000)
	b := newBrowser(t, base)
	p := b.get("/dashboard/sign-in")
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Count(csp, "script-src") != 1 || !strings.Contains(csp, "connect-src 'self';") {
		t.Errorf("CSP %q allows more script than the server's own files", csp)
	}
	if strings.Contains(p.body, "<script") {
		t.Error("the sign-in page has a script")
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", p.header.Get("Cache-Control"))
	}
	over := b.signIn(mp.secret)
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(over.body, -1)
	if len(scripts) == 0 {
		t.Fatal("the overview loads no chart script")
	}
	for _, s := range scripts {
		if !strings.Contains(s, `src="/dashboard/static/`) {
			t.Errorf("a script that is not one of the server's files: %s", s)
		}
	}
	for _, s := range []string{"/dashboard/static/uplot/uPlot.iife.min.js", "/dashboard/static/charts.js", "/dashboard/static/uplot/LICENSE"} {
		if got := b.get(s); got.status != 200 || len(got.body) == 0 {
			t.Errorf("%s: %d", s, got.status)
		}
	}
}

func TestFormsWithoutTheirCSRFTokenAreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		debit := mp.sale(5_000)
		b := newBrowser(t, base)

		b.get("/dashboard/sign-in")
		if p := b.post("/dashboard/sign-in", url.Values{"secret": {mp.secret}}); p.status != http.StatusForbidden {
			t.Fatalf("sign-in without its token: %d", p.status)
		}
		b.signIn(mp.secret)
		txPage := b.get("/dashboard/transactions/" + debit)
		form := url.Values{"amount": {"10.00"}, "idempotency_key": {txPage.field("idempotency_key")}}
		for name, csrf := range map[string][]string{"missing": nil, "wrong": {"not-the-token"}} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if csrf != nil {
				f["csrf"] = csrf
			}
			if p := b.post("/dashboard/transactions/"+debit+"/refunds", f); p.status != http.StatusForbidden {
				t.Fatalf("refund with its token %s: %d", name, p.status)
			}
			if p := b.post("/dashboard/test-clock", url.Values{"days": {"1"}, "csrf": csrf}); p.status != http.StatusForbidden {
				t.Fatalf("clock with its token %s: %d", name, p.status)
			}
		}
		if n, _ := mp.refundsOf(debit); n != 0 {
			t.Fatalf("a refused form made %d refunds", n)
		}
		// Another session's token is no token for this one.
		other := newBrowser(t, base)
		otherOverview := other.signIn(mp.secret)
		form.Set("csrf", otherOverview.field("csrf"))
		if p := b.post("/dashboard/transactions/"+debit+"/refunds", form); p.status != http.StatusForbidden {
			t.Fatalf("refund with another session's token: %d", p.status)
		}
	})
}

func TestAnotherMarketplacesPagesAreNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mine, theirs := newMarketplace(t, base), newMarketplace(t, base)
		debit := theirs.sale(7_000)
		b := newBrowser(t, base)
		txPage := newBrowser(t, base)
		tp := txPage.signIn(theirs.secret)
		_ = tp
		theirForm := txPage.get("/dashboard/transactions/" + debit)
		b.signIn(mine.secret)
		if p := b.get("/dashboard/transactions/" + debit); p.status != http.StatusNotFound || strings.Contains(p.body, "70.00") {
			t.Fatalf("another marketplace's debit: %d\n%s", p.status, p.body)
		}
		mineOverview := b.get("/dashboard/")
		p := b.post("/dashboard/transactions/"+debit+"/refunds", url.Values{"csrf": {mineOverview.field("csrf")},
			"amount": {"1.00"}, "idempotency_key": {theirForm.field("idempotency_key")}})
		if p.status != http.StatusNotFound {
			t.Fatalf("refund of another marketplace's debit: %d", p.status)
		}
		if n, _ := theirs.refundsOf(debit); n != 0 {
			t.Fatalf("another marketplace refunded %d times", n)
		}
	})
}

// A refund from the page is bounded as the API bounds it, and one form
// sent twice refunds once.
func TestRefundFormRefundsOnceWithinWhatIsLeft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		debit := mp.sale(5_000)
		b := newBrowser(t, base)
		b.signIn(mp.secret)
		txPage := b.get("/dashboard/transactions/" + debit)
		if !strings.Contains(txPage.body, "•••• 1111") || strings.Contains(txPage.body, "4111111111111111") || strings.Contains(txPage.body, "411111") {
			t.Fatalf("the card is not shown by its last four only:\n%s", txPage.body)
		}
		if !strings.Contains(txPage.body, "at most $50.00") {
			t.Fatalf("the refund form does not say what is left:\n%s", txPage.body)
		}
		send := func(amount, key string) page {
			return b.post("/dashboard/transactions/"+debit+"/refunds", url.Values{"csrf": {txPage.field("csrf")},
				"amount": {amount}, "idempotency_key": {key}})
		}
		for _, bad := range []string{"50.01", "0", "-1", "1.234", "abc", "99999999999"} {
			if p := send(bad, "key-"+bad); p.status != http.StatusBadRequest {
				t.Errorf("refund of %q: %d", bad, p.status)
			}
		}
		key := txPage.field("idempotency_key")
		first := send("12.50", key)
		again := send("12.50", key)
		if first.status != http.StatusSeeOther || again.status != http.StatusSeeOther || first.header.Get("Location") != again.header.Get("Location") {
			t.Fatalf("the same form twice: %d %q, then %d %q", first.status, first.header.Get("Location"), again.status, again.header.Get("Location"))
		}
		if n, total := mp.refundsOf(debit); n != 1 || total != 1_250 {
			t.Fatalf("the API lists %d refunds of %d cents; want one of 1250", n, total)
		}
		rf := b.get(first.header.Get("Location"))
		if rf.status != 200 || !strings.Contains(rf.body, "$12.50") || !strings.Contains(rf.body, debit) {
			t.Fatalf("the refund's page: %d\n%s", rf.status, rf.body)
		}
		if p := send("37.51", "another-key"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "3750") {
			t.Fatalf("refund beyond what is left: %d\n%s", p.status, p.body)
		}
	})
}

func TestFailedSignInsAreLimitedPerAddress(t *testing.T) {
	base := newSite(t, "sqlite")
	mp := newMarketplace(t, base)
	b := newBrowser(t, base)
	try := func(secret string) int {
		form := b.get("/dashboard/sign-in")
		return b.post("/dashboard/sign-in", url.Values{"csrf": {form.field("csrf")}, "secret": {secret}}).status
	}
	for i := range 5 {
		if st := try("wrong"); st != http.StatusUnauthorized {
			t.Fatalf("wrong secret #%d: %d", i+1, st)
		}
	}
	if st := try(mp.secret); st != http.StatusTooManyRequests {
		t.Fatalf("after five failures the right secret got %d, want 429", st)
	}
}

// The Balanced root keeps answering JSON beside the pages.
func TestTheAPIRootStillAnswersJSON(t *testing.T) {
	base := newSite(t, "sqlite")
	st, body := (&apiClient{t: t, base: base}).do("GET", "/", nil)
	if st != 200 || body["revision"] != "1.1" {
		t.Fatalf("GET / = %d %v", st, body)
	}
}

var transactionLink = regexp.MustCompile(`href="/dashboard/transactions/([A-Za-z0-9]+)"`)

// Paging the transactions page walks every debit once, newest first, as
// the API lists them; the status filter keeps only what it names.
func TestTransactionsPageWalksEveryDebitOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		const sales = 27 // one page of 25 and a second of 2
		for i := range sales {
			mp.sale(int64(100 + i))
		}
		_, list := mp.do("GET", "/debits?limit=100", nil)
		var want []string
		for _, d := range list["debits"].([]any) {
			want = append(want, d.(map[string]any)["id"].(string))
		}
		b := newBrowser(t, base)
		b.signIn(mp.secret)
		var got []string
		next := "/dashboard/transactions"
		for pages := 0; next != ""; pages++ {
			if pages > 2 {
				t.Fatal("more pages than 27 debits fill")
			}
			p := b.get(next)
			if p.status != 200 {
				t.Fatalf("%s: %d", next, p.status)
			}
			for _, m := range transactionLink.FindAllStringSubmatch(p.body, -1) {
				got = append(got, m[1])
			}
			next = ""
			if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(p.body); m != nil {
				next = html.UnescapeString(m[1])
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("the pages list %d debits:\n%v\nthe API lists %d:\n%v", len(got), got, len(want), want)
		}
		if p := b.get("/dashboard/transactions?status=failed"); p.status != 200 || transactionLink.MatchString(p.body) {
			t.Fatalf("failed debits, of none: %d %v", p.status, transactionLink.FindAllString(p.body, -1))
		}
		for _, bad := range []string{"?page=0", "?page=x", "?type=disputes", "?status=odd", "?from=yesterday"} {
			if p := b.get("/dashboard/transactions" + bad); p.status != http.StatusBadRequest {
				t.Errorf("%s: %d", bad, p.status)
			}
		}
	})
}

// An order's row shows what it took in, holds, paid out and refunded, as
// the test adds them up from what it did through the API.
func TestOrdersShowWhereTheirMoneyWent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		must := func(st int, body map[string]any, plural string) string {
			t.Helper()
			if st != 201 && st != 200 {
				t.Fatalf("%s: %d %v", plural, st, body)
			}
			return first(body, plural)["id"].(string)
		}
		st, body := mp.do("POST", "/customers", map[string]any{"name": "Ada"})
		merchant := must(st, body, "customers")
		st, body = mp.do("POST", "/customers/"+merchant+"/bank_accounts", map[string]any{"name": "Ada", "account_number": "9900000002", "routing_number": "021000021"})
		bank := must(st, body, "bank_accounts")
		st, body = mp.do("POST", "/customers/"+merchant+"/orders", map[string]any{"description": "a campaign"})
		order := must(st, body, "orders")
		st, body = mp.do("POST", "/debits", map[string]any{"amount": 5_000, "order": order,
			"source": map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030}})
		debit := must(st, body, "debits")
		st, body = mp.do("POST", "/debits/"+debit+"/refunds", map[string]any{"amount": 1_000})
		must(st, body, "refunds")
		st, body = mp.do("POST", "/bank_accounts/"+bank+"/credits", map[string]any{"amount": 2_500, "order": order})
		credit := first(body, "credits")
		if st != 201 || credit["status"] != "succeeded" {
			t.Fatalf("credit: %d %v", st, body)
		}
		b := newBrowser(t, base)
		b.signIn(mp.secret)
		p := b.get("/dashboard/orders")
		row := regexp.MustCompile(`(?s)<code>` + order + `</code>.*?</tr>`).FindString(p.body)
		cells := regexp.MustCompile(`<td class="num">([^<]*)</td>`).FindAllStringSubmatch(row, -1)
		var got []string
		for _, c := range cells {
			got = append(got, c[1])
		}
		// Taken in 50.00 less the 10.00 refund; paid out 25.00; the rest in escrow.
		if want := []string{"$40.00", "$15.00", "$25.00", "$10.00"}; !slices.Equal(got, want) {
			t.Fatalf("the order's row shows %v, want %v\n%s", got, want, row)
		}
	})
}

// A credit's page reverses it and a hold's page captures it, through the
// API's own service calls; an action its transaction does not have is not
// found.
func TestCreditsReverseAndHoldsCaptureFromTheirPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		mp.sale(10_000) // escrow to pay the credit from
		st, body := mp.do("POST", "/bank_accounts", map[string]any{"name": "Ada", "account_number": "9900000002", "routing_number": "021000021"})
		bank := first(body, "bank_accounts")["id"].(string)
		st, body = mp.do("POST", "/bank_accounts/"+bank+"/credits", map[string]any{"amount": 3_000})
		if st != 201 {
			t.Fatalf("credit: %d %v", st, body)
		}
		credit := first(body, "credits")["id"].(string)
		st, body = mp.do("POST", "/cards", map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030})
		card := first(body, "cards")["id"].(string)
		st, body = mp.do("POST", "/cards/"+card+"/card_holds", map[string]any{"amount": 4_000})
		if st != 201 {
			t.Fatalf("hold: %d %v", st, body)
		}
		hold := first(body, "card_holds")["id"].(string)

		b := newBrowser(t, base)
		b.signIn(mp.secret)
		act := func(tx, path, amount string) page {
			t.Helper()
			form := b.get("/dashboard/transactions/" + tx)
			if !strings.Contains(form.body, `action="/dashboard/transactions/`+tx+`/`+path+`"`) {
				t.Fatalf("the page of %s has no %s form:\n%s", tx, path, form.body)
			}
			return b.post("/dashboard/transactions/"+tx+"/"+path, url.Values{"csrf": {form.field("csrf")},
				"amount": {amount}, "idempotency_key": {form.field("idempotency_key")}})
		}
		if p := act(credit, "reversals", "5.00"); p.status != http.StatusSeeOther {
			t.Fatalf("reversal: %d %s", p.status, p.body)
		}
		_, body = mp.do("GET", "/credits/"+credit+"/reversals", nil)
		if rv := first(body, "reversals"); rv == nil || rv["amount"] != float64(500) {
			t.Fatalf("the API lists reversals %v", body["reversals"])
		}
		if p := act(hold, "debits", "20.00"); p.status != http.StatusSeeOther {
			t.Fatalf("capture: %d %s", p.status, p.body)
		}
		_, body = mp.do("GET", "/card_holds/"+hold+"/debits", nil)
		if d := first(body, "debits"); d == nil || d["amount"] != float64(2_000) || d["status"] != "succeeded" {
			t.Fatalf("the API lists the hold's debits %v", body["debits"])
		}
		if p := b.get("/dashboard/transactions/" + hold); strings.Contains(p.body, `id="action-form"`) {
			t.Fatal("a captured hold still offers a capture")
		}
		over := b.get("/dashboard/")
		if p := b.post("/dashboard/transactions/"+credit+"/refunds", url.Values{"csrf": {over.field("csrf")},
			"amount": {"1.00"}, "idempotency_key": {"k"}}); p.status != http.StatusNotFound {
			t.Fatalf("a refund of a credit: %d", p.status)
		}
	})
}

func TestAHoldVoidsFromItsPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		_, body := mp.do("POST", "/cards", map[string]any{"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030})
		card := first(body, "cards")["id"].(string)
		_, body = mp.do("POST", "/cards/"+card+"/card_holds", map[string]any{"amount": 4_000})
		hold := first(body, "card_holds")["id"].(string)
		b := newBrowser(t, base)
		b.signIn(mp.secret)
		form := b.get("/dashboard/transactions/" + hold)
		if !strings.Contains(form.body, `id="void-form"`) {
			t.Fatalf("a live hold's page has no void form:\n%s", form.body)
		}
		if p := b.post("/dashboard/transactions/"+hold+"/void", url.Values{}); p.status != http.StatusForbidden {
			t.Fatalf("a void without its token: %d", p.status)
		}
		if p := b.post("/dashboard/transactions/"+hold+"/void", url.Values{"csrf": {form.field("csrf")}}); p.status != http.StatusSeeOther {
			t.Fatalf("void: %d %s", p.status, p.body)
		}
		if st, body := mp.do("POST", "/card_holds/"+hold+"/debits", map[string]any{"amount": 100}); st < 400 || st >= 500 {
			t.Fatalf("the API captured a voided hold: %d %v", st, body)
		}
		if p := b.get("/dashboard/transactions/" + hold); strings.Contains(p.body, `id="void-form"`) || strings.Contains(p.body, `id="action-form"`) {
			t.Fatal("a voided hold still offers an action")
		}
	})
}

func TestAPIKeysPageListsKeysNeverSecrets(t *testing.T) {
	base := newSite(t, "sqlite")
	mp := newMarketplace(t, base)
	_, body := mp.do("POST", "/api_keys", map[string]any{"meta": map[string]any{"for": "reports"}})
	second := first(body, "api_keys")
	other := newMarketplace(t, base)
	_, otherKeys := other.do("GET", "/api_keys", nil)
	b := newBrowser(t, base)
	b.signIn(mp.secret)
	p := b.get("/dashboard/api-keys")
	if p.status != 200 || !strings.Contains(p.body, second["id"].(string)) || !strings.Contains(p.body, "for=reports") {
		t.Fatalf("the keys page: %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, mp.secret) || strings.Contains(p.body, second["secret"].(string)) {
		t.Fatal("the keys page shows a secret")
	}
	if strings.Contains(p.body, first(otherKeys, "api_keys")["id"].(string)) {
		t.Fatal("the keys page shows another marketplace's key")
	}
}

func TestEventsLeadToTheirTransactions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mine, theirs := newMarketplace(t, base), newMarketplace(t, base)
		debit := mine.sale(1_500)
		theirs.sale(2_500)
		_, body := mine.do("GET", "/debits/"+debit+"/events", nil)
		event := first(body, "events")["id"].(string)
		_, body = theirs.do("GET", "/events", nil)
		theirEvent := first(body, "events")["id"].(string)
		b := newBrowser(t, base)
		b.signIn(mine.secret)
		list := b.get("/dashboard/events")
		if list.status != 200 || !strings.Contains(list.body, event) || strings.Contains(list.body, theirEvent) {
			t.Fatalf("the events page: %d\n%s", list.status, list.body)
		}
		p := b.get("/dashboard/events/" + event)
		if p.status != 200 || !strings.Contains(p.body, `href="/dashboard/transactions/`+debit+`"`) || !strings.Contains(p.body, "Callback deliveries") {
			t.Fatalf("the event's page: %d\n%s", p.status, p.body)
		}
		if p := b.get("/dashboard/events/" + theirEvent); p.status != http.StatusNotFound {
			t.Fatalf("another marketplace's event: %d", p.status)
		}
	})
}

// An event's page shows each attempt to deliver it, as the receiver saw it.
func TestAnEventShowsItsDeliveryAttempts(t *testing.T) {
	base, db := newSiteOn(t, storetest.Open(t, "sqlite"))
	mp := newMarketplace(t, base)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer receiver.Close()
	if st, body := mp.do("POST", "/callbacks", map[string]any{"url": receiver.URL + "/hook"}); st != 201 {
		t.Fatalf("callback: %d %v", st, body)
	}
	debit := mp.sale(900)
	d := events.NewDeliverer(db, clock.System(), receiver.Client(), func(ev payments.Resource) ([]byte, error) { return []byte(`{}`), nil })
	if _, _, err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, body := mp.do("GET", "/debits/"+debit+"/events", nil)
	event := first(body, "events")["id"].(string)
	b := newBrowser(t, base)
	b.signIn(mp.secret)
	p := b.get("/dashboard/events/" + event)
	if p.status != 200 || !strings.Contains(p.body, "<td>503</td>") || !strings.Contains(p.body, "retrying") {
		t.Fatalf("the event's page does not show a 503 attempt, retrying:\n%s", p.body)
	}
}

// Deleting the key a session signed in with ends the session at once.
func TestDeletingTheKeyEndsItsSessions(t *testing.T) {
	base := newSite(t, "sqlite")
	mp := newMarketplace(t, base)
	_, body := mp.do("POST", "/api_keys", nil)
	second := first(body, "api_keys")
	b := newBrowser(t, base)
	b.signIn(second["secret"].(string))
	if st, body := mp.do("DELETE", "/api_keys/"+second["id"].(string), nil); st != 204 {
		t.Fatalf("delete: %d %v", st, body)
	}
	if p := b.get("/dashboard/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/sign-in" {
		t.Fatalf("after its key was deleted the session answered %d %q", p.status, p.header.Get("Location"))
	}
}

// A production marketplace runs on real time: its page offers no advance,
// and a forged one is refused by the service as the API refuses it.
func TestAProductionMarketplaceHasNoTestClock(t *testing.T) {
	base := newSite(t, "sqlite")
	anon := &apiClient{t: t, base: base}
	_, key := anon.do("POST", "/api_keys", nil)
	live := &apiClient{t: t, base: base, secret: first(key, "api_keys")["secret"].(string)}
	if st, body := live.do("POST", "/marketplaces", map[string]any{"production": true}); st != 201 {
		t.Fatalf("marketplace: %d %v", st, body)
	}
	b := newBrowser(t, base)
	b.signIn(live.secret)
	p := b.get("/dashboard/test-clock")
	if p.status != 200 || strings.Contains(p.body, `id="clock-form"`) {
		t.Fatalf("a production marketplace's clock page: %d\n%s", p.status, p.body)
	}
	if got := b.post("/dashboard/test-clock", url.Values{"csrf": {p.field("csrf")}, "days": {"1"}}); got.status != http.StatusForbidden {
		t.Fatalf("advancing a production clock: %d", got.status)
	}
	for _, bad := range []string{"0", "-1", "x", "3651"} {
		if got := b.post("/dashboard/test-clock", url.Values{"csrf": {p.field("csrf")}, "days": {bad}}); got.status != http.StatusBadRequest {
			t.Errorf("advancing by %q days: %d", bad, got.status)
		}
	}
}
