package dashboard

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
)

// Paging limits of the lists.
const (
	// pageSize is the rows one list page shows: a screenful.
	pageSize = 25
	// maxPage bounds how deep a list pages: skipping rows costs time in
	// proportion to them (about 60 ms for 50,000 on SQLite), so a request
	// skips at most 10,000; the date filters reach anything older.
	maxPage = 10_000 / pageSize
	// maxLifecycleEvents bounds the events a transaction's page shows: a
	// transaction goes through a handful of states.
	maxLifecycleEvents = 50
	// maxRelated bounds the refunds, reversals or captures listed under a
	// transaction, and the refunds summed for an order's row.
	maxRelated = 100
	// maxAdvanceDays bounds one advance of a test clock from the page: ten
	// years, as the API's own bound.
	maxAdvanceDays = 10 * 365
)

// transactionTypes are the kinds of transaction the pages list, in the
// order of their tabs.
var transactionTypes = []string{"debits", "credits", "refunds", "reversals", "card_holds", "settlements"}

// transactionStatuses are the statuses a list filters on.
var transactionStatuses = []string{"pending", "succeeded", "failed"}

// balanceOf reads an account's materialized balance; an account nothing
// has posted to yet holds nothing.
func (d *Dashboard) balanceOf(p *page, id string) (ledger.Balance, error) {
	a, err := d.accounts.Account(p.ctx, id)
	if errors.Is(err, ledger.ErrNotFound) || apperr.Is(err, apperr.NotFound) {
		return ledger.Balance{}, nil
	}
	return a.Balance, err
}

type overviewData struct {
	Name               string
	ID                 string
	Production         bool
	Escrow             payments.EscrowReport
	CardsNet, BanksNet int64
	Volume             *chart
}

// ageLabel names an escrow age bucket in days: "0–6 days", "30 days and
// more".
func ageLabel(b payments.AgeBucket) string {
	if b.ToDays < 0 {
		return strconv.Itoa(b.FromDays) + " days and more"
	}
	return strconv.Itoa(b.FromDays) + "–" + strconv.Itoa(b.ToDays) + " days"
}

// overview shows where the marketplace's money is, from the ledger's
// materialized balances: each figure is one account row.
func (d *Dashboard) overview(p *page) error {
	mp, err := d.svc.GetTyped(p.ctx, p.mp(), "marketplaces", p.mp())
	if err != nil {
		return err
	}
	data := overviewData{Name: payments.Str(mp.Fields["name"]), ID: mp.ID, Production: payments.Bool(mp.Fields["production"])}
	// The escrow as the API reports it (in_escrow is what is available),
	// with its money by age against the 30-day rule.
	if data.Escrow, err = d.svc.EscrowOf(p.ctx, p.mp(), p.mp()); err != nil {
		return err
	}
	cards, err := d.balanceOf(p, payments.CardNetworkAccount(p.mp()))
	if err != nil {
		return err
	}
	banks, err := d.balanceOf(p, payments.BankNetworkAccount(p.mp()))
	if err != nil {
		return err
	}
	// A network account goes negative by what was taken from it and up by
	// what was paid into it; shown the other way round, as the money the
	// marketplace took in net of what it paid back out.
	data.CardsNet, data.BanksNet = -cards.PostedMinor, -banks.PostedMinor
	if data.Volume, err = d.volumeChart(p); err != nil {
		return err
	}
	return d.show(p, "overview", "Overview", data)
}

// pager is one page of a list and the links around it. Lists are never
// counted: counting every match of a marketplace of 10^5 transactions
// costs more than the page, so a page asks for one row more than it shows
// to know whether another follows.
type pager struct {
	Page       int
	Prev, Next string
}

// pageOf reads ?page= (from 1), bounded by maxPage.
func pageOf(r *http.Request) (int, error) {
	s := r.URL.Query().Get("page")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPage {
		return 0, apperr.New(apperr.Invalid, "page must be a number from 1 to %d", maxPage)
	}
	return n, nil
}

func pagerOf(r *http.Request, page int, more bool) pager {
	pg := pager{Page: page}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if page > 1 {
		pg.Prev = link(page - 1)
	}
	if more && page < maxPage {
		pg.Next = link(page + 1)
	}
	return pg
}

type listData struct {
	Items []payments.Resource
	Pager pager
}

// listPage reads one page of a type, newest first.
func (d *Dashboard) listPage(p *page, q payments.ListQuery) (listData, error) {
	n, err := pageOf(p.r)
	if err != nil {
		return listData{}, err
	}
	q.Marketplace, q.Limit, q.Offset, q.WithoutTotal = p.mp(), pageSize+1, (n-1)*pageSize, true
	items, _, err := d.svc.List(p.ctx, q)
	if err != nil {
		return listData{}, err
	}
	more := len(items) > pageSize
	return listData{Items: items[:min(len(items), pageSize)], Pager: pagerOf(p.r, n, more)}, nil
}

func (d *Dashboard) customers(p *page) error {
	data, err := d.listPage(p, payments.ListQuery{Type: "customers"})
	if err != nil {
		return err
	}
	return d.show(p, "customers", "Customers", data)
}

type orderRow struct {
	Order payments.Resource
	// AmountMinor is what the order took in, net of refunds (the order's
	// own amount); EscrowedMinor what its escrow account holds; PaidMinor
	// the difference, paid out to the merchant net of reversals.
	AmountMinor, EscrowedMinor, PaidMinor, RefundedMinor int64
	// RefundsCut says more refunds exist than were summed.
	RefundsCut bool
}

func (d *Dashboard) orders(p *page) error {
	list, err := d.listPage(p, payments.ListQuery{Type: "orders"})
	if err != nil {
		return err
	}
	rows := make([]orderRow, 0, len(list.Items))
	for _, o := range list.Items {
		amount, escrow, err := d.svc.OrderTotals(p.ctx, o)
		if err != nil {
			return err
		}
		refunds, _, err := d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: "refunds", LinkRel: "order", LinkTarget: o.ID,
			Limit: maxRelated + 1, WithoutTotal: true})
		if err != nil {
			return err
		}
		row := orderRow{Order: o, AmountMinor: amount, EscrowedMinor: escrow.PostedMinor, RefundsCut: len(refunds) > maxRelated}
		refunds = refunds[:min(len(refunds), maxRelated)]
		row.PaidMinor = row.AmountMinor - row.EscrowedMinor
		for _, rf := range refunds {
			row.RefundedMinor += payments.Int(rf.Fields["amount"])
		}
		rows = append(rows, row)
	}
	return d.show(p, "orders", "Orders", struct {
		Rows  []orderRow
		Pager pager
	}{rows, list.Pager})
}

type transactionsData struct {
	Types, Statuses []string
	Type, Status    string
	From, To        string
	Items           []payments.Resource
	Pager           pager
}

// dateLayout is the form of the list's date filters, as a date input sends it.
const dateLayout = "2006-01-02"

// transactions lists one kind of transaction, filtered by status and by
// the UTC dates it was created between, through the store's list query.
func (d *Dashboard) transactions(p *page) error {
	q := p.r.URL.Query()
	data := transactionsData{Types: transactionTypes, Statuses: transactionStatuses,
		Type: q.Get("type"), Status: q.Get("status"), From: q.Get("from"), To: q.Get("to")}
	if data.Type == "" {
		data.Type = "debits"
	}
	if !slices.Contains(transactionTypes, data.Type) {
		return apperr.New(apperr.Invalid, "type must be one of %v", transactionTypes)
	}
	lq := payments.ListQuery{Type: data.Type}
	if data.Status != "" {
		if !slices.Contains(transactionStatuses, data.Status) {
			return apperr.New(apperr.Invalid, "status must be one of %v", transactionStatuses)
		}
		lq.Filters = append(lq.Filters, payments.Filter{Attr: payments.Attribute{Field: []string{"status"}, Kind: payments.KindText},
			Op: payments.OpEq, Values: []any{data.Status}})
	}
	created := payments.Attribute{Own: payments.OwnCreatedAt, Kind: payments.KindTime}
	for _, f := range []struct {
		value string
		op    payments.FilterOp
		days  int
	}{{data.From, payments.OpGe, 0}, {data.To, payments.OpLt, 1}} {
		if f.value == "" {
			continue
		}
		day, err := time.Parse(dateLayout, f.value)
		if err != nil {
			return apperr.New(apperr.Invalid, "dates must be written as 2026-11-30")
		}
		// "to" names the last day shown, so the bound is the next midnight.
		lq.Filters = append(lq.Filters, payments.Filter{Attr: created, Op: f.op, Values: []any{day.AddDate(0, 0, f.days)}})
	}
	list, err := d.listPage(p, lq)
	if err != nil {
		return err
	}
	data.Items, data.Pager = list.Items, list.Pager
	return d.show(p, "transactions", "Transactions", data)
}

type transactionData struct {
	Tx payments.Resource
	// Instrument is the card or bank account money came from or went to.
	Instrument *payments.Resource
	Events     []payments.Resource
	Related    []payments.Resource
	// Action is what may be done to the transaction now, if anything.
	Action *actionForm
	// Voidable says a hold may be released.
	Voidable bool
}

// transaction shows one transaction, what happened to it, and its actions.
// Another marketplace's transaction is not found, like anything else that
// does not exist.
func (d *Dashboard) transaction(p *page) error {
	tx, err := d.svc.Get(p.ctx, p.mp(), p.r.PathValue("id"))
	if err != nil {
		return err
	}
	if !slices.Contains(transactionTypes, tx.Type) {
		return apperr.New(apperr.NotFound, "no transaction with id %s", tx.ID)
	}
	data := transactionData{Tx: tx}
	for _, rel := range []string{"source", "destination", "card"} {
		id := tx.Link(rel)
		if id == "" {
			continue
		}
		in, err := d.svc.Get(p.ctx, p.mp(), id)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if in.Type == "cards" || in.Type == "bank_accounts" {
			data.Instrument = &in
			break
		}
	}
	events, _, err := d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: "events", LinkRel: "entity", LinkTarget: tx.ID,
		WithHidden: true, Limit: maxLifecycleEvents})
	if err != nil {
		return err
	}
	slices.Reverse(events) // oldest first: the life cycle reads down
	data.Events = events
	related := map[string][2]string{"debits": {"refunds", "debit"}, "credits": {"reversals", "credit"}, "card_holds": {"debits", "card_hold"}}
	if rel, ok := related[tx.Type]; ok {
		if data.Related, _, err = d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: rel[0], LinkRel: rel[1], LinkTarget: tx.ID, Limit: maxRelated}); err != nil {
			return err
		}
	}
	data.Action = actionOn(tx)
	data.Voidable = tx.Type == "card_holds" && data.Action != nil
	return d.show(p, "transaction", "Transaction "+tx.ID, data)
}

type clockData struct {
	Production bool
	Now        time.Time
	MaxDays    int
}

func (d *Dashboard) testClock(p *page) error {
	mp, err := d.svc.GetTyped(p.ctx, p.mp(), "marketplaces", p.mp())
	if err != nil {
		return err
	}
	now, err := d.svc.NowFor(p.ctx, p.mp())
	if err != nil {
		return err
	}
	return d.show(p, "test_clock", "Test clock", clockData{Production: payments.Bool(mp.Fields["production"]), Now: now, MaxDays: maxAdvanceDays})
}

// advanceTestClock moves a test marketplace's clock forward by whole days,
// through the call the API's POST /marketplaces/:id/test_clock makes; the
// service refuses a production marketplace.
func (d *Dashboard) advanceTestClock(p *page) error {
	days, err := strconv.Atoi(p.r.PostFormValue("days"))
	if err != nil || days < 1 || days > maxAdvanceDays {
		return apperr.New(apperr.Invalid, "days must be a whole number from 1 to %d", maxAdvanceDays)
	}
	if _, err := d.svc.AdvanceClock(p.ctx, p.mp(), time.Duration(days)*24*time.Hour); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, Prefix+"test-clock", http.StatusSeeOther)
	return nil
}

type apiKeysData struct {
	Keys    []payments.APIKey
	Current string
	Pager   pager
}

// apiKeys lists the marketplace's live keys, never their secrets (the
// server keeps only their hashes).
func (d *Dashboard) apiKeys(p *page) error {
	n, err := pageOf(p.r)
	if err != nil {
		return err
	}
	keys, total, err := d.svc.ListAPIKeys(p.ctx, p.key, payments.ListQuery{Limit: pageSize, Offset: (n - 1) * pageSize})
	if err != nil {
		return err
	}
	return d.show(p, "api_keys", "API keys", apiKeysData{Keys: keys, Current: p.key.ID, Pager: pagerOf(p.r, n, n*pageSize < total)})
}

// maxKeyNoteLen bounds the note a key is made with, kept as its meta.
const maxKeyNoteLen = 200

// createAPIKey makes a key of the marketplace and shows its secret, once:
// the server keeps only its hash, and the page is never cached.
func (d *Dashboard) createAPIKey(p *page) error {
	note := form(p, "note")
	if len(note) > maxKeyNoteLen {
		return apperr.New(apperr.Invalid, "the note may have at most %d characters", maxKeyNoteLen)
	}
	var meta map[string]string
	if note != "" {
		meta = map[string]string{"note": note}
	}
	key, secret, err := d.svc.CreateAPIKey(p.ctx, &p.key, meta)
	if err != nil {
		return err
	}
	return d.showStatus(p, http.StatusCreated, "api_key_created", "New API key", struct {
		Key    payments.APIKey
		Secret string
	}{key, secret})
}

// deleteAPIKey deletes a key of the marketplace; deleting the key of this
// session signs it out, as any session of a deleted key ends.
func (d *Dashboard) deleteAPIKey(p *page) error {
	if err := d.svc.DeleteAPIKey(p.ctx, p.key, p.r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, Prefix+"api-keys", http.StatusSeeOther)
	return nil
}
