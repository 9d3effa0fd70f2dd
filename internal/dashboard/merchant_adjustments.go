package dashboard

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// Upload limits.
const (
	// maxUploadBytes bounds an uploaded archive, as the API bounds it:
	// 10,000 lines of TSV compress to far less.
	maxUploadBytes = 8 << 20
	// maxAdjustmentsExported bounds the adjustments one CSV reads, as the
	// API's export does.
	maxAdjustmentsExported = 100_000
)

// adjustmentSorts are the orders the adjustments list offers: by creation
// date, as the seed's button does, and by amount.
var adjustmentSorts = []struct {
	Key, Label string
	order      payments.OrderKey
}{
	{"newest", "newest first", payments.OrderKey{Attr: payments.Attribute{Own: payments.OwnCreatedAt, Kind: payments.KindTime}, Desc: true}},
	{"oldest", "oldest first", payments.OrderKey{Attr: payments.Attribute{Own: payments.OwnCreatedAt, Kind: payments.KindTime}}},
	{"largest", "largest amount first", payments.OrderKey{Attr: payments.Attribute{Field: []string{"amount"}, Kind: payments.KindNumber}, Desc: true}},
	{"smallest", "smallest amount first", payments.OrderKey{Attr: payments.Attribute{Field: []string{"amount"}, Kind: payments.KindNumber}}},
}

type adjustmentsData struct {
	Head         partyHead
	Items        []payments.Resource
	Pager        pager
	Sort         string
	Sorts        []struct{ Key, Label string }
	BalanceNames []string
	// IdempotencyKey makes one submit of the manual form one adjustment.
	IdempotencyKey string
}

// adjustments lists a merchant's adjustments a page at a time in the
// order asked, with the manual form for an operator.
func (d *Dashboard) adjustments(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	data := adjustmentsData{Head: headOf(p, m, "adjustments"), Sort: p.r.URL.Query().Get("sort"), IdempotencyKey: newToken()}
	if data.Sort == "" {
		data.Sort = "newest"
	}
	q := payments.ListQuery{Type: "adjustments", LinkRel: "merchant", LinkTarget: m.ID}
	for _, s := range adjustmentSorts {
		data.Sorts = append(data.Sorts, struct{ Key, Label string }{s.Key, s.Label})
		if s.Key == data.Sort {
			q.Order = []payments.OrderKey{s.order}
		}
	}
	if q.Order == nil {
		return apperr.New(apperr.Invalid, "sort must be newest, oldest, largest or smallest")
	}
	list, err := d.listPage(p, q)
	if err != nil {
		return err
	}
	data.Items, data.Pager = list.Items, list.Pager
	if data.BalanceNames, err = d.mer.BalanceNames(p.ctx, m); err != nil {
		return err
	}
	return d.showParty(p, http.StatusOK, "adjustments", "Adjustments of "+data.Head.Login, data)
}

// adjust makes a manual adjustment: an amount credited or debited and
// its external source (both mandatory, as the seed says), with an
// optional external ID, balance and description.
func (d *Dashboard) adjust(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	amount, err := parseAmountMinor(form(p, "amount"))
	if err != nil {
		return err
	}
	switch form(p, "direction") {
	case "credit":
	case "debit":
		amount = -amount
	default:
		return apperr.New(apperr.Invalid, "say whether the adjustment credits or debits the balance")
	}
	in := merchants.AdjustmentInput{AmountMinor: amount, ExternalSource: form(p, "external_source"), ExternalID: form(p, "external_id"),
		BalanceName: form(p, "balance_name"), Description: form(p, "description")}
	return d.once(p, in, func(ctx context.Context) (payments.Resource, error) {
		return d.mer.Adjust(ctx, p.mp(), m.ID, in)
	}, func(string) string { return partyPath(m.ID) + "/adjustments" })
}

// adjustmentsCSV answers a merchant's adjustments as the API's export
// does: the first line holds the date and the sum of all of them.
func (d *Dashboard) adjustmentsCSV(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	all, _, err := d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: "adjustments", LinkRel: "merchant", LinkTarget: m.ID,
		Limit: maxAdjustmentsExported, WithoutTotal: true})
	if err != nil {
		return err
	}
	now, err := d.svc.NowFor(p.ctx, p.mp())
	if err != nil {
		return err
	}
	usd, err := money.LookupCurrency(payments.Currency)
	if err != nil {
		return err
	}
	var total int64
	for _, adj := range all {
		total += payments.Int(adj.Fields["amount"])
	}
	login := payments.Str(m.Fields["login"])
	p.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	p.w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "adjustments-"+m.ID+".csv"))
	w := csv.NewWriter(p.w)
	w.Write([]string{now.In(zone).Format(dateLayout), money.Amount{Minor: total, Currency: usd}.Decimal()})
	w.Write([]string{"id", "created_at", "amount", "currency", "external_source", "external_id", "balance_name", "merchant_login"})
	for _, adj := range all {
		w.Write([]string{adj.ID, adj.CreatedAt.UTC().Format(timeRFC3339), money.Amount{Minor: payments.Int(adj.Fields["amount"]), Currency: usd}.Decimal(),
			payments.Currency, payments.Str(adj.Fields["external_source"]), payments.Str(adj.Fields["external_id"]),
			payments.Str(adj.Fields["balance_name"]), login})
	}
	w.Flush()
	return nil
}

// timeRFC3339 is how CSV files write instants.
const timeRFC3339 = "2006-01-02T15:04:05Z07:00"

// uploadData is the upload page: what became of each file of an uploaded
// archive, once one was sent.
type uploadData struct {
	Results []merchants.FileOutcome
	Source  string
	Problem string
}

func (d *Dashboard) uploadForm(p *page) error {
	return d.showParty(p, http.StatusOK, "upload", "Upload adjustments", uploadData{Source: "upload"})
}

// upload applies an archived TSV adjustments file (zip or gzip) as
// the API's upload does: each file whole or not at all, and a refused file
// shows every bad line.
func (d *Dashboard) upload(p *page) error {
	data := uploadData{Source: form(p, "external_source")}
	if data.Source == "" {
		data.Source = "upload"
	}
	f, _, err := p.r.FormFile("archive")
	if err != nil {
		data.Problem = "Choose an archive (zip or gzip) of TSV files to upload."
		return d.showParty(p, http.StatusBadRequest, "upload", "Upload adjustments", data)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxUploadBytes))
	if err != nil {
		return err
	}
	files, err := balances.Unpack(body)
	if apperr.Is(err, apperr.Invalid) {
		data.Problem = apperr.MessageOf(err)
		return d.showParty(p, http.StatusBadRequest, "upload", "Upload adjustments", data)
	}
	if err != nil {
		return err
	}
	var refused bool
	data.Results, refused, err = d.mer.ApplyAdjustmentFiles(p.ctx, p.mp(), nil, files, data.Source)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if refused {
		status = http.StatusBadRequest
	}
	return d.showParty(p, status, "upload", "Upload adjustments", data)
}
