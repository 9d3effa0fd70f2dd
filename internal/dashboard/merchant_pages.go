package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
)

// Merchants is what the merchant-balance pages read and do through the
// merchant balance service, the same calls the balance API and the
// Balanced API's administration make.
type Merchants interface {
	Party(ctx context.Context, login string) (payments.Resource, error)
	ControlKey(ctx context.Context, login string) (string, error)
	MerchantBalances(ctx context.Context, party payments.Resource) ([]merchants.MerchantBalance, error)
	UpcomingReleases(ctx context.Context, party payments.Resource, limit int) ([]merchants.DatedRelease, error)
	BalanceNames(ctx context.Context, party payments.Resource) ([]string, error)
	BalanceBucketAccounts(ctx context.Context, party payments.Resource) ([]merchants.BucketAccounts, error)
	Adjust(ctx context.Context, marketplace, merchantID string, in merchants.AdjustmentInput) (payments.Resource, error)
	ApplyAdjustmentFiles(ctx context.Context, marketplace string, manager *payments.Resource, files []balances.ArchiveFile, source string) ([]merchants.FileOutcome, bool, error)
	CreateSchedule(ctx context.Context, marketplace, merchantID string, in merchants.ScheduleInput) (payments.Resource, error)
	SetScheduleStatus(ctx context.Context, marketplace, id string, on bool) (payments.Resource, error)
	EditSchedule(ctx context.Context, marketplace, id string, e merchants.ScheduleEdit) (payments.Resource, error)
	DeleteSchedule(ctx context.Context, marketplace, id string) error
	Reconcile(ctx context.Context, party payments.Resource) (merchants.Reconciliation, error)
	ExportFeed(ctx context.Context, merchant payments.Resource, from, to time.Time, fn func(merchants.EntryDates) error) error
	CreateEndpoint(ctx context.Context, marketplace, merchantID, name, currency string) (payments.Resource, error)
	CreateBalance(ctx context.Context, marketplace, merchantID string, in merchants.BalanceInput) (payments.Resource, error)
	SetBalanceRule(ctx context.Context, marketplace, merchantID string, r merchants.BalanceRule) (payments.Resource, error)
	SetManagerDefaultBalance(ctx context.Context, marketplace, managerID, balance string) (payments.Resource, error)
	SetBalanceCreatedDate(ctx context.Context, marketplace, balanceID string, at time.Time) (payments.Resource, error)
	MoveReserve(ctx context.Context, marketplace, merchantID string) (payments.Resource, error)
}

// Limits of the merchant pages.
const (
	// maxReleasesShown bounds the upcoming releases a balance page reads:
	// a release is one per balance and due instant, so this covers months.
	maxReleasesShown = 200
	// maxPartyList bounds the managers, balances, endpoints and rules one
	// page lists; the service bounds a party's balances at 100 already.
	maxPartyList = 100
	// calendarWeeks is how far ahead the release calendar draws days.
	calendarWeeks = 6
)

// zone is where the merchant pages tell days: New York, where the business
// calendar, release dates and the balance API's days are judged.
var zone = clock.FedCalendar().Location()

func (d *Dashboard) merchantRoutes(m *http.ServeMux) {
	m.Handle("GET "+Prefix+"merchants", d.signedIn(d.merchantsList))
	m.Handle("GET "+Prefix+"merchants/{id}", d.readable(d.merchantBalances))
	m.Handle("GET "+Prefix+"merchants/{id}/configuration", d.readable(d.configuration))
	m.Handle("GET "+Prefix+"merchants/{id}/adjustments", d.readable(d.adjustments))
	m.Handle("GET "+Prefix+"merchants/{id}/adjustments.csv", d.readable(d.adjustmentsCSV))
	m.Handle("GET "+Prefix+"merchants/{id}/scheduled", d.readable(d.scheduled))
	m.Handle("GET "+Prefix+"merchants/{id}/reconciliation", d.readable(d.reconciliation))
	m.Handle("GET "+Prefix+"merchants/{id}/transactions", d.readable(d.merchantTransactions))
	m.Handle("GET "+Prefix+"merchants/{id}/export", d.readable(d.export))
	// What changes a balance is the operator's alone.
	m.Handle("POST "+Prefix+"merchants/{id}/adjustments", d.signedIn(d.adjust))
	m.Handle("POST "+Prefix+"merchants/{id}/scheduled", d.signedIn(d.createSchedule))
	m.Handle("POST "+Prefix+"merchants/{id}/endpoints", d.signedIn(d.createEndpoint))
	m.Handle("POST "+Prefix+"merchants/{id}/balances", d.signedIn(d.createBalance))
	m.Handle("POST "+Prefix+"merchants/{id}/rules", d.signedIn(d.createRule))
	m.Handle("POST "+Prefix+"merchants/{id}/default-balance", d.signedIn(d.setDefaultBalance))
	m.Handle("POST "+Prefix+"merchants/{id}/reserve-moves", d.signedIn(d.moveReserve))
	m.Handle("POST "+Prefix+"balances/{id}/created-date", d.signedIn(d.setCreatedDate))
	m.Handle("POST "+Prefix+"scheduled/{id}/status", d.signedIn(d.toggleSchedule))
	m.Handle("GET "+Prefix+"scheduled/{id}/edit", d.signedIn(d.editScheduleForm))
	m.Handle("POST "+Prefix+"scheduled/{id}/edit", d.signedIn(d.editSchedule))
	m.Handle("POST "+Prefix+"scheduled/{id}/delete", d.signedIn(d.deleteSchedule))
	m.Handle("GET "+Prefix+"adjustment-uploads", d.signedIn(d.uploadForm))
	m.Handle("POST "+Prefix+"adjustment-uploads", d.guard(access{uploadBytes: maxUploadBytes}, d.upload))
}

// partyPath is the balance page of a merchant or manager.
func partyPath(id string) string { return Prefix + "merchants/" + url.PathEscape(id) }

// partyOf reads the merchant or manager a page is about. An operator sees
// every one of its marketplace; a merchant only itself; a manager itself
// and the merchants it oversees. Anything else is not found, as if it did
// not exist.
func (d *Dashboard) partyOf(p *page, id string) (payments.Resource, error) {
	notFound := apperr.New(apperr.NotFound, "no merchant or manager with id %s", id)
	r, err := d.svc.Get(p.ctx, p.mp(), id)
	if apperr.Is(err, apperr.NotFound) {
		return r, notFound
	}
	if err != nil {
		return r, err
	}
	if r.Type != roleMerchants && r.Type != roleManagers {
		return r, notFound
	}
	if p.operator() || p.party.ID == r.ID {
		return r, nil
	}
	if p.party.Type == roleManagers && r.Type == roleMerchants && slices.Contains(overseen(p.party), r.ID) {
		return r, nil
	}
	return r, notFound
}

// overseen lists the merchants a manager oversees.
func overseen(manager payments.Resource) []string {
	list, _ := manager.Fields["merchants"].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, payments.Str(v))
	}
	return out
}

// merchantOf reads a party that must be a merchant: adjustments, schedules,
// transactions and exports are a merchant's.
func (d *Dashboard) merchantOf(p *page, id string) (payments.Resource, error) {
	r, err := d.partyOf(p, id)
	if err == nil && r.Type != roleMerchants {
		return r, apperr.New(apperr.NotFound, "a manager has no %s page; open one of its merchants", p.r.URL.Path)
	}
	return r, err
}

// partyHead is the heading and tabs of every page of a party.
type partyHead struct {
	Party    payments.Resource
	Login    string
	Merchant bool
	Tab      string
	// Operator shows the forms that change things.
	Operator bool
	CSRF     string
}

func headOf(p *page, party payments.Resource, tab string) partyHead {
	return partyHead{Party: party, Login: payments.Str(party.Fields["login"]), Merchant: party.Type == roleMerchants,
		Tab: tab, Operator: p.operator(), CSRF: p.session.csrf}
}

type partyRow struct {
	Party payments.Resource
	Login string
	// Balances are its balances now, read from their accounts.
	Balances []merchants.MerchantBalance
}

type merchantsListData struct {
	Merchants []partyRow
	Managers  []partyRow
	Pager     pager
}

// merchantsList lists the marketplace's merchants, a page at a time, and
// its managers, each with its balances.
func (d *Dashboard) merchantsList(p *page) error {
	list, err := d.listPage(p, payments.ListQuery{Type: "merchants"})
	if err != nil {
		return err
	}
	managers, _, err := d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: "managers", Limit: maxPartyList, WithoutTotal: true})
	if err != nil {
		return err
	}
	data := merchantsListData{Pager: list.Pager}
	for _, group := range []struct {
		in  []payments.Resource
		out *[]partyRow
	}{{list.Items, &data.Merchants}, {managers, &data.Managers}} {
		for _, r := range group.in {
			b, err := d.mer.MerchantBalances(p.ctx, r)
			if err != nil {
				return err
			}
			*group.out = append(*group.out, partyRow{Party: r, Login: payments.Str(r.Fields["login"]), Balances: b})
		}
	}
	return d.showParty(p, http.StatusOK, "merchants", "Merchants", data)
}

type balancePageData struct {
	Head     partyHead
	Balances []merchants.MerchantBalance
	Releases []merchants.DatedRelease
	// ReleasesCut says more releases are due than were read.
	ReleasesCut bool
	Calendar    []calendarWeek
	Now         time.Time
	// Merchants are a manager's merchants.
	Merchants []partyRow
	Charts    []chart
}

// calendarDay is one day of the release calendar.
type calendarDay struct {
	Date              time.Time
	Past, Today       bool
	STHMinor, RRMinor int64
}

type calendarWeek []calendarDay

// releaseCalendar lays releases out on the weeks from the one of now, in
// the marketplace's days.
func releaseCalendar(now time.Time, releases []merchants.DatedRelease) []calendarWeek {
	now = now.In(zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	// Weeks start on Monday, as the business week does.
	start := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	byDay := map[string]*calendarDay{}
	weeks := make([]calendarWeek, calendarWeeks)
	for w := range weeks {
		weeks[w] = make(calendarWeek, 7)
		for i := range 7 {
			day := start.AddDate(0, 0, w*7+i)
			weeks[w][i] = calendarDay{Date: day, Past: day.Before(today), Today: day.Equal(today)}
			byDay[day.Format(dateLayout)] = &weeks[w][i]
		}
	}
	for _, r := range releases {
		if cell, ok := byDay[r.DueAt.In(zone).Format(dateLayout)]; ok {
			cell.STHMinor += r.STHMinor
			cell.RRMinor += r.RRMinor
		}
	}
	return weeks
}

// merchantBalances is a party's balance page: each balance's buckets read
// from its ledger accounts, and the releases still to come.
func (d *Dashboard) merchantBalances(p *page) error {
	party, err := d.partyOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	data := balancePageData{Head: headOf(p, party, "balances")}
	if data.Balances, err = d.mer.MerchantBalances(p.ctx, party); err != nil {
		return err
	}
	releases, err := d.mer.UpcomingReleases(p.ctx, party, maxReleasesShown+1)
	if err != nil {
		return err
	}
	data.ReleasesCut = len(releases) > maxReleasesShown
	data.Releases = releases[:min(len(releases), maxReleasesShown)]
	if data.Now, err = d.svc.NowFor(p.ctx, p.mp()); err != nil {
		return err
	}
	data.Calendar = releaseCalendar(data.Now, data.Releases)
	if data.Charts, err = d.balanceCharts(p, party, data.Balances); err != nil {
		return err
	}
	if party.Type == roleManagers {
		for _, id := range overseen(party) {
			m, err := d.svc.GetTyped(p.ctx, p.mp(), roleMerchants, id)
			if err != nil {
				return err
			}
			b, err := d.mer.MerchantBalances(p.ctx, m)
			if err != nil {
				return err
			}
			data.Merchants = append(data.Merchants, partyRow{Party: m, Login: payments.Str(m.Fields["login"]), Balances: b})
		}
	}
	return d.showParty(p, http.StatusOK, "merchant", "Balances of "+payments.Str(party.Fields["login"]), data)
}

// moveReserve releases a merchant's rolling reserve now.
func (d *Dashboard) moveReserve(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := d.mer.MoveReserve(p.ctx, p.mp(), m.ID); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, partyPath(m.ID), http.StatusSeeOther)
	return nil
}
