package dashboard

import (
	"context"
	"net/http"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
)

// scheduleRow is one scheduled adjustment with the seed's columns.
type scheduleRow struct {
	R payments.Resource
	// First, Last, Next and LastRun are in the marketplace's time; zero
	// when there is none.
	First, Last, Next, LastRun time.Time
	AmountMinor                int64
	StopWhenDisabled           bool
	StopAtZero                 bool
	StoppedBecause             string
}

func scheduleRowOf(r payments.Resource) scheduleRow {
	at := func(field string) time.Time {
		t, err := time.Parse(time.RFC3339, payments.Str(r.Fields[field]))
		if err != nil {
			return time.Time{}
		}
		return t
	}
	return scheduleRow{R: r, First: at("first_date"), Last: at("last_date"), Next: at("next_run_at"), LastRun: at("last_run_at"),
		AmountMinor: payments.Int(r.Fields["amount"]), StopWhenDisabled: payments.Bool(r.Fields["stop_when_merchant_disabled"]),
		StopAtZero: payments.Bool(r.Fields["stop_at_zero_balance"]), StoppedBecause: payments.Str(r.Fields["stopped_because"])}
}

type schedulesData struct {
	Head           partyHead
	Rows           []scheduleRow
	Today          string
	IdempotencyKey string
}

// scheduled lists a merchant's scheduled adjustments with every column
// the seed shows (status, ID, period, dates, next and last run, amount,
// automatic stop) and, for an operator, their actions and the form that
// adds one.
func (d *Dashboard) scheduled(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	items, _, err := d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: "scheduled_adjustments", LinkRel: "merchant", LinkTarget: m.ID,
		Limit: maxPartyList, WithoutTotal: true})
	if err != nil {
		return err
	}
	now, err := d.svc.NowFor(p.ctx, p.mp())
	if err != nil {
		return err
	}
	data := schedulesData{Head: headOf(p, m, "scheduled"), Today: now.In(zone).Format(dateLayout), IdempotencyKey: newToken()}
	for _, r := range items {
		data.Rows = append(data.Rows, scheduleRowOf(r))
	}
	return d.showParty(p, http.StatusOK, "scheduled", "Scheduled adjustments of "+data.Head.Login, data)
}

func schedulesPath(merchantID string) string { return partyPath(merchantID) + "/scheduled" }

// signedAmount reads a form's amount and its direction.
func signedAmount(p *page) (int64, error) {
	amount, err := parseAmountMinor(form(p, "amount"))
	if err != nil {
		return 0, err
	}
	switch form(p, "direction") {
	case "credit":
		return amount, nil
	case "debit":
		return -amount, nil
	}
	return 0, apperr.New(apperr.Invalid, "say whether the adjustment credits or debits the balance")
}

// createSchedule adds a scheduled adjustment with the seed's fields. The
// risk acknowledgement is mandatory: the service refuses a schedule
// without it, whatever the browser sent.
func (d *Dashboard) createSchedule(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	in := merchants.ScheduleInput{Period: form(p, "period"), ExternalSource: form(p, "external_source"),
		StopWhenDisabled: form(p, "stop_when_merchant_disabled") == "on", StopAtZero: form(p, "stop_at_zero_balance") == "on",
		Acknowledged: form(p, "risk_acknowledged") == "on"}
	if in.AmountMinor, err = signedAmount(p); err != nil {
		return err
	}
	if in.First, err = parseDay(form(p, "first_date")); err != nil {
		return err
	}
	if s := form(p, "last_date"); s != "" {
		if in.Last, err = parseDay(s); err != nil {
			return err
		}
	}
	return d.once(p, map[string]any{"period": in.Period, "amount": in.AmountMinor, "first": in.First, "last": in.Last,
		"source": in.ExternalSource, "disabled": in.StopWhenDisabled, "zero": in.StopAtZero, "ack": in.Acknowledged},
		func(ctx context.Context) (payments.Resource, error) {
			return d.mer.CreateSchedule(ctx, p.mp(), m.ID, in)
		},
		func(string) string { return schedulesPath(m.ID) })
}

// scheduleOf reads a scheduled adjustment of the marketplace.
func (d *Dashboard) scheduleOf(p *page) (payments.Resource, error) {
	r, err := d.svc.GetTyped(p.ctx, p.mp(), "scheduled_adjustments", p.r.PathValue("id"))
	if err == nil && r.Hidden {
		return r, apperr.New(apperr.NotFound, "no scheduled adjustment with id %s", r.ID)
	}
	return r, err
}

// toggleSchedule turns a schedule on or off: the seed's click on its status.
func (d *Dashboard) toggleSchedule(p *page) error {
	r, err := d.scheduleOf(p)
	if err != nil {
		return err
	}
	status := form(p, "status")
	if status != "on" && status != "off" {
		return apperr.New(apperr.Invalid, "status must be on or off")
	}
	if _, err := d.mer.SetScheduleStatus(p.ctx, p.mp(), r.ID, status == "on"); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, schedulesPath(r.Link("merchant")), http.StatusSeeOther)
	return nil
}

type scheduleEditData struct {
	Head partyHead
	Row  scheduleRow
}

func (d *Dashboard) editScheduleForm(p *page) error {
	r, err := d.scheduleOf(p)
	if err != nil {
		return err
	}
	m, err := d.partyOf(p, r.Link("merchant"))
	if err != nil {
		return err
	}
	return d.showParty(p, http.StatusOK, "schedule_edit", "Edit "+r.ID, scheduleEditData{Head: headOf(p, m, "scheduled"), Row: scheduleRowOf(r)})
}

// editSchedule changes what a schedule's runs still to come do: amount,
// last date and automatic stops.
func (d *Dashboard) editSchedule(p *page) error {
	r, err := d.scheduleOf(p)
	if err != nil {
		return err
	}
	amount, err := signedAmount(p)
	if err != nil {
		return err
	}
	disabled, zero := form(p, "stop_when_merchant_disabled") == "on", form(p, "stop_at_zero_balance") == "on"
	e := merchants.ScheduleEdit{AmountMinor: &amount, StopWhenDisabled: &disabled, StopAtZero: &zero}
	if s := form(p, "last_date"); s != "" {
		last, err := parseDay(s)
		if err != nil {
			return err
		}
		e.Last = &last
	}
	if _, err := d.mer.EditSchedule(p.ctx, p.mp(), r.ID, e); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, schedulesPath(r.Link("merchant")), http.StatusSeeOther)
	return nil
}

func (d *Dashboard) deleteSchedule(p *page) error {
	r, err := d.scheduleOf(p)
	if err != nil {
		return err
	}
	if err := d.mer.DeleteSchedule(p.ctx, p.mp(), r.ID); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, schedulesPath(r.Link("merchant")), http.StatusSeeOther)
	return nil
}
