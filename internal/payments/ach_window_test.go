package payments_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/ach"

	"github.com/poise-payments/poise/internal/achfile/achfiletest"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

var liveSettings = payments.ACHSettings{
	ODFIRouting: "121042882", CompanyID: "1234567890", CompanyName: "Rent Market",
	OriginName: "Rent Market Inc", DestinationName: "Wells Fargo",
}

type liveWorld struct {
	db    *store.DB
	clk   *clock.Manual
	s     *payments.Service
	m     *merchants.Service
	sched *scheduler.Scheduler
	mp    string
}

// newLiveWorld is a production marketplace on a manual clock that starts
// on the Wednesday before Thanksgiving 2026, 10:00 Pacific: that day's
// cut-off is 15:30, and the next is Friday's (Thursday is a Fed holiday).
func newLiveWorld(t *testing.T, kind string) liveWorld {
	t.Helper()
	return newLiveWorldOn(t, storetest.Open(t, kind))
}

func newLiveWorldOn(t *testing.T, db *store.DB) liveWorld {
	t.Helper()
	ctx := context.Background()
	w := liveWorld{db: db, clk: clock.NewManual(time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC))}
	l := ledger.New(w.db.Ledger(), w.clk, ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(ctx) })
	v, _ := vault.New(make([]byte, vault.KeyLen))
	w.s = payments.NewService(l, w.db, v)
	w.m = merchants.New(w.s, w.db, v)
	w.sched = scheduler.New(w.db, w.clk)
	w.sched.Handle(payments.JobSettleACH, w.s.SettleACH)
	w.sched.Handle(payments.JobCloseACHWindow, w.s.CloseACHWindow)
	key, _, _ := w.s.CreateAPIKey(ctx, nil, nil)
	mp, err := w.s.CreateMarketplace(ctx, key, map[string]any{"production": true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(mp.ID, "TEST") {
		t.Fatalf("a production marketplace is named %s", mp.ID)
	}
	w.mp = mp.ID
	return w
}

func (w liveWorld) bank(t *testing.T, name, number, routing, accountType string, business bool) payments.Resource {
	t.Helper()
	b, _ := w.bankOf(t, name, number, routing, accountType, business)
	return b
}

// bankOf is a bank account of a new customer, and the customer.
func (w liveWorld) bankOf(t *testing.T, name, number, routing, accountType string, business bool) (payments.Resource, payments.Resource) {
	t.Helper()
	ctx := context.Background()
	fields := map[string]any{"name": name}
	if business {
		fields["business_name"] = name
		fields["ein"] = "123456789"
	}
	cu, err := w.s.CreateCustomer(ctx, w.mp, payments.CustomerInput{Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.s.CreateBankAccount(ctx, w.mp, payments.BankAccountInput{Name: name, AccountNumber: number, RoutingNumber: routing, AccountType: accountType})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.UpdateInstrument(ctx, w.mp, b.ID, payments.InstrumentUpdate{Customer: cu.ID}); err != nil {
		t.Fatal(err)
	}
	return b, cu
}

// deposits reads the amounts a live verification sent, as the account
// holder would from their statement.
func (w liveWorld) deposits(t *testing.T, bz string) (int64, int64) {
	t.Helper()
	r, err := w.db.GetResource(context.Background(), w.mp, bz)
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := payments.Int(r.Private["amount_1"]), payments.Int(r.Private["amount_2"])
	if a1 < 1 || a1 > 99 || a2 < 1 || a2 > 99 {
		t.Fatalf("micro-deposits of %d and %d cents", a1, a2)
	}
	return a1, a2
}

// verify confirms a live verification with the amounts it sent.
func (w liveWorld) verify(t *testing.T, bz string) {
	t.Helper()
	a1, a2 := w.deposits(t, bz)
	if _, err := w.s.ConfirmVerification(context.Background(), w.mp, bz, a1, a2); err != nil {
		t.Fatal(err)
	}
}

func (w liveWorld) runAt(t *testing.T, at time.Time) int {
	t.Helper()
	if err := w.clk.Set(at); err != nil {
		t.Fatal(err)
	}
	n, err := w.sched.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (w liveWorld) files(t *testing.T) []payments.ACHFile {
	t.Helper()
	fs, total, err := w.s.ListACHFiles(context.Background(), w.mp, 100, 0)
	if err != nil || total != len(fs) {
		t.Fatalf("files: %d of %d, %v", len(fs), total, err)
	}
	return fs
}

// readBack reads a stored file with moov-io/ach and validates it.
func readBack(t *testing.T, s *payments.Service, mp, id string) ach.File {
	t.Helper()
	f, err := s.GetACHFile(context.Background(), mp, id, true)
	if err != nil {
		t.Fatal(err)
	}
	file, err := ach.NewReader(bytes.NewReader(f.Content)).Read()
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if err := file.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return file
}

func TestLiveWindowClosesIntoOneNACHAFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newLiveWorld(t, kind)
		alice := w.bank(t, "Alice Buyer", "123456789", "231380104", "checking", false)
		bob := w.bank(t, "Bobs Rentals", "5556667", "011000015", "savings", true)

		// No bank money moves before the bank is configured.
		in := amount(12_345)
		in.Instrument = alice.ID
		if _, err := w.s.CreateVerification(ctx, w.mp, alice.ID); apperr.ReasonOf(err) != "ach-not-configured" {
			t.Fatalf("verification before settings: %v", err)
		}
		if _, err := w.s.SetACHSettings(ctx, w.mp, payments.ACHSettings{ODFIRouting: "121042883"}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad settings: %v", err)
		}
		if _, err := w.s.SetACHSettings(ctx, w.mp, liveSettings); err != nil {
			t.Fatal(err)
		}
		if got, err := w.s.ACHSettingsOf(ctx, w.mp); err != nil || got != liveSettings {
			t.Fatalf("settings read back %+v, %v", got, err)
		}

		bz, err := w.s.CreateVerification(ctx, w.mp, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.verify(t, bz.ID)
		debit, err := w.s.Debit(ctx, w.mp, in)
		if err != nil || debit.Status == "failed" {
			t.Fatalf("debit %s, %v", debit.Status, err)
		}
		// The bank debit funds nothing until it settles: a card pays for
		// the credit.
		card, err := w.s.CreateCard(ctx, w.mp, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		if err != nil {
			t.Fatal(err)
		}
		cardIn := amount(5_700)
		cardIn.Instrument = card.ID
		if _, err := w.s.Debit(ctx, w.mp, cardIn); err != nil {
			t.Fatal(err)
		}
		out := amount(5_000)
		out.Instrument = bob.ID
		credit, err := w.s.Credit(ctx, w.mp, out)
		if err != nil || credit.Status != "pending" {
			t.Fatalf("credit %s, %v", credit.Status, err)
		}
		// Nothing before the cut-off's close.
		w.runAt(t, time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC))
		if fs := w.files(t); len(fs) != 0 {
			t.Fatalf("%d files before the close", len(fs))
		}
		// Just after the cut-off, before the close runs: the next window's
		// (Friday's), not this one's.
		if err := w.clk.Set(time.Date(2026, 11, 25, 23, 30, 1, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		late := amount(2_222)
		late.Instrument = alice.ID
		lateDebit, err := w.s.Debit(ctx, w.mp, late)
		if err != nil {
			t.Fatal(err)
		}
		w.runAt(t, time.Date(2026, 11, 25, 23, 45, 0, 0, time.UTC))
		fs := w.files(t)
		if len(fs) != 1 {
			t.Fatalf("%d files after the close, want 1", len(fs))
		}
		first := fs[0]
		if first.EffectiveDate != "2026-11-27" {
			t.Errorf("effective date %s, want Friday 2026-11-27 (Thursday is Thanksgiving)", first.EffectiveDate)
		}
		file := readBack(t, w.s, w.mp, first.ID)
		// The window held a debit, a credit and two micro-deposits; the
		// card debit and the late debit are not in it.
		type want struct {
			amount  int
			routing string
			sec     string
			class   int
		}
		wantByTrace := map[string]want{}
		d, _ := w.s.Get(ctx, w.mp, debit.ID)
		c, _ := w.s.Get(ctx, w.mp, credit.ID)
		v, _ := w.s.Get(ctx, w.mp, bz.ID)
		wantByTrace[payments.Str(d.Fields["trace_number"])] = want{12_345, "231380104", ach.PPD, ach.DebitsOnly}
		wantByTrace[payments.Str(c.Fields["trace_number"])] = want{5_000, "011000015", ach.CCD, ach.CreditsOnly}
		vt, _ := v.Private["ach_trace_numbers"].([]any)
		a1, a2 := w.deposits(t, bz.ID)
		if len(vt) == 2 {
			wantByTrace[payments.Str(vt[0])] = want{int(a1), "231380104", ach.PPD, ach.CreditsOnly}
			wantByTrace[payments.Str(vt[1])] = want{int(a2), "231380104", ach.PPD, ach.CreditsOnly}
		}
		if len(wantByTrace) != 4 {
			t.Fatalf("traces recorded: %v", wantByTrace)
		}
		var wantHash int
		for _, e := range wantByTrace {
			n, _ := strconv.Atoi(e.routing[:8])
			wantHash += n
		}
		if file.Control.EntryAddendaCount != 4 || first.EntryCount != 4 || file.Control.EntryHash != wantHash ||
			file.Control.TotalDebitEntryDollarAmountInFile != 12_345 || int64(file.Control.TotalCreditEntryDollarAmountInFile) != 5_000+a1+a2 ||
			first.DebitCents != 12_345 || first.CreditCents != 5_000+a1+a2 {
			t.Errorf("file control %+v, row %+v", file.Control, first)
		}
		for _, b := range file.Batches {
			for _, e := range b.GetEntries() {
				wt, ok := wantByTrace[e.TraceNumber]
				if !ok {
					t.Errorf("entry %s of %d is no transaction of the window", e.TraceNumber, e.Amount)
					continue
				}
				if e.Amount != wt.amount || e.RDFIIdentification+e.CheckDigit != wt.routing || b.GetHeader().StandardEntryClassCode != wt.sec || b.GetHeader().ServiceClassCode != wt.class {
					t.Errorf("entry %s: %d to %s in %s/%d, want %+v", e.TraceNumber, e.Amount, e.RDFIIdentification, b.GetHeader().StandardEntryClassCode, b.GetHeader().ServiceClassCode, wt)
				}
				delete(wantByTrace, e.TraceNumber)
			}
		}
		if len(wantByTrace) != 0 {
			t.Errorf("transactions missing from the file: %v", wantByTrace)
		}
		if ld, _ := w.s.Get(ctx, w.mp, lateDebit.ID); ld.Fields["trace_number"] != nil {
			t.Errorf("the late debit went out in the earlier window")
		}

		// The same window closed again (a job scheduled anew) writes nothing.
		cutoff := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)
		if _, err := w.sched.Schedule(ctx, payments.JobCloseACHWindow, payments.ACHWindowJobKey(w.mp, cutoff), w.mp, w.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if n := w.runAt(t, w.clk.Now()); n != 1 {
			t.Fatalf("%d jobs ran, want the second close", n)
		}
		if fs := w.files(t); len(fs) != 1 {
			t.Fatalf("%d files after closing the window twice", len(fs))
		}
		if again, _ := w.s.Get(ctx, w.mp, debit.ID); again.Fields["trace_number"] != d.Fields["trace_number"] {
			t.Fatalf("trace number changed: %v, was %v", again.Fields["trace_number"], d.Fields["trace_number"])
		}

		// Friday's window holds the late debit, its trace following on.
		w.runAt(t, time.Date(2026, 11, 27, 23, 35, 0, 0, time.UTC))
		fs = w.files(t)
		if len(fs) != 2 || fs[0].EntryCount != 1 || fs[0].DebitCents != 2_222 {
			t.Fatalf("files after Friday: %+v", fs)
		}
		ld, _ := w.s.Get(ctx, w.mp, lateDebit.ID)
		if tn := payments.Str(ld.Fields["trace_number"]); tn != "121042880000005" {
			t.Errorf("Friday's trace %s, want the fifth of the ODFI", tn)
		}
		readBack(t, w.s, w.mp, fs[0].ID)
	})
}

// A close that died after claiming its job (the process killed) leaves
// nothing; the job's lease runs out, another run takes it, and the window
// has one file.
func TestACHWindowCloseSurvivesADeadRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newLiveWorld(t, kind)
		if _, err := w.s.SetACHSettings(ctx, w.mp, liveSettings); err != nil {
			t.Fatal(err)
		}
		alice := w.bank(t, "Alice Buyer", "123456789", "231380104", "checking", false)
		bz, err := w.s.CreateVerification(ctx, w.mp, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.verify(t, bz.ID)
		in := amount(4_000)
		in.Instrument = alice.ID
		if _, err := w.s.Debit(ctx, w.mp, in); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 25, 23, 45, 0, 0, time.UTC)
		if err := w.clk.Set(at); err != nil {
			t.Fatal(err)
		}
		claimed, err := w.db.Claim(ctx, at, at.Add(time.Minute), 10)
		if err != nil || len(claimed) != 1 || claimed[0].Kind != payments.JobCloseACHWindow {
			t.Fatalf("claimed %+v, %v", claimed, err)
		}
		// The claimer dies here. Within its lease nothing runs ...
		if n := w.runAt(t, at.Add(30*time.Second)); n != 0 || len(w.files(t)) != 0 {
			t.Fatalf("%d jobs ran inside the dead run's lease", n)
		}
		// ... after it, the close runs once, and a dead run completing late
		// finds the job gone.
		w.runAt(t, at.Add(2*time.Minute))
		if fs := w.files(t); len(fs) != 1 || fs[0].EntryCount != 3 {
			t.Fatalf("files %+v", fs)
		}
		if err := w.s.CloseACHWindow(ctx, claimed[0]); err != nil {
			t.Fatalf("the dead run's late close: %v", err)
		}
		if fs := w.files(t); len(fs) != 1 {
			t.Fatalf("%d files after the dead run came back", len(fs))
		}
	})
}

func TestTestMarketplacesWriteNoACHFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, _ := newService(t, kind)
		_, mp := newMarketplace(t, s)
		if _, err := s.SetACHSettings(ctx, mp.ID, liveSettings); apperr.ReasonOf(err) != "marketplace-not-live" {
			t.Fatalf("settings on a test marketplace: %v", err)
		}
		if fs, total, err := s.ListACHFiles(ctx, mp.ID, 10, 0); err != nil || total != 0 || len(fs) != 0 {
			t.Fatalf("files of a test marketplace: %v %d %v", fs, total, err)
		}
		// Another marketplace's file is not found.
		w := newLiveWorld(t, kind)
		if _, err := w.s.GetACHFile(ctx, mp.ID, "AF-nope", false); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("missing file: %v", err)
		}
	})
}

// Two marketplaces sending through one ODFI draw their trace numbers from
// one sequence: the bank never gets two entries under one trace, and each
// marketplace's returns find only its own.
func TestMarketplacesSharingAnODFIShareItsTraceSequence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newLiveWorld(t, kind)
		key, _, _ := w.s.CreateAPIKey(ctx, nil, nil)
		other, err := w.s.CreateMarketplace(ctx, key, map[string]any{"production": true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		traces := map[string]string{}
		for _, mp := range []string{w.mp, other.ID} {
			if _, err := w.s.SetACHSettings(ctx, mp, liveSettings); err != nil {
				t.Fatal(err)
			}
			b, err := w.s.CreateBankAccount(ctx, mp, payments.BankAccountInput{Name: "Payee", AccountNumber: "5556667", RoutingNumber: "011000015", AccountType: "checking"})
			if err != nil {
				t.Fatal(err)
			}
			bz, err := w.s.CreateVerification(ctx, mp, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			traces[mp] = bz.ID
		}
		w.runAt(t, time.Date(2026, 11, 25, 23, 45, 0, 0, time.UTC))
		seen := map[string]string{}
		for mp, bz := range traces {
			r, err := w.db.GetResource(ctx, mp, bz)
			if err != nil {
				t.Fatal(err)
			}
			ts, _ := r.Private["ach_trace_numbers"].([]any)
			if len(ts) != 2 {
				t.Fatalf("%s's verification went out with traces %v", mp, ts)
			}
			for _, tr := range ts {
				tn := payments.Str(tr)
				if prev, dup := seen[tn]; dup {
					t.Fatalf("trace %s sent by %s and %s", tn, prev, mp)
				}
				seen[tn] = mp
			}
		}
		// Four traces of the ODFI, 1 to 4, shared out between the two.
		for i := 1; i <= 4; i++ {
			if _, ok := seen["12104288000000"+strconv.Itoa(i)]; !ok {
				t.Fatalf("trace %d of the ODFI was not given out: %v", i, seen)
			}
		}
		// A return of the other marketplace's entry is no return of this
		// one's.
		for tn, mp := range seen {
			if mp == w.mp {
				continue
			}
			res, err := w.s.ApplyACHReturns(ctx, w.mp, achfiletest.ReturnsFile(t, achfiletest.Entry{Trace: tn, Code: "R03", AmountMinor: 1}))
			if err != nil || len(res.Returns) != 1 || res.Returns[0].Outcome != payments.ReturnUnmatched {
				t.Fatalf("the other marketplace's trace %s: %+v, %v", tn, res, err)
			}
			break
		}
	})
}
