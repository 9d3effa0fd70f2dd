package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/poise-payments/poise/internal/achfile"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/scheduler"
)

// A live marketplace moves bank money for real: each ACH cut-off window
// closes into one NACHA file for its bank (ODFI), holding the window's bank
// debits, credits and micro-deposits. Test marketplaces never write files;
// their bank is the sandbox.

// JobCloseACHWindow closes one window of one live marketplace.
const JobCloseACHWindow = "ach.close_window"

// Limits.
const (
	// closeDelay is how long after its cut-off a window is closed: an
	// operation is dated when its batch starts and commits milliseconds
	// later, so a minute on, every transaction dated in the window is
	// committed and visible to the close.
	closeDelay = time.Minute
	// windowLookback bounds how far before its cut-off a window's
	// transactions are looked for: a window spans at most a long weekend
	// plus a holiday (four days); a week is ample.
	windowLookback = 7 * 24 * time.Hour
	// windowPage is how many resources one read of a window takes.
	windowPage = 500
	// MaxACHFilesPage bounds a page of the file list.
	MaxACHFilesPage = 100
)

// ACHSettings is a live marketplace's configuration at its bank.
type ACHSettings = achfile.Origin

// ACHFile is a NACHA file written for a window. Content is read only when
// asked for (GetACHFileContent).
type ACHFile struct {
	ID             string
	Marketplace    string
	CutoffAt       time.Time
	CreatedAt      time.Time
	EffectiveDate  string // YYYY-MM-DD, the Pacific business day
	FileIDModifier string
	EntryCount     int
	EntryHash      int64
	DebitCents     int64
	CreditCents    int64
	Content        []byte
}

// ACHEntry is one entry a file sent: what a return's trace number finds.
type ACHEntry struct {
	TraceNumber string
	FileID      string
	ResourceID  string
	AmountCents int64
}

// ACHFileStore reads the files of a marketplace.
type ACHFileStore interface {
	ListACHFiles(ctx context.Context, marketplace string, limit, offset int) ([]ACHFile, int, error)
	GetACHFile(ctx context.Context, marketplace, id string, withContent bool) (ACHFile, error)
}

// achWindowTx records a window's close inside the close's transaction.
type achWindowTx interface {
	// ACHWindowClosed reports whether the window was closed already.
	ACHWindowClosed(ctx context.Context, marketplace string, cutoff time.Time) (bool, error)
	// CloseACHWindow records the window closed, with its file and entries
	// when it had any (f nil otherwise).
	CloseACHWindow(ctx context.Context, marketplace string, cutoff, now time.Time, f *ACHFile, entries []ACHEntry) error
	// TakeACHTraces reserves n trace sequences of an ODFI, shared by every
	// marketplace sending through it, not below floor; it returns the
	// first.
	TakeACHTraces(ctx context.Context, odfi string, n, floor int64) (int64, error)
}

// pacific is the zone of the ACH calendar, for dates a file states.
var pacific = mustLoadPacific()

func mustLoadPacific() *time.Location {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic("payments: " + err.Error())
	}
	return loc
}

// isLive reports whether a marketplace moves real money.
func isLive(mp Resource) bool { return Bool(mp.Fields["production"]) }

// achSettingsOf reads a marketplace's bank configuration, if it has one.
func achSettingsOf(mp Resource) (ACHSettings, bool) {
	m, ok := mp.Private["ach_settings"].(map[string]any)
	if !ok {
		return ACHSettings{}, false
	}
	return ACHSettings{
		ODFIRouting:     Str(m["odfi_routing_number"]),
		CompanyID:       Str(m["company_id"]),
		CompanyName:     Str(m["company_name"]),
		OriginName:      Str(m["origin_name"]),
		DestinationName: Str(m["destination_name"]),
	}, true
}

// ACHSettingsOf reads a marketplace's bank configuration: not found when
// it has none.
func (s *Service) ACHSettingsOf(ctx context.Context, marketplace string) (ACHSettings, error) {
	mp, err := s.GetTyped(ctx, marketplace, "marketplaces", marketplace)
	if err != nil {
		return ACHSettings{}, err
	}
	if !isLive(mp) {
		return ACHSettings{}, errNotLive
	}
	set, ok := achSettingsOf(mp)
	if !ok {
		return ACHSettings{}, apperr.New(apperr.NotFound, "this marketplace has no ACH settings yet")
	}
	return set, nil
}

var errNotLive = apperr.WithReason(apperr.Conflict, "marketplace-not-live", "only a production marketplace sends ACH files; a test marketplace's bank is the sandbox")

// SetACHSettings configures a live marketplace's bank and schedules the
// close of the coming window; every window's close schedules the next.
func (s *Service) SetACHSettings(ctx context.Context, marketplace string, set ACHSettings) (ACHSettings, error) {
	if err := set.Validate(); err != nil {
		return ACHSettings{}, err
	}
	_, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
		if err != nil {
			return nil, err
		}
		if !isLive(mp) {
			return nil, errNotLive
		}
		mp.Private["ach_settings"] = map[string]any{
			"odfi_routing_number": set.ODFIRouting,
			"company_id":          set.CompanyID,
			"company_name":        set.CompanyName,
			"origin_name":         set.OriginName,
			"destination_name":    set.DestinationName,
		}
		if _, ok := mp.Private["ach_next_trace"]; !ok {
			mp.Private["ach_next_trace"] = int64(1)
		}
		if _, err := w.Save(ctx, mp); err != nil {
			return nil, err
		}
		// Scheduled at every change, so that a chain of closes broken by a
		// close that failed for good starts again; the coming window's
		// pending job, if there is one, makes this a no-op.
		return nil, w.scheduleWindowClose(ctx, marketplace, clock.NextACHCutoff(w.Now()))
	})
	return set, err
}

// requireACHSettings refuses bank money in a live marketplace whose bank
// is not configured: no file could carry it. It reports whether the
// marketplace is live.
func (w *Writer) requireACHSettings(ctx context.Context, marketplace string) (bool, error) {
	mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
	if err != nil {
		return false, err
	}
	if !isLive(mp) {
		return false, nil
	}
	if _, ok := achSettingsOf(mp); !ok {
		return true, apperr.WithReason(apperr.Conflict, "ach-not-configured", "configure this marketplace's bank (PUT /marketplaces/%s/ach_settings) before moving money to or from bank accounts", marketplace)
	}
	return true, nil
}

func (w *Writer) scheduleWindowClose(ctx context.Context, marketplace string, cutoff time.Time) error {
	return w.tx.ScheduleJob(ctx, scheduler.Job{
		Kind: JobCloseACHWindow, Key: windowKey(marketplace, cutoff), Payload: marketplace,
		DueAt: w.processTime(cutoff.Add(closeDelay)),
	}, w.Writer.Now())
}

// ACHWindowJobKey names a window's close job: the marketplace and the
// cut-off.
func ACHWindowJobKey(marketplace string, cutoff time.Time) string {
	return windowKey(marketplace, cutoff)
}

func windowKey(marketplace string, cutoff time.Time) string {
	return marketplace + "@" + strconv.FormatInt(cutoff.UnixMicro(), 10)
}

func parseWindowKey(key string) (string, time.Time, error) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '@' {
			us, err := strconv.ParseInt(key[i+1:], 10, 64)
			if err != nil {
				break
			}
			return key[:i], time.UnixMicro(us), nil
		}
	}
	return "", time.Time{}, fmt.Errorf("payments: %q is not an ACH window key", key)
}

// windowEntry is one entry of a window with the resource it comes from.
type windowEntry struct {
	entry    achfile.Entry
	resource string
}

// CloseACHWindow is the handler of JobCloseACHWindow. The file, the trace
// number on each transaction, the window's closed mark, the next window's
// job and this job's completion commit in one transaction: a crash before
// it leaves nothing and the job runs again; after it, a second run finds
// the window closed and writes nothing.
func (s *Service) CloseACHWindow(ctx context.Context, j scheduler.Job) error {
	marketplace, cutoff, err := parseWindowKey(j.Key)
	if err != nil {
		return err
	}
	candidates, err := s.windowEntries(ctx, marketplace, cutoff)
	if err != nil {
		return err
	}
	_, err = s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		return nil, w.closeWindow(ctx, marketplace, cutoff, candidates, j.ID)
	})
	if errors.Is(err, errJobTaken) {
		return nil
	}
	return err
}

func (w *Writer) closeWindow(ctx context.Context, marketplace string, cutoff time.Time, candidates []windowEntry, jobID string) error {
	done, err := w.tx.ACHWindowClosed(ctx, marketplace, cutoff)
	if err != nil {
		return err
	}
	if !done {
		if err := w.writeWindow(ctx, marketplace, cutoff, candidates); err != nil {
			return err
		}
	}
	err = w.tx.CompleteJob(ctx, jobID, w.Writer.Now())
	if errors.Is(err, ledger.ErrNotFound) {
		return errJobTaken
	}
	return err
}

func (w *Writer) writeWindow(ctx context.Context, marketplace string, cutoff time.Time, candidates []windowEntry) error {
	mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
	if err != nil {
		return err
	}
	set, ok := achSettingsOf(mp)
	if !ok {
		return apperr.New(apperr.Conflict, "marketplace %s has no ACH settings", marketplace)
	}
	// The next window is followed up whatever this one holds.
	if err := w.scheduleWindowClose(ctx, marketplace, clock.NextACHCutoff(cutoff.Add(time.Nanosecond))); err != nil {
		return err
	}
	// Candidates were read before this transaction; each is locked now and
	// kept only if no file carries it yet.
	var kept []windowEntry
	locked := map[string]Resource{}
	for _, c := range candidates {
		r, ok := locked[c.resource]
		if !ok {
			if r, err = w.Lock(ctx, marketplace, "", c.resource); err != nil {
				return err
			}
			locked[c.resource] = r
		}
		if r.Private["ach_file"] != nil || r.Status == "failed" {
			continue
		}
		kept = append(kept, c)
	}
	if len(kept) == 0 {
		return w.tx.CloseACHWindow(ctx, marketplace, cutoff, w.Writer.Now(), nil, nil)
	}
	if len(kept) > achfile.MaxEntriesPerFile {
		return apperr.New(apperr.Conflict, "window %s of marketplace %s holds %d entries, more than a file takes", cutoff.Format(time.RFC3339), marketplace, len(kept))
	}
	floor := max(Int(mp.Private["ach_next_trace"]), 1)
	first, err := w.tx.TakeACHTraces(ctx, set.ODFIRouting, int64(len(kept)), floor)
	if err != nil {
		return err
	}
	if first+int64(len(kept))-1 > achfile.MaxTraceSequence {
		// Seven digits run out after ten million entries of the ODFI;
		// starting over would make old traces ambiguous, so it is an
		// operator's call.
		return apperr.New(apperr.Conflict, "ODFI %s has used up its trace numbers", set.ODFIRouting)
	}
	entries := make([]achfile.Entry, len(kept))
	for i, k := range kept {
		entries[i] = k.entry
	}
	effective := clock.ACHSettlementDate(cutoff, 1).In(pacific)
	built, err := achfile.Build(set, achfile.Window{
		CreatedAt:          w.Now().In(pacific),
		EffectiveDate:      effective,
		FileIDModifier:     "A", // one file a day per marketplace
		FirstTraceSequence: int(first),
	}, entries)
	if err != nil {
		return err
	}
	f := &ACHFile{
		ID: w.NewID("AF"), Marketplace: marketplace, CutoffAt: cutoff, CreatedAt: w.Now(),
		EffectiveDate: effective.Format(time.DateOnly), FileIDModifier: "A",
		EntryCount: built.EntryCount, EntryHash: int64(built.EntryHash),
		DebitCents: built.DebitCents, CreditCents: built.CreditCents, Content: built.Content,
	}
	rows := make([]ACHEntry, len(kept))
	traces := map[string][]any{}
	for i, k := range kept {
		rows[i] = ACHEntry{TraceNumber: built.TraceNumbers[i], FileID: f.ID, ResourceID: k.resource, AmountCents: k.entry.AmountCents}
		traces[k.resource] = append(traces[k.resource], built.TraceNumbers[i])
	}
	if err := w.tx.CloseACHWindow(ctx, marketplace, cutoff, w.Writer.Now(), f, rows); err != nil {
		return err
	}
	for id, ts := range traces {
		r := locked[id]
		r.Private["ach_file"] = f.ID
		if r.Type == "bank_account_verifications" {
			r.Private["ach_trace_numbers"] = ts
		} else {
			r.Fields["trace_number"] = ts[0]
		}
		if _, err := w.Save(ctx, r); err != nil {
			return err
		}
	}
	mp.Private["ach_next_trace"] = int64(built.NextSequence)
	_, err = w.Save(ctx, mp)
	return err
}

// windowEntries reads the bank transactions of a window: those created in
// (previous cut-off, cutoff], as clock.NextACHCutoff assigns them.
func (s *Service) windowEntries(ctx context.Context, marketplace string, cutoff time.Time) ([]windowEntry, error) {
	var out []windowEntry
	for _, typ := range achTypes {
		for offset := 0; ; offset += windowPage {
			page, _, err := s.store.ListResources(ctx, ListQuery{
				Marketplace: marketplace, Type: typ,
				Filters: []Filter{
					{Attr: Attribute{Own: OwnCreatedAt, Kind: KindTime}, Op: OpGt, Values: []any{cutoff.Add(-windowLookback)}},
					{Attr: Attribute{Own: OwnCreatedAt, Kind: KindTime}, Op: OpLe, Values: []any{cutoff}},
				},
				Order:      []OrderKey{{Attr: Attribute{Own: OwnCreatedAt, Kind: KindTime}}},
				WithHidden: true,
				Limit:      windowPage, Offset: offset,
			})
			if err != nil {
				return nil, err
			}
			for _, r := range page {
				if !clock.NextACHCutoff(r.CreatedAt).Equal(cutoff) || r.Status == "failed" || r.Private["ach_file"] != nil {
					continue
				}
				es, err := s.entriesOf(ctx, r)
				if err != nil {
					return nil, err
				}
				out = append(out, es...)
			}
			if len(out) > achfile.MaxEntriesPerFile {
				return nil, apperr.New(apperr.Conflict, "window %s of marketplace %s holds more entries than a file takes", cutoff.Format(time.RFC3339), marketplace)
			}
			if len(page) < windowPage {
				break
			}
		}
	}
	return out, nil
}

// achDirections says, per type of transaction, which of its links is the
// bank account and whether the entry pulls money from it (a debit) or
// pushes money to it. A settlement goes either way: to the bank when its
// destination is a bank account, from it when its source is.
var achDirections = map[string][]struct {
	link string
	kind achfile.Kind
}{
	"debits":                     {{"source", achfile.Debit}},
	"credits":                    {{"destination", achfile.Credit}},
	"refunds":                    {{"source", achfile.Credit}},
	"reversals":                  {{"destination", achfile.Debit}},
	"settlements":                {{"destination", achfile.Credit}, {"source", achfile.Debit}},
	"bank_account_verifications": {{"bank_account", achfile.Verification}},
}

// achTypes are the types of transactions a window's file may carry.
var achTypes = []string{"debits", "credits", "refunds", "reversals", "settlements", "bank_account_verifications"}

// entriesOf turns a transaction into its entries: none unless it moves
// money to or from a bank account.
func (s *Service) entriesOf(ctx context.Context, r Resource) ([]windowEntry, error) {
	var bank Resource
	var kind achfile.Kind
	for _, d := range achDirections[r.Type] {
		id := r.Link(d.link)
		if id == "" {
			continue
		}
		res, err := s.store.GetResource(ctx, r.Marketplace, id)
		if errors.Is(err, ledger.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if res.Type == "bank_accounts" {
			bank, kind = res, d.kind
			break
		}
	}
	if bank.ID == "" {
		return nil, nil
	}
	number, err := s.vault.Open(Str(bank.Private["account_number"]))
	if err != nil {
		return nil, fmt.Errorf("payments: bank account %s: %w", bank.ID, err)
	}
	business := false
	if cu := bank.Link("customer"); cu != "" {
		c, err := s.store.GetResource(ctx, r.Marketplace, cu)
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return nil, err
		}
		business = Str(c.Fields["business_name"]) != ""
	}
	base := achfile.Entry{
		Kind: kind, Routing: Str(bank.Fields["routing_number"]), Account: number,
		AccountType: Str(bank.Fields["account_type"]), Business: business,
		Name: Str(bank.Fields["name"]), Ref: r.ID,
	}
	if kind != achfile.Verification {
		base.AmountCents = Int(r.Fields["amount"])
		return []windowEntry{{entry: base, resource: r.ID}}, nil
	}
	out := make([]windowEntry, 0, 2)
	for _, k := range []string{"amount_1", "amount_2"} {
		e := base
		e.AmountCents = Int(r.Private[k])
		out = append(out, windowEntry{entry: e, resource: r.ID})
	}
	return out, nil
}

// ListACHFiles lists a live marketplace's files, newest first.
func (s *Service) ListACHFiles(ctx context.Context, marketplace string, limit, offset int) ([]ACHFile, int, error) {
	return s.store.ListACHFiles(ctx, marketplace, min(limit, MaxACHFilesPage), offset)
}

// GetACHFile reads one file of a marketplace, with its content when asked.
func (s *Service) GetACHFile(ctx context.Context, marketplace, id string, withContent bool) (ACHFile, error) {
	f, err := s.store.GetACHFile(ctx, marketplace, id, withContent)
	if errors.Is(err, ledger.ErrNotFound) {
		return f, apperr.New(apperr.NotFound, "no ach file with id %s", id)
	}
	return f, err
}
