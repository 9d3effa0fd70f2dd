package dashboard

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// Limits of a merchant's transactions.
const (
	// maxFeedRows bounds the transactions one page shows; a longer window
	// is read with the export, which streams.
	maxFeedRows = 500
	// defaultWindowDays is the window a merchant's transactions page opens
	// on: the last month.
	defaultWindowDays = 30
	// maxPageWindowDays bounds the window the page reads, a day at a time;
	// the export streams any window.
	maxPageWindowDays = 366
)

type reconciliationData struct {
	Head partyHead
	Ran  bool
	Rec  merchants.Reconciliation
}

// reconciliation compares a party's balances with the ledger and with what
// fed them, as the API's reconciliation does, when asked (?run=1): it
// checks every transaction the balance ever had, seconds for 10^5, so the
// tab opens on the button that runs it.
func (d *Dashboard) reconciliation(p *page) error {
	party, err := d.partyOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	data := reconciliationData{Head: headOf(p, party, "reconciliation"), Ran: p.r.URL.Query().Get("run") != ""}
	if data.Ran {
		if data.Rec, err = d.mer.Reconcile(p.ctx, party); err != nil {
			return err
		}
	}
	return d.showParty(p, http.StatusOK, "reconciliation", "Reconciliation of "+payments.Str(party.Fields["login"]), data)
}

// window reads a [from, to) window of days from the query, in the
// marketplace's days; with neither, the last defaultWindowDays up to and
// including today.
func (d *Dashboard) window(p *page) (from, to time.Time, fromDay, toDay string, err error) {
	q := p.r.URL.Query()
	fromDay, toDay = q.Get("from"), q.Get("to")
	if fromDay == "" && toDay == "" {
		now, err := d.svc.NowFor(p.ctx, p.mp())
		if err != nil {
			return from, to, "", "", err
		}
		now = now.In(zone)
		tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, zone)
		fromDay, toDay = tomorrow.AddDate(0, 0, -defaultWindowDays).Format(dateLayout), tomorrow.Format(dateLayout)
	}
	if from, err = parseDay(fromDay); err != nil {
		return
	}
	if to, err = parseDay(toDay); err != nil {
		return
	}
	if !from.Before(to) {
		err = apperr.New(apperr.Invalid, "the window [from, to) must end after it starts: to is the first day left out")
	}
	return
}

type feedData struct {
	Head     partyHead
	From, To string
	// FromInstant and ToInstant bound the window (RFC 3339), for the
	// export's progress; FileName is the export's.
	FromInstant, ToInstant string
	FileName               string
	Rows                   []merchants.EntryDates
	Cut                    bool
	ExportQuery            string
	SumMinor               int64
	FeesMinor              int64
	MaxRows                int
}

// errEnough stops a scan once a page has its rows.
var errEnough = errors.New("dashboard: enough rows")

// merchantTransactions lists a merchant's balance transactions in a window
// of days, oldest first, each with what applied to it when it happened.
func (d *Dashboard) merchantTransactions(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	from, to, fromDay, toDay, err := d.window(p)
	if err != nil {
		return err
	}
	if to.Sub(from) > maxPageWindowDays*24*time.Hour+time.Hour { // a day of a DST change has 25 hours
		return apperr.New(apperr.Invalid, "the page shows at most %d days; export a longer window", maxPageWindowDays)
	}
	data := feedData{Head: headOf(p, m, "transactions"), From: fromDay, To: toDay, MaxRows: maxFeedRows,
		ExportQuery: "from=" + fromDay + "&to=" + toDay, FromInstant: from.Format(time.RFC3339), ToInstant: to.Format(time.RFC3339),
		FileName: exportFileName(m.ID, fromDay, toDay)}
	// The window is read a day at a time until the page is full: a scan
	// ordered by time sorts what it reads first on PostgreSQL, so one scan
	// of a busy month would sort the month to show its first rows.
	for day := from; day.Before(to) && !data.Cut; day = day.AddDate(0, 0, 1) {
		end := day.AddDate(0, 0, 1)
		if end.After(to) {
			end = to
		}
		err = d.mer.ExportFeed(p.ctx, m, day, end, func(e merchants.EntryDates) error {
			if len(data.Rows) == maxFeedRows {
				data.Cut = true
				return errEnough
			}
			data.Rows = append(data.Rows, e)
			data.SumMinor += e.Entry.AmountMinor
			data.FeesMinor += e.FeeMinor
			return nil
		})
		if err != nil && !errors.Is(err, errEnough) {
			return err
		}
	}
	return d.showParty(p, http.StatusOK, "merchant_transactions", "Transactions of "+data.Head.Login, data)
}

// export streams a merchant's transactions in [from, to) as CSV, in the
// API's columns, a row at a time: a window of a million transactions costs
// the memory of one. Until the first row an error is answered as a page;
// after it the connection is cut, so that a truncated file is never taken
// for a whole one.
func (d *Dashboard) export(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	from, to, fromDay, toDay, err := d.window(p)
	if err != nil {
		return err
	}
	usd, err := money.LookupCurrency(payments.Currency)
	if err != nil {
		return err
	}
	flusher, _ := p.w.(http.Flusher)
	var w *csv.Writer
	rows := 0
	start := func() {
		h := p.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", exportFileName(m.ID, fromDay, toDay)))
		p.w.WriteHeader(http.StatusOK)
		w = csv.NewWriter(p.w)
		// The rule, fee and dates are those fixed when each transaction
		// happened; a later rule change does not rewrite them.
		w.Write([]string{"date", "type", "amount", "currency", "gate", "source", "reserve date", "sth date", "fee", "date bumping", "rule"})
	}
	err = d.mer.ExportFeed(p.ctx, m, from, to, func(x merchants.EntryDates) error {
		if w == nil {
			start()
		}
		e := x.Entry
		rows++
		if err := w.Write([]string{e.OccurredAt.UTC().Format(time.RFC3339), e.Type, money.Amount{Minor: e.AmountMinor, Currency: usd}.Decimal(),
			e.Currency, e.Gate, e.SourceID, x.ReserveDate.UTC().Format(time.RFC3339), x.ShortTermHoldEnd.UTC().Format(time.RFC3339),
			money.Amount{Minor: x.FeeMinor, Currency: usd}.Decimal(), x.Rule.DateBump, x.Rule.ID}); err != nil {
			return err
		}
		// Sent on as it is made, so a long window downloads as it is read.
		if rows%exportFlushRows == 0 {
			w.Flush()
			if flusher != nil {
				flusher.Flush()
			}
		}
		return nil
	})
	if err != nil && w != nil {
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		return err
	}
	if w == nil {
		start()
	}
	w.Flush()
	return w.Error()
}

// exportFlushRows is how many rows an export sends at a time: a few
// hundred kilobytes.
const exportFlushRows = 2_000

// exportFileName names the CSV of a merchant's window [fromDay, toDay).
func exportFileName(merchantID, fromDay, toDay string) string {
	return "transactions-" + merchantID + "-" + fromDay + "-" + toDay + ".csv"
}
