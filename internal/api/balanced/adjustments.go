package balanced

import (
	"bytes"
	"encoding/csv"
	"github.com/poise-payments/poise/internal/merchants"
	"net/http"
	"sort"
	"time"

	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// Upload limits.
const (
	// maxUploadBytes bounds an uploaded archive: 10,000 lines of TSV
	// compress to far less than this.
	maxUploadBytes = 8 << 20
)

func (a *API) createAdjustment(c *call) error {
	f, err := c.fields("adjustments")
	if err != nil {
		return err
	}
	if err := f.scalars("external_source", "external_id", "balance_name", "description", "currency"); err != nil {
		return err
	}
	amount, _, err := f.integer("amount")
	if err != nil {
		return err
	}
	for name, sign := range map[string]int64{"credit_amount": 1, "debit_amount": -1} {
		n, given, err := f.integer(name)
		if err != nil {
			return err
		}
		if given {
			amount += sign * n
		}
	}
	adj, err := a.merchants.Adjust(c.ctx, c.mp(), c.params["id"], merchants.AdjustmentInput{
		AmountMinor: amount, ExternalSource: f.str("external_source"), ExternalID: f.str("external_id"),
		BalanceName: f.str("balance_name"), Description: f.str("description"), Currency: f.str("currency")})
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, adj)
}

// listAdjustments answers a merchant's adjustments, newest first, or
// oldest first with ?sort=created_at, filtered like any list.
func (a *API) listAdjustments(c *call) error {
	if _, err := a.svc.GetTyped(c.ctx, c.mp(), "merchants", c.params["id"]); err != nil {
		return err
	}
	return a.list(c, "adjustments", payments.ListQuery{LinkRel: "merchant", LinkTarget: c.params["id"]})
}

func (a *API) adjustmentsOf(c *call) ([]payments.Resource, error) {
	items, _, err := a.svc.List(c.ctx, payments.ListQuery{Marketplace: c.mp(), Type: "adjustments", LinkRel: "merchant", LinkTarget: c.params["id"], Limit: maxAdjustmentsListed})
	return items, err
}

// maxAdjustmentsListed bounds the adjustments one list or export reads.
const maxAdjustmentsListed = 100_000

// exportAdjustments answers a merchant's adjustments as CSV; the first line
// holds the date and the sum of all of them.
func (a *API) exportAdjustments(c *call) error {
	m, err := a.svc.GetTyped(c.ctx, c.mp(), "merchants", c.params["id"])
	if err != nil {
		return err
	}
	all, err := a.adjustmentsOf(c)
	if err != nil {
		return err
	}
	if balance := c.r.URL.Query().Get("balance"); balance != "" {
		mine := all[:0]
		for _, adj := range all {
			if payments.Str(adj.Fields["balance_name"]) == balance {
				mine = append(mine, adj)
			}
		}
		all = mine
	}
	// One sum per currency: minor units of different currencies do not add.
	totals := map[string]int64{}
	var currencies []string
	for _, adj := range all {
		cur := adjustmentCurrency(adj)
		if _, seen := totals[cur]; !seen {
			currencies = append(currencies, cur)
		}
		totals[cur] += payments.Int(adj.Fields["amount"])
	}
	if len(currencies) == 0 {
		currencies = []string{payments.Currency}
	}
	sort.Strings(currencies)
	// Dated with the marketplace's day in New York, like every day of this API.
	now, err := a.svc.NowFor(c.ctx, c.mp())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	first := []string{now.In(clock.FedCalendar().Location()).Format(dateFormat)}
	for _, code := range currencies {
		cur, _ := money.LookupCurrency(code)
		sum := money.Amount{Minor: totals[code], Currency: cur}.Decimal()
		if len(currencies) > 1 {
			sum += " " + code
		}
		first = append(first, sum)
	}
	w.Write(first)
	w.Write([]string{"id", "created_at", "amount", "currency", "external_source", "external_id", "balance_name", "merchant_login"})
	for _, adj := range all {
		code := adjustmentCurrency(adj)
		cur, _ := money.LookupCurrency(code)
		w.Write([]string{adj.ID, adj.CreatedAt.UTC().Format(timeFormat),
			money.Amount{Minor: payments.Int(adj.Fields["amount"]), Currency: cur}.Decimal(), code,
			payments.Str(adj.Fields["external_source"]), payments.Str(adj.Fields["external_id"]),
			payments.Str(adj.Fields["balance_name"]), payments.Str(m.Fields["login"])})
	}
	w.Flush()
	c.w.Header().Set("Content-Type", "text/csv")
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(buf.Bytes())
	return nil
}

// uploadAdjustments applies an archived TSV adjustments file: zip or
// gzip. Each file is applied whole or not at all; a refused file lists
// every bad line.
func (a *API) uploadAdjustments(c *call) error {
	files, err := balances.Unpack(c.body)
	if err != nil {
		return err
	}
	source := c.r.URL.Query().Get("external_source")
	if source == "" {
		source = "upload"
	}
	outcomes, refused, err := a.merchants.ApplyAdjustmentFiles(c.ctx, c.mp(), nil, files, source)
	if err != nil {
		return err
	}
	results := make([]any, len(outcomes))
	for i, o := range outcomes {
		results[i] = o.Report()
	}
	status := http.StatusCreated
	if refused {
		status = http.StatusBadRequest
	}
	a.write(c, status, map[string]any{"uploads": results, "links": map[string]any{}})
	return nil
}

func (a *API) createSchedule(c *call) error {
	f, err := c.fields("scheduled_adjustments")
	if err != nil {
		return err
	}
	if err := f.scalars("period", "external_source", "stop_when_merchant_disabled", "stop_at_zero_balance", "risk_acknowledged", "first_date", "last_date",
		"currency", "balance_name"); err != nil {
		return err
	}
	in := merchants.ScheduleInput{Period: f.str("period"), ExternalSource: f.str("external_source"), Currency: f.str("currency"), BalanceName: f.str("balance_name"),
		StopWhenDisabled: f.str("stop_when_merchant_disabled") == "true", StopAtZero: f.str("stop_at_zero_balance") == "true",
		Acknowledged: f.str("risk_acknowledged") == "true"}
	if in.AmountMinor, _, err = f.integer("amount"); err != nil {
		return err
	}
	for name, t := range map[string]*time.Time{"first_date": &in.First, "last_date": &in.Last} {
		if s := f.str(name); s != "" {
			if *t, err = parseDate(s); err != nil {
				return fieldError(name, "must be a date (2027-01-31) or an RFC 3339 time")
			}
		}
	}
	r, err := a.merchants.CreateSchedule(c.ctx, c.mp(), c.params["id"], in)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, r)
}

// parseDate reads a date parameter of the merchant balance API: an RFC 3339
// instant, or a calendar date meaning the start of that day in New York,
// where release dates and business days are judged (clock.FedCalendar), so
// that a window of days holds what happened on those days as the release
// dates count them.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation(dateFormat, s, clock.FedCalendar().Location())
}

// dateFormat is how the merchant balance API writes and reads a day.
const dateFormat = "2006-01-02"

// updateSchedule edits a schedule's future runs (amount, last_date, stop
// conditions) and turns it on or off ({"status": "on"|"off"}).
func (a *API) updateSchedule(c *call) error {
	f, err := c.fields("scheduled_adjustments")
	if err != nil {
		return err
	}
	if err := f.scalars("last_date", "stop_when_merchant_disabled", "stop_at_zero_balance", "status"); err != nil {
		return err
	}
	// Checked before the edit, so a refused status leaves the edit unmade.
	status := f.str("status")
	if status != "" && status != "on" && status != "off" {
		return fieldError("status", "must be on or off")
	}
	var e merchants.ScheduleEdit
	if n, given, err := f.integer("amount"); err != nil {
		return err
	} else if given {
		e.AmountMinor = &n
	}
	if s := f.str("last_date"); s != "" {
		t, err := parseDate(s)
		if err != nil {
			return fieldError("last_date", "must be a date (2027-01-31) or an RFC 3339 time")
		}
		e.Last = &t
	}
	for name, dst := range map[string]**bool{"stop_when_merchant_disabled": &e.StopWhenDisabled, "stop_at_zero_balance": &e.StopAtZero} {
		if f.has(name) {
			b := f.str(name) == "true"
			*dst = &b
		}
	}
	r, err := a.merchants.EditSchedule(c.ctx, c.mp(), c.params["id"], e)
	if err != nil {
		return err
	}
	if status != "" {
		if r, err = a.merchants.SetScheduleStatus(c.ctx, c.mp(), c.params["id"], status == "on"); err != nil {
			return err
		}
	}
	return a.one(c, http.StatusOK, r)
}

func (a *API) deleteSchedule(c *call) error {
	if err := a.merchants.DeleteSchedule(c.ctx, c.mp(), c.params["id"]); err != nil {
		return err
	}
	return a.noContent(c)
}

// updateMerchant enables or disables a merchant, or changes its external ID.
func (a *API) updateMerchant(c *call) error {
	f, err := c.fields("merchants")
	if err != nil {
		return err
	}
	if err := f.scalars("enabled", "external_merchant_id"); err != nil {
		return err
	}
	set := map[string]any{}
	if f.has("enabled") {
		set["enabled"] = f.str("enabled") == "true"
	}
	if f.has("external_merchant_id") {
		set["external_merchant_id"] = f.str("external_merchant_id")
	}
	meta, err := f.meta("meta")
	if err != nil {
		return err
	}
	r, err := a.svc.UpdateFields(c.ctx, c.mp(), "merchants", c.params["id"], set, meta)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, r)
}

// exportTransactions answers a merchant balance's transactions in
// [from, to) as CSV, with what applied to each when it happened: the
// dates its amount affects the balance (the rolling reserve's release and
// the short-term hold's end), its fee, and its rule (empty: the seed's
// default table).
func (a *API) exportTransactions(c *call) error {
	m, err := a.svc.GetTyped(c.ctx, c.mp(), "merchants", c.params["id"])
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	from, ferr := parseDate(q.Get("from"))
	to, terr := parseDate(q.Get("to"))
	if ferr != nil || terr != nil || !from.Before(to) {
		return fieldError("from, to", "give a period [from, to) as dates (2027-01-01) or RFC 3339 times, from before to")
	}
	if balance := q.Get("balance"); balance != "" {
		return writeExport(c.w, func(fn func(merchants.EntryDates) error) error {
			return a.merchants.ExportBalance(c.ctx, m, balance, from, to, fn)
		})
	}
	return writeExport(c.w, func(fn func(merchants.EntryDates) error) error { return a.merchants.ExportFeed(c.ctx, m, from, to, fn) })
}

// writeExport streams an export as CSV, row by row: a period of a million
// transactions costs the memory of one. Until the first row is written an
// error is answered as usual; after it, the connection is cut, so a client
// never takes a truncated export for a whole one.
func writeExport(out http.ResponseWriter, export func(fn func(merchants.EntryDates) error) error) error {
	var w *csv.Writer
	err := export(func(d merchants.EntryDates) error {
		if w == nil {
			w = startExport(out)
		}
		e := d.Entry
		cur, err := money.LookupCurrency(e.Currency)
		if err != nil {
			return err
		}
		return w.Write([]string{e.OccurredAt.UTC().Format(time.RFC3339), e.Type, money.Amount{Minor: e.AmountMinor, Currency: cur}.Decimal(),
			e.Currency, e.Gate, e.SourceID, d.ReserveDate.UTC().Format(time.RFC3339), d.ShortTermHoldEnd.UTC().Format(time.RFC3339),
			money.Amount{Minor: d.FeeMinor, Currency: cur}.Decimal(), d.Rule.DateBump, d.Rule.ID, d.Balance})
	})
	if err != nil && w != nil {
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		return err
	}
	if w == nil {
		w = startExport(out)
	}
	w.Flush()
	return w.Error()
}

// startExport answers the export's status and header line.
func startExport(out http.ResponseWriter) *csv.Writer {
	out.Header().Set("Content-Type", "text/csv")
	out.WriteHeader(http.StatusOK)
	w := csv.NewWriter(out)
	// The rule, fee and dates are those fixed when each transaction
	// happened; a later rule change does not rewrite them.
	w.Write([]string{"date", "type", "amount", "currency", "gate", "source", "reserve date", "sth date", "fee", "date bumping", "rule", "balance"})
	return w
}

// reconcile answers a merchant balance against what fed it.
func (a *API) reconcile(c *call) error {
	m, err := a.svc.GetTyped(c.ctx, c.mp(), "merchants", c.params["id"])
	if err != nil {
		return err
	}
	var rec merchants.Reconciliation
	if balance := c.r.URL.Query().Get("balance"); balance != "" {
		rec, err = a.merchants.ReconcileBalance(c.ctx, m, balance)
	} else {
		rec, err = a.merchants.Reconcile(c.ctx, m)
	}
	if err != nil {
		return err
	}
	diffList := func(ds []merchants.Difference) []any {
		out := make([]any, 0, len(ds))
		for _, d := range ds {
			out = append(out, map[string]any{"source": d.SourceID, "problem": d.Problem})
		}
		return out
	}
	diffs := diffList(rec.Differences)
	per := make([]any, 0, len(rec.Balances))
	for _, b := range rec.Balances {
		per = append(per, map[string]any{"name": b.Name, "currency": b.Currency, "balance": b.BalanceMinor, "transactions": b.TransactionsSum,
			"adjustments": b.AdjustmentsSum, "fees": b.FeesSum, "effects": b.Effects, "differences": diffList(b.Differences),
			"reconciled": len(b.Differences) == 0})
	}
	// The sums of the roll-up add minor units across the balances; read
	// each balance's figures in its own currency.
	a.write(c, http.StatusOK, map[string]any{"reconciliations": []any{map[string]any{
		"balance": rec.BalanceMinor, "transactions": rec.TransactionsSum, "adjustments": rec.AdjustmentsSum, "fees": rec.FeesSum,
		"entries": rec.EntriesCompared, "differences": diffs, "reconciled": len(diffs) == 0, "balances": per,
	}}, "links": map[string]any{}})
	return nil
}

// setBalanceRule sets what a transaction type does to a merchant balance.
func (a *API) setBalanceRule(c *call) error {
	f, err := c.fields("balance_rules")
	if err != nil {
		return err
	}
	if err := f.scalars("transaction_type", "action", "date_bump", "balance", "gate", "fee_rate", "reserve_rate", "effective_from", "effective_until"); err != nil {
		return err
	}
	rule := merchants.BalanceRule{Type: f.str("transaction_type"), Action: f.str("action"), DateBump: f.str("date_bump"), Balance: f.str("balance"),
		Gate: f.str("gate")}
	if rule.Endpoint, err = f.reference("endpoint", "endpoints"); err != nil {
		return err
	}
	if rule.DateBump == "" {
		rule.DateBump = "ASAP"
	}
	for name, rate := range map[string]*money.Rate{"fee_rate": &rule.FeeRate, "reserve_rate": &rule.ReserveRate} {
		if s := f.str(name); s != "" {
			if *rate, err = money.ParseRate(s); err != nil {
				return fieldError(name, "must be a percentage such as 2.9")
			}
		}
	}
	if rule.FeeFixedMinor, _, err = f.integer("fee_fixed"); err != nil {
		return err
	}
	days, _, err := f.integer("reserve_period_days")
	if err != nil {
		return err
	}
	rule.ReservePeriodDays = int(days)
	for name, at := range map[string]*time.Time{"effective_from": &rule.EffectiveFrom, "effective_until": &rule.EffectiveUntil} {
		if s := f.str(name); s != "" {
			if *at, err = parseDate(s); err != nil {
				return fieldError(name, "must be a date (2027-01-31) or an RFC 3339 time")
			}
		}
	}
	r, err := a.merchants.SetBalanceRule(c.ctx, c.mp(), c.params["id"], rule)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, r)
}

// moveReserve releases a merchant's rolling reserve now.
func (a *API) moveReserve(c *call) error {
	// It takes no fields, but a body that is not one object is refused
	// like anywhere else, not ignored.
	f, err := c.fields("reserve_moves")
	if err != nil {
		return err
	}
	if err := f.scalars("balance"); err != nil {
		return err
	}
	var r payments.Resource
	if f.has("balance") {
		r, err = a.merchants.MoveBalanceReserve(c.ctx, c.mp(), c.params["id"], f.str("balance"))
	} else {
		r, err = a.merchants.MoveReserve(c.ctx, c.mp(), c.params["id"])
	}
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, r)
}

func (a *API) createEndpoint(c *call) error {
	f, err := c.fields("endpoints")
	if err != nil {
		return err
	}
	if err := f.scalars("name", "currency"); err != nil {
		return err
	}
	cur := f.str("currency")
	if cur == "" {
		cur = payments.Currency
	}
	r, err := a.merchants.CreateEndpoint(c.ctx, c.mp(), c.params["id"], f.str("name"), cur)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, r)
}

func (a *API) createBalance(c *call) error {
	f, err := c.fields("balances")
	if err != nil {
		return err
	}
	if err := f.scalars("name", "currency", "kind", "gate_group"); err != nil {
		return err
	}
	in := merchants.BalanceInput{Name: f.str("name"), Currency: f.str("currency"), Kind: f.str("kind"), GateGroup: f.str("gate_group")}
	if in.Endpoints, err = f.idList("endpoints", "endpoints"); err != nil {
		return err
	}
	if in.Processors, err = f.nameList("processors"); err != nil {
		return err
	}
	if in.CardMappings, err = f.nameList("card_mappings"); err != nil {
		return err
	}
	r, err := a.merchants.CreateBalance(c.ctx, c.mp(), c.params["id"], in)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, r)
}

// updateBalance changes a balance's created date ({"created_date": "2026-01-01"}).
func (a *API) updateBalance(c *call) error {
	f, err := c.fields("balances")
	if err != nil {
		return err
	}
	if err := f.scalars("created_date"); err != nil {
		return err
	}
	if !f.has("created_date") && !f.has("endpoints") {
		return fieldError("created_date", "give created_date or endpoints to change")
	}
	var at time.Time
	if f.has("created_date") {
		if at, err = parseDate(f.str("created_date")); err != nil {
			return fieldError("created_date", "must be a date (2026-01-01) or an RFC 3339 time")
		}
	}
	var eps []string
	if f.has("endpoints") {
		if eps, err = f.idList("endpoints", "endpoints"); err != nil {
			return err
		}
		if len(eps) == 0 {
			return fieldError("endpoints", "must name at least one endpoint")
		}
	}
	var r payments.Resource
	if eps != nil {
		if r, err = a.merchants.SetBalanceEndpoints(c.ctx, c.mp(), c.params["id"], eps); err != nil {
			return err
		}
	}
	if !at.IsZero() {
		if r, err = a.merchants.SetBalanceCreatedDate(c.ctx, c.mp(), c.params["id"], at); err != nil {
			return err
		}
	}
	return a.one(c, http.StatusOK, r)
}

// updateManager sets a manager's default balance ({"default_balance":
// "Main"}) or its external ID ({"external_merchant_id": "EXT-7"}).
func (a *API) updateManager(c *call) error {
	f, err := c.fields("managers")
	if err != nil {
		return err
	}
	if err := f.scalars("default_balance", "external_merchant_id"); err != nil {
		return err
	}
	if !f.has("default_balance") && !f.has("external_merchant_id") {
		return fieldError("default_balance", "give default_balance or external_merchant_id to change")
	}
	var r payments.Resource
	if f.has("external_merchant_id") {
		if r, err = a.svc.UpdateFields(c.ctx, c.mp(), "managers", c.params["id"], map[string]any{"external_merchant_id": f.str("external_merchant_id")}, nil); err != nil {
			return err
		}
	}
	if f.has("default_balance") {
		if r, err = a.merchants.SetManagerDefaultBalance(c.ctx, c.mp(), c.params["id"], f.str("default_balance")); err != nil {
			return err
		}
	}
	return a.one(c, http.StatusOK, r)
}

// adjustmentCurrency is an adjustment's currency; those made before
// balances had currencies were all in the marketplace's.
func adjustmentCurrency(adj payments.Resource) string {
	if cur := payments.Str(adj.Fields["currency"]); cur != "" {
		return cur
	}
	return payments.Currency
}

// endBalanceRule ends a rule: DELETE ends it now, PUT with
// {"effective_until": ...} at that instant. The rule stays, with the
// period it was in force, and what it applied stays applied.
func (a *API) endBalanceRule(c *call) error {
	var at time.Time
	if c.r.Method == http.MethodPut {
		f, err := c.fields("balance_rules")
		if err != nil {
			return err
		}
		if err := f.scalars("effective_until"); err != nil {
			return err
		}
		if at, err = parseDate(f.str("effective_until")); err != nil {
			return fieldError("effective_until", "must be a date (2027-01-31) or an RFC 3339 time")
		}
	}
	r, err := a.merchants.EndBalanceRule(c.ctx, c.mp(), c.params["id"], at)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, r)
}
