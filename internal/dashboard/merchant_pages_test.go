package dashboard_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// controlKey is every test merchant's and manager's control key.
const controlKey = "a control key 12345"

// shop is a marketplace with merchants, set up through the services.
type shop struct {
	t   testing.TB
	s   *site
	api *apiClient
	mp  string
}

func newShop(t testing.TB, kind string) *shop {
	t.Helper()
	s := startSite(t, storetest.Open(t, kind))
	api := newMarketplace(t, s.base)
	_, body := api.do("GET", "/marketplaces", nil)
	return &shop{t: t, s: s, api: api, mp: first(body, "marketplaces")["id"].(string)}
}

// merchant registers a new customer as a merchant with a login.
func (sh *shop) merchant(login, externalID string) (merchant, customer string) {
	sh.t.Helper()
	ctx := context.Background()
	cu, err := sh.s.pay.CreateCustomer(ctx, sh.mp, payments.CustomerInput{})
	if err != nil {
		sh.t.Fatal(err)
	}
	m, err := sh.s.mer.CreateMerchant(ctx, sh.mp, merchants.PartyInput{Login: login, ControlKey: controlKey, Customer: cu.ID,
		ExternalMerchantID: externalID, Enabled: true})
	if err != nil {
		sh.t.Fatal(err)
	}
	return m.ID, cu.ID
}

// holdRule makes a merchant's sales keep reservePercent as rolling reserve
// for 30 days and hold the rest for two days (DAY+2).
func (sh *shop) holdRule(merchant, reservePercent string) {
	sh.t.Helper()
	rate, err := money.ParseRate(reservePercent)
	if err != nil {
		sh.t.Fatal(err)
	}
	if _, err := sh.s.mer.SetBalanceRule(context.Background(), sh.mp, merchant, merchants.BalanceRule{Type: "sale", Action: "add",
		ReserveRate: rate, ReservePeriodDays: 30, DateBump: "DAY+2"}); err != nil {
		sh.t.Fatal(err)
	}
}

// sell debits a card into an order of the customer's: a sale of the merchant.
func (sh *shop) sell(customer string, amountMinor int64) string {
	sh.t.Helper()
	ctx := context.Background()
	card, err := sh.s.pay.CreateCard(ctx, sh.mp, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 12, ExpirationYear: 2030})
	if err != nil {
		sh.t.Fatal(err)
	}
	order, err := sh.s.pay.CreateOrder(ctx, sh.mp, customer, payments.OrderInput{})
	if err != nil {
		sh.t.Fatal(err)
	}
	d, err := sh.s.pay.Debit(ctx, sh.mp, payments.TxInput{AmountMinor: amountMinor, HasAmount: true, Instrument: card.ID, Order: order.ID})
	if err != nil {
		sh.t.Fatal(err)
	}
	return d.ID
}

// balancesOf reads a party's balances as the balance API reports them.
func (sh *shop) balancesOf(id string) []merchants.MerchantBalance {
	sh.t.Helper()
	ctx := context.Background()
	r, err := sh.s.pay.Get(ctx, sh.mp, id)
	if err != nil {
		sh.t.Fatal(err)
	}
	b, err := sh.s.mer.MerchantBalances(ctx, r)
	if err != nil {
		sh.t.Fatal(err)
	}
	return b
}

// signInParty signs a merchant or manager in and returns where it landed.
func (b *browser) signInParty(login, key string) page {
	b.t.Helper()
	form := b.get("/dashboard/sign-in")
	return b.post("/dashboard/sign-in/party", url.Values{"csrf": {form.field("csrf")}, "login": {login}, "control_key": {key}})
}

var bucketCell = regexp.MustCompile(`<td class="num (current|live|sth|rr|buffer)">([^<]*)</td>`)

// buckets reads the first balance row of a balance page.
func (p page) buckets() map[string]string {
	out := map[string]string{}
	for _, m := range bucketCell.FindAllStringSubmatch(p.body, -1) {
		if _, seen := out[m[1]]; !seen {
			out[m[1]] = m[2]
		}
	}
	return out
}

// A merchant signs in with its login and control key and sees its own
// balance, the same the balance API reports, and the release still to
// come; it finds no page of another merchant, nor any operator's page,
// and may change nothing.
func TestMerchantSeesOnlyItsOwnBalances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		sh := newShop(t, kind)
		mine, myCustomer := sh.merchant("mine-"+kind, "")
		theirs, theirCustomer := sh.merchant("theirs-"+kind, "")
		sh.holdRule(mine, "10")
		sh.sell(myCustomer, 10_000)
		sh.sell(theirCustomer, 7_700)

		b := newBrowser(t, sh.s.base)
		if p := b.signInParty("mine-"+kind, "not the control key"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "do not match") {
			t.Fatalf("a wrong control key: %d", p.status)
		}
		if p := b.signInParty("nobody-"+kind, controlKey); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "do not match") {
			t.Fatalf("an unknown login: %d", p.status)
		}
		p := b.signInParty("mine-"+kind, controlKey)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/merchants/"+mine {
			t.Fatalf("sign-in: %d %q", p.status, p.header.Get("Location"))
		}
		if c := p.header.Get("Set-Cookie"); !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") || strings.Contains(c, controlKey) {
			t.Fatalf("session cookie %q", c)
		}
		page := b.get("/dashboard/merchants/" + mine)
		// The model: a 10% reserve of $100.00, the other $90.00 held two
		// days, nothing live yet.
		want := map[string]string{"current": "$100.00", "live": "$0.00", "sth": "$90.00", "rr": "$10.00", "buffer": "$0.00"}
		got := page.buckets()
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s shows %q, want %q\n%v", k, got[k], v, got)
			}
		}
		api := sh.balancesOf(mine)[0]
		if api.CurrentMinor != 10_000 || api.STHMinor != 9_000 || api.RRMinor != 1_000 {
			t.Fatalf("the balance API reads %+v", api.Buckets)
		}
		if !strings.Contains(page.body, `<span class="sth">hold $90.00</span>`) {
			t.Fatalf("the calendar lacks the hold's release:\n%s", page.body)
		}
		if strings.Contains(page.body, "77.00") || strings.Contains(page.body, theirs) {
			t.Fatal("a merchant's page shows another merchant")
		}

		for _, path := range []string{"", "/configuration", "/adjustments", "/adjustments.csv", "/scheduled", "/reconciliation", "/transactions", "/export"} {
			if p := b.get("/dashboard/merchants/" + theirs + path); p.status != http.StatusNotFound || strings.Contains(p.body, "77.00") {
				t.Errorf("another merchant's %q: %d", path, p.status)
			}
			if p := b.get("/dashboard/merchants/" + mine + path); p.status != http.StatusOK {
				t.Errorf("its own %q: %d %s", path, p.status, p.body)
			}
		}
		if p := b.get("/dashboard/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/merchants/"+mine {
			t.Fatalf("a merchant's overview: %d %q", p.status, p.header.Get("Location"))
		}
		for _, path := range []string{"/dashboard/transactions", "/dashboard/merchants", "/dashboard/api-keys", "/dashboard/test-clock", "/dashboard/adjustment-uploads",
			"/dashboard/customers/" + myCustomer} {
			if p := b.get(path); p.status != http.StatusNotFound {
				t.Errorf("a merchant opened the operator's %s: %d", path, p.status)
			}
		}
		// Read only: a merchant's form to adjust its own balance is refused
		// and moves nothing.
		csrf := page.field("csrf")
		p = b.post("/dashboard/merchants/"+mine+"/adjustments", url.Values{"csrf": {csrf}, "direction": {"credit"}, "amount": {"5"},
			"external_source": {"me"}, "idempotency_key": {"k"}})
		if p.status != http.StatusNotFound {
			t.Fatalf("a merchant's adjustment: %d", p.status)
		}
		if p := b.post("/dashboard/test-clock", url.Values{"csrf": {csrf}, "days": {"1"}}); p.status != http.StatusNotFound {
			t.Fatalf("a merchant moved the clock: %d", p.status)
		}
		if p := b.post("/dashboard/customers/"+myCustomer+"/debits", url.Values{"csrf": {csrf}, "amount": {"5"}, "idempotency_key": {"k2"}}); p.status != http.StatusNotFound {
			t.Fatalf("a merchant's sale: %d", p.status)
		}
		if got := sh.balancesOf(mine)[0].CurrentMinor; got != 10_000 {
			t.Fatalf("a refused form moved the balance to %d", got)
		}
		if p := b.post("/dashboard/sign-out", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", p.status)
		}
		if p := b.get("/dashboard/merchants/" + mine); p.status != http.StatusSeeOther {
			t.Fatalf("after sign-out: %d", p.status)
		}
	})
}

// A manager sees its own balances and those of the merchants it
// oversees, and no other merchant's.
func TestManagerSeesItsMerchants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		sh := newShop(t, kind)
		mine, myCustomer := sh.merchant("kept-"+kind, "")
		other, _ := sh.merchant("other-"+kind, "")
		mg, err := sh.s.mer.CreateManager(context.Background(), sh.mp, merchants.PartyInput{Login: "boss-" + kind, ControlKey: controlKey, Merchants: []string{mine}})
		if err != nil {
			t.Fatal(err)
		}
		sh.sell(myCustomer, 4_200)
		b := newBrowser(t, sh.s.base)
		if p := b.signInParty("boss-"+kind, controlKey); p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/merchants/"+mg.ID {
			t.Fatalf("manager sign-in: %d %q", p.status, p.header.Get("Location"))
		}
		page := b.get("/dashboard/merchants/" + mg.ID)
		if page.status != 200 || page.buckets()["current"] != "$42.00" || !strings.Contains(page.body, "/dashboard/merchants/"+mine) {
			t.Fatalf("the manager's page: %d %v", page.status, page.buckets())
		}
		if p := b.get("/dashboard/merchants/" + mine); p.status != 200 || p.buckets()["current"] != "$42.00" {
			t.Fatalf("its merchant's page: %d %v", p.status, p.buckets())
		}
		if p := b.get("/dashboard/merchants/" + other); p.status != http.StatusNotFound {
			t.Fatalf("a merchant it does not oversee: %d", p.status)
		}
	})
}

// operator signs the shop's operator in.
func (sh *shop) operator() *browser {
	b := newBrowser(sh.t, sh.s.base)
	b.signIn(sh.api.secret)
	return b
}

// adjustmentsOf lists a merchant's adjustments through the API.
func (sh *shop) adjustmentsOf(merchant string) []map[string]any {
	sh.t.Helper()
	st, body := sh.api.do("GET", "/merchants/"+merchant+"/adjustments?limit=100", nil)
	if st != 200 {
		sh.t.Fatalf("adjustments: %d %v", st, body)
	}
	var out []map[string]any
	for _, a := range body["adjustments"].([]any) {
		out = append(out, a.(map[string]any))
	}
	return out
}

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts an archive through the upload form.
func (b *browser) upload(csrf string, archive []byte) page {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if csrf != "" {
		w.WriteField("csrf", csrf)
	}
	w.WriteField("external_source", "monthly")
	f, _ := w.CreateFormFile("archive", "adjustments.zip")
	f.Write(archive)
	w.Close()
	resp, err := b.c.Post(b.base+"/dashboard/adjustment-uploads", w.FormDataContentType(), &body)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, resp)
}

// Adjustments from the pages: a manual form acts once per submit, an
// archive with bad lines is refused whole with every bad line named, a
// good one applies, and the list sorts and downloads as CSV with the sum
// on its first line.
func TestAdjustmentPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		sh := newShop(t, kind)
		m, _ := sh.merchant("adj-"+kind, "EXT-"+kind)
		b := sh.operator()
		list := b.get("/dashboard/merchants/" + m + "/adjustments")
		if list.status != 200 {
			t.Fatalf("adjustments: %d %s", list.status, list.body)
		}
		send := func(direction, amount, source, key string) page {
			return b.post("/dashboard/merchants/"+m+"/adjustments", url.Values{"csrf": {list.field("csrf")}, "direction": {direction},
				"amount": {amount}, "external_source": {source}, "idempotency_key": {key}})
		}
		if p := send("credit", "10", "", "k0"); p.status != http.StatusBadRequest {
			t.Fatalf("no external source: %d", p.status)
		}
		key := list.field("idempotency_key")
		if p, again := send("credit", "10.00", "support", key), send("credit", "10.00", "support", key); p.status != http.StatusSeeOther || again.status != http.StatusSeeOther {
			t.Fatalf("credit: %d, again %d", p.status, again.status)
		}
		if p := send("debit", "3", "fee", "k2"); p.status != http.StatusSeeOther {
			t.Fatalf("debit: %d %s", p.status, p.body)
		}
		if n := len(sh.adjustmentsOf(m)); n != 2 {
			t.Fatalf("%d adjustments after a credit sent twice and a debit", n)
		}

		bad := "5.00\t\tB-1\tEXT-" + kind + "\t\nabc\t\tB-2\tEXT-" + kind + "\t\n2.00\t\tB-3\tNOBODY\t\n"
		p := b.upload(list.field("csrf"), zipOf(t, map[string]string{"bad.tsv": bad}))
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "refused") {
			t.Fatalf("a bad file: %d\n%s", p.status, p.body)
		}
		lines := regexp.MustCompile(`<tr><td class="num">(\d+)</td>`).FindAllStringSubmatch(p.body, -1)
		if len(lines) == 0 || lines[0][1] != "2" {
			t.Fatalf("the bad line is not named: %v\n%s", lines, p.body)
		}
		if n := len(sh.adjustmentsOf(m)); n != 2 {
			t.Fatalf("a refused file applied: %d adjustments", n)
		}
		if p := b.upload("", zipOf(t, map[string]string{"good.tsv": "4.00\t\tG-1\tEXT-" + kind + "\t\n"})); p.status != http.StatusForbidden {
			t.Fatalf("an upload without its token: %d", p.status)
		}
		p = b.upload(list.field("csrf"), zipOf(t, map[string]string{"good.tsv": "4.00\t\tG-1\tEXT-" + kind + "\t\n\t0.50\tG-2\tEXT-" + kind + "\t\n"}))
		if p.status != http.StatusOK || !strings.Contains(p.body, "applied, 2 adjustments") {
			t.Fatalf("a good file: %d\n%s", p.status, p.body)
		}
		if got := sh.balancesOf(m)[0].CurrentMinor; got != 1_000-300+400-50 {
			t.Fatalf("the balance is %d after +10 −3 +4 −0.50", got)
		}

		amounts := regexp.MustCompile(`<td class="num">(-?\$[0-9.,]+)</td>`)
		order := func(sort string) []string {
			p := b.get("/dashboard/merchants/" + m + "/adjustments?sort=" + sort)
			var out []string
			for _, x := range amounts.FindAllStringSubmatch(p.body, -1) {
				out = append(out, x[1])
			}
			return out
		}
		if got := strings.Join(order("largest"), " "); got != "$10.00 $4.00 -$0.50 -$3.00" {
			t.Fatalf("largest first: %s", got)
		}
		if got := strings.Join(order("oldest"), " "); got != "$10.00 -$3.00 $4.00 -$0.50" {
			t.Fatalf("oldest first: %s", got)
		}
		if p := b.get("/dashboard/merchants/" + m + "/adjustments?sort=sideways"); p.status != http.StatusBadRequest {
			t.Fatalf("an unknown sort: %d", p.status)
		}
		csvPage := b.get("/dashboard/merchants/" + m + "/adjustments.csv")
		r := csv.NewReader(strings.NewReader(csvPage.body))
		r.FieldsPerRecord = -1 // the first line is the date and the sum
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 6 || rows[0][1] != "10.50" || rows[1][0] != "id" {
			t.Fatalf("CSV: %v", rows)
		}
	})
}

// Scheduled adjustments from the pages: refused without the risk
// acknowledgement, listed with the seed's columns, turned off and on,
// edited and deleted.
func TestScheduledAdjustmentPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		sh := newShop(t, kind)
		m, _ := sh.merchant("sched-"+kind, "")
		b := sh.operator()
		pg := b.get("/dashboard/merchants/" + m + "/scheduled")
		form := url.Values{"csrf": {pg.field("csrf")}, "idempotency_key": {pg.field("idempotency_key")}, "period": {"monthly"},
			"first_date": {"2031-01-31"}, "last_date": {"2031-12-31"}, "direction": {"debit"}, "amount": {"25"},
			"external_source": {"monthly fee"}, "stop_at_zero_balance": {"on"}}
		if p := b.post("/dashboard/merchants/"+m+"/scheduled", form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "acknowledge") {
			t.Fatalf("without the acknowledgement: %d", p.status)
		}
		form.Set("idempotency_key", "another")
		form.Set("risk_acknowledged", "on")
		if p := b.post("/dashboard/merchants/"+m+"/scheduled", form); p.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", p.status, p.body)
		}
		_, body := sh.api.do("GET", "/merchants/"+m+"/scheduled_adjustments", nil)
		list, _ := body["scheduled_adjustments"].([]any)
		if len(list) != 1 {
			t.Fatalf("%d schedules after one refused and one made", len(list))
		}
		sa := list[0].(map[string]any)
		id := sa["id"].(string)
		if sa["amount"] != float64(-2_500) || sa["risk_acknowledged"] != true || sa["stop_at_zero_balance"] != true || sa["stop_when_merchant_disabled"] != false {
			t.Fatalf("the schedule as the API shows it: %v", sa)
		}
		pg = b.get("/dashboard/merchants/" + m + "/scheduled")
		for _, want := range []string{id, "monthly", "2031-01-31 – 2031-12-31", "-$25.00", "never", "stops when the balance is zero or below", `id="toggle-` + id + `"`} {
			if !strings.Contains(pg.body, want) {
				t.Fatalf("the schedules page lacks %q:\n%s", want, pg.body)
			}
		}
		status := func() string {
			_, body := sh.api.do("GET", "/scheduled_adjustments/"+id, nil)
			return first(body, "scheduled_adjustments")["status"].(string)
		}
		if p := b.post("/dashboard/scheduled/"+id+"/status", url.Values{"csrf": {pg.field("csrf")}, "status": {"off"}}); p.status != http.StatusSeeOther || status() != "off" {
			t.Fatalf("turning off: %d, status %s", p.status, status())
		}
		if p := b.post("/dashboard/scheduled/"+id+"/status", url.Values{"csrf": {pg.field("csrf")}, "status": {"on"}}); p.status != http.StatusSeeOther || status() != "on" {
			t.Fatalf("turning on: %d, status %s", p.status, status())
		}
		if p := b.get("/dashboard/scheduled/" + id + "/edit"); p.status != 200 || !strings.Contains(p.body, `value="25.00"`) {
			t.Fatalf("edit form: %d", p.status)
		}
		if p := b.post("/dashboard/scheduled/"+id+"/edit", url.Values{"csrf": {pg.field("csrf")}, "direction": {"debit"}, "amount": {"30"},
			"last_date": {"2031-06-30"}}); p.status != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", p.status, p.body)
		}
		_, body = sh.api.do("GET", "/scheduled_adjustments/"+id, nil)
		if sa := first(body, "scheduled_adjustments"); sa["amount"] != float64(-3_000) || sa["stop_at_zero_balance"] != false || !strings.HasPrefix(sa["last_date"].(string), "2031-06-30") {
			t.Fatalf("after the edit: %v", sa)
		}
		if p := b.post("/dashboard/scheduled/"+id+"/delete", url.Values{"csrf": {pg.field("csrf")}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.status)
		}
		if pg := b.get("/dashboard/merchants/" + m + "/scheduled"); strings.Contains(pg.body, `data-id="`+id+`"`) {
			t.Fatal("a deleted schedule is still listed")
		}
	})
}

// A hold shows on the calendar until the marketplace's test clock passes
// its date, and then is live: the page reads it live as the balance API
// does, before any scheduler has posted the release.
func TestHoldBecomesLiveAsTheTestClockAdvances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		sh := newShop(t, kind)
		m, cu := sh.merchant("clock-"+kind, "")
		sh.holdRule(m, "10")
		sh.sell(cu, 20_000)
		b := sh.operator()
		before := b.get("/dashboard/merchants/" + m)
		if got := before.buckets(); got["live"] != "$0.00" || got["sth"] != "$180.00" || got["rr"] != "$20.00" {
			t.Fatalf("at the sale: %v", got)
		}
		if !strings.Contains(before.body, "hold $180.00") {
			t.Fatal("the calendar does not show the hold's release")
		}
		if p := b.post("/dashboard/test-clock", url.Values{"csrf": {before.field("csrf")}, "days": {"3"}}); p.status != http.StatusSeeOther {
			t.Fatalf("advance: %d %s", p.status, p.body)
		}
		after := b.get("/dashboard/merchants/" + m)
		if got := after.buckets(); got["live"] != "$180.00" || got["sth"] != "$0.00" || got["rr"] != "$20.00" || got["current"] != "$200.00" {
			t.Fatalf("three days on: %v", got)
		}
		if strings.Contains(after.body, "hold $180.00") {
			t.Fatal("the released hold is still on the calendar")
		}
		if api := sh.balancesOf(m)[0]; api.LiveMinor != 18_000 || api.RRMinor != 2_000 {
			t.Fatalf("the balance API reads %+v", api.Buckets)
		}
		// Moving the reserve by hand makes all of it live.
		if p := b.post("/dashboard/merchants/"+m+"/reserve-moves", url.Values{"csrf": {before.field("csrf")}}); p.status != http.StatusSeeOther {
			t.Fatalf("move reserve: %d %s", p.status, p.body)
		}
		if got := b.get("/dashboard/merchants/" + m).buckets(); got["live"] != "$200.00" || got["rr"] != "$0.00" {
			t.Fatalf("after moving the reserve: %v", got)
		}
	})
}

// The export holds the transactions of [from, to) and no others, and the
// transactions page lists the same.
func TestExportIsTheWindowHalfOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		sh := newShop(t, kind)
		m, cu := sh.merchant("export-"+kind, "")
		sh.sell(cu, 1_000)
		sh.sell(cu, 2_000)
		b := newBrowser(t, sh.s.base)
		b.signInParty("export-"+kind, controlKey)
		now, err := sh.s.pay.NowFor(context.Background(), sh.mp)
		if err != nil {
			t.Fatal(err)
		}
		today := now.In(nyZone(t)).Format("2006-01-02")
		tomorrow := now.In(nyZone(t)).AddDate(0, 0, 1).Format("2006-01-02")
		rowsOf := func(from, to string) [][]string {
			p := b.get("/dashboard/merchants/" + m + "/export?from=" + from + "&to=" + to)
			if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") {
				t.Fatalf("export: %d %s", p.status, p.body)
			}
			rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			return rows[1:]
		}
		rows := rowsOf(today, tomorrow)
		if len(rows) != 2 || rows[0][2] != "10.00" || rows[1][2] != "20.00" || rows[0][1] != "sale" {
			t.Fatalf("today's export: %v", rows)
		}
		if rows := rowsOf(tomorrow, now.In(nyZone(t)).AddDate(0, 0, 2).Format("2006-01-02")); len(rows) != 0 {
			t.Fatalf("tomorrow's export: %v", rows)
		}
		// [today, today) is empty, and refused as a window.
		if p := b.get("/dashboard/merchants/" + m + "/export?from=" + today + "&to=" + today); p.status != http.StatusBadRequest {
			t.Fatalf("an empty window: %d", p.status)
		}
		list := b.get("/dashboard/merchants/" + m + "/transactions?from=" + today + "&to=" + tomorrow)
		if !strings.Contains(list.body, "2 transactions") || !strings.Contains(list.body, "$30.00") {
			t.Fatalf("the transactions page:\n%s", list.body)
		}
	})
}

// The configuration forms make balances and rules with the seed's fields,
// and reconciliation finds the balance whole.
func TestConfigurationAndReconciliationPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		sh := newShop(t, kind)
		m, cu := sh.merchant("conf-"+kind, "")
		b := sh.operator()
		cfg := b.get("/dashboard/merchants/" + m + "/configuration")
		csrf := cfg.field("csrf")
		if p := b.post("/dashboard/merchants/"+m+"/endpoints", url.Values{"csrf": {csrf}, "name": {"web shop"}, "currency": {"USD"}}); p.status != http.StatusSeeOther {
			t.Fatalf("endpoint: %d %s", p.status, p.body)
		}
		if p := b.post("/dashboard/merchants/"+m+"/balances", url.Values{"csrf": {csrf}, "name": {"Main"}, "currency": {"USD"}, "kind": {"account"}}); p.status != http.StatusSeeOther {
			t.Fatalf("balance: %d %s", p.status, p.body)
		}
		rule := url.Values{"csrf": {csrf}, "transaction_type": {"sale"}, "action": {"add"}, "fee_rate": {"2.9"}, "fee_fixed": {"0.30"},
			"reserve_rate": {"5"}, "reserve_period_days": {"90"}, "date_bump": {"BDAY+2"}, "balance": {"Main"}, "gate": {"card"}}
		if p := b.post("/dashboard/merchants/"+m+"/rules", rule); p.status != http.StatusSeeOther {
			t.Fatalf("rule: %d %s", p.status, p.body)
		}
		rule.Set("date_bump", "NEXT+TUESDAY")
		if p := b.post("/dashboard/merchants/"+m+"/rules", rule); p.status != http.StatusBadRequest {
			t.Fatalf("a bad date bump: %d", p.status)
		}
		_, body := sh.api.do("GET", "/merchants/"+m+"/balance_rules", nil)
		rules, _ := body["balance_rules"].([]any)
		if len(rules) != 1 {
			t.Fatalf("%d rules after one good and one bad", len(rules))
		}
		r := rules[0].(map[string]any)
		if r["fee_rate"] != "2.9" || r["fee_fixed"] != float64(30) || r["reserve_rate"] != "5" || r["reserve_period_days"] != float64(90) ||
			r["date_bump"] != "BDAY+2" || r["balance"] != "Main" || r["gate"] != "card" {
			t.Fatalf("the rule as the API shows it: %v", r)
		}
		cfg = b.get("/dashboard/merchants/" + m + "/configuration")
		for _, want := range []string{"web shop", "Main", "BDAY+2", "2.9%", "$0.30"} {
			if !strings.Contains(cfg.body, want) {
				t.Fatalf("the configuration page lacks %q", want)
			}
		}
		// A manager of the merchant takes its balance as default ("Def.").
		mg, err := sh.s.mer.CreateManager(context.Background(), sh.mp, managerInput("conf-boss-"+kind, m))
		if err != nil {
			t.Fatal(err)
		}
		if p := b.post("/dashboard/merchants/"+mg.ID+"/default-balance", url.Values{"csrf": {csrf}, "balance": {"Nowhere"}}); p.status != http.StatusNotFound {
			t.Fatalf("a default balance no merchant has: %d", p.status)
		}
		if p := b.post("/dashboard/merchants/"+mg.ID+"/default-balance", url.Values{"csrf": {csrf}, "balance": {"Main"}}); p.status != http.StatusSeeOther {
			t.Fatalf("default balance: %d %s", p.status, p.body)
		}
		_, body = sh.api.do("GET", "/managers/"+mg.ID, nil)
		if got := first(body, "managers")["default_balance"]; got != "Main" {
			t.Fatalf("the manager's default balance is %v", got)
		}
		if p := b.get("/dashboard/merchants/" + mg.ID + "/configuration"); !strings.Contains(p.body, `id="default-balance">Main<`) {
			t.Fatal("the manager's page does not show its default balance")
		}
		sh.sell(cu, 10_000)
		rec := b.get("/dashboard/merchants/" + m + "/reconciliation?run=1")
		if rec.status != 200 || !strings.Contains(rec.body, "Reconciled") {
			t.Fatalf("reconciliation: %d\n%s", rec.status, rec.body)
		}
		if tab := b.get("/dashboard/merchants/" + m + "/reconciliation"); tab.status != 200 || strings.Contains(tab.body, "Reconciled") {
			t.Fatalf("the tab ran the check unasked: %d", tab.status)
		}
		// 2.9% of $100.00 and $0.30: a fee of $3.20.
		if !strings.Contains(rec.body, `id="rec-fees">$3.20<`) {
			t.Fatalf("the fees reconciled are not $3.20:\n%s", rec.body)
		}
	})
}

// nyZone is where the marketplace's days are told.
func nyZone(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// managerInput is a manager overseeing merchants.
func managerInput(login string, merchantIDs ...string) merchants.PartyInput {
	return merchants.PartyInput{Login: login, ControlKey: controlKey, Merchants: merchantIDs}
}

// Another marketplace's operator finds none of a merchant's pages and can
// change nothing of it; wrong control keys count against the sign-in
// limit like wrong secrets.
func TestAnotherMarketplaceFindsNoMerchant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		sh := newShop(t, kind)
		m, cu := sh.merchant("guarded-"+kind, "EXT-G")
		sh.sell(cu, 3_000)
		sched, err := sh.s.mer.CreateSchedule(context.Background(), sh.mp, m, merchants.ScheduleInput{Period: "monthly",
			First: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), AmountMinor: -100, Acknowledged: true})
		if err != nil {
			t.Fatal(err)
		}
		other := newMarketplace(t, sh.s.base)
		b := newBrowser(t, sh.s.base)
		over := b.signIn(other.secret)
		csrf := over.field("csrf")
		for _, path := range []string{"", "/configuration", "/adjustments", "/adjustments.csv", "/scheduled", "/reconciliation?run=1", "/transactions", "/export"} {
			if p := b.get("/dashboard/merchants/" + m + path); p.status != http.StatusNotFound || strings.Contains(p.body, "guarded") {
				t.Errorf("another marketplace's %q: %d", path, p.status)
			}
		}
		for path, form := range map[string]url.Values{
			"/dashboard/merchants/" + m + "/adjustments":   {"direction": {"credit"}, "amount": {"5"}, "external_source": {"x"}, "idempotency_key": {"k"}},
			"/dashboard/merchants/" + m + "/reserve-moves": {},
			"/dashboard/scheduled/" + sched.ID + "/status": {"status": {"off"}},
			"/dashboard/scheduled/" + sched.ID + "/delete": {},
		} {
			form.Set("csrf", csrf)
			if p := b.post(path, form); p.status != http.StatusNotFound {
				t.Errorf("another marketplace's POST %s: %d", path, p.status)
			}
		}
		// An upload naming the merchant's external ID finds no such merchant.
		if p := b.upload(csrf, zipOf(t, map[string]string{"a.tsv": "5.00\t\tX-1\tEXT-G\t\n"})); p.status != http.StatusBadRequest || !strings.Contains(p.body, "EXT-G") {
			t.Fatalf("an upload naming another marketplace's merchant: %d", p.status)
		}
		if got := sh.balancesOf(m)[0].CurrentMinor; got != 3_000 {
			t.Fatalf("the merchant's balance moved to %d", got)
		}
		_, body := sh.api.do("GET", "/scheduled_adjustments/"+sched.ID, nil)
		if s := first(body, "scheduled_adjustments"); s["status"] != "on" {
			t.Fatalf("the schedule is %v", s["status"])
		}

		guess := newBrowser(t, sh.s.base)
		for range 5 {
			if p := guess.signInParty("guarded-"+kind, "a wrong control key"); p.status != http.StatusUnauthorized {
				t.Fatalf("a wrong key: %d", p.status)
			}
		}
		if p := guess.signInParty("guarded-"+kind, controlKey); p.status != http.StatusTooManyRequests {
			t.Fatalf("the sixth try in the window: %d", p.status)
		}
	})
}
