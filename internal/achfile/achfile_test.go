package achfile

import (
	"bytes"
	"github.com/poise-payments/poise/internal/achfile/achfiletest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/ach"

	"github.com/poise-payments/poise/internal/apperr"
)

var testOrigin = Origin{
	ODFIRouting:     "121042882",
	CompanyID:       "1234567890",
	CompanyName:     "Rent Market",
	OriginName:      "Rent Market Inc",
	DestinationName: "Wells Fargo",
}

var testWindow = Window{
	CreatedAt:          time.Date(2026, 11, 30, 23, 31, 0, 0, time.UTC),
	EffectiveDate:      time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
	FileIDModifier:     "A",
	FirstTraceSequence: 41,
}

func testEntries() []Entry {
	return []Entry{
		{Kind: Debit, AmountCents: 12_345, Routing: "231380104", Account: "123456789", AccountType: Checking, Name: "Alice Buyer", Ref: "WD1"},
		{Kind: Credit, AmountCents: 5_000, Routing: "021000021", Account: "9900000002", AccountType: Savings, Business: true, Name: "Bob's Rentals LLC", Ref: "CR1"},
		{Kind: Debit, AmountCents: 99, Routing: "011000015", Account: "55-66", AccountType: Savings, Name: "Carol", Ref: "WD2"},
		{Kind: Verification, AmountCents: 17, Routing: "231380104", Account: "42", AccountType: Checking, Name: "Dan", Ref: "BZ1"},
		{Kind: Verification, AmountCents: 31, Routing: "231380104", Account: "42", AccountType: Checking, Name: "Dan", Ref: "BZ1"},
		{Kind: Credit, AmountCents: 250_000, Routing: "011000015", Account: "777", AccountType: Checking, Name: "Erin", Ref: "CR2"},
	}
}

// The file is read back by moov-io/ach itself and checked against totals
// computed here from the entries, not from the file.
func TestBuildReadsBackAndMatchesTheEntries(t *testing.T) {
	entries := testEntries()
	built, err := Build(testOrigin, testWindow, entries)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ach.NewReader(bytes.NewReader(built.Content)).Read()
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}

	var wantDebit, wantCredit int64
	wantHash := 0
	for _, e := range entries {
		if e.Kind == Debit {
			wantDebit += e.AmountCents
		} else {
			wantCredit += e.AmountCents
		}
		n, _ := strconv.Atoi(e.Routing[:8])
		wantHash += n
	}
	wantHash %= 10_000_000_000
	if f.Control.EntryAddendaCount != len(entries) || built.EntryCount != len(entries) {
		t.Errorf("entry count %d (reported %d), want %d", f.Control.EntryAddendaCount, built.EntryCount, len(entries))
	}
	if f.Control.EntryHash != wantHash || built.EntryHash != wantHash {
		t.Errorf("entry hash %d (reported %d), want %d", f.Control.EntryHash, built.EntryHash, wantHash)
	}
	if int64(f.Control.TotalDebitEntryDollarAmountInFile) != wantDebit || built.DebitCents != wantDebit {
		t.Errorf("debits %d, want %d", f.Control.TotalDebitEntryDollarAmountInFile, wantDebit)
	}
	if int64(f.Control.TotalCreditEntryDollarAmountInFile) != wantCredit || built.CreditCents != wantCredit {
		t.Errorf("credits %d, want %d", f.Control.TotalCreditEntryDollarAmountInFile, wantCredit)
	}

	// Each entry is in the file under the trace number reported for it,
	// in a batch of the class and direction it asks for.
	byTrace := map[string]struct {
		ed *ach.EntryDetail
		bh *ach.BatchHeader
	}{}
	for _, b := range f.Batches {
		for _, ed := range b.GetEntries() {
			byTrace[ed.TraceNumber] = struct {
				ed *ach.EntryDetail
				bh *ach.BatchHeader
			}{ed, b.GetHeader()}
		}
	}
	seen := map[string]bool{}
	for i, e := range entries {
		tn := built.TraceNumbers[i]
		if seen[tn] {
			t.Fatalf("trace number %s given twice", tn)
		}
		seen[tn] = true
		if !strings.HasPrefix(tn, "12104288") || len(tn) != 15 {
			t.Errorf("trace %s does not start with the ODFI's prefix", tn)
		}
		if seq, _ := strconv.Atoi(tn[8:]); seq < 41 || seq >= 41+len(entries) {
			t.Errorf("trace %s is outside the window's sequences", tn)
		}
		got, ok := byTrace[tn]
		if !ok {
			t.Fatalf("entry %d: trace %s not in the file", i, tn)
		}
		if int64(got.ed.Amount) != e.AmountCents || strings.TrimSpace(got.ed.DFIAccountNumber) != e.Account || got.ed.RDFIIdentification+got.ed.CheckDigit != e.Routing {
			t.Errorf("entry %d: file has %d to %s/%s", i, got.ed.Amount, got.ed.RDFIIdentification, got.ed.DFIAccountNumber)
		}
		wantSEC := ach.PPD
		if e.Business {
			wantSEC = ach.CCD
		}
		if got.bh.StandardEntryClassCode != wantSEC {
			t.Errorf("entry %d in a %s batch, want %s", i, got.bh.StandardEntryClassCode, wantSEC)
		}
		wantClass, wantCode := ach.CreditsOnly, map[string]int{Checking: ach.CheckingCredit, Savings: ach.SavingsCredit}[e.AccountType]
		if e.Kind == Debit {
			wantClass, wantCode = ach.DebitsOnly, map[string]int{Checking: ach.CheckingDebit, Savings: ach.SavingsDebit}[e.AccountType]
		}
		if got.bh.ServiceClassCode != wantClass || got.ed.TransactionCode != wantCode {
			t.Errorf("entry %d: class %d code %d, want %d %d", i, got.bh.ServiceClassCode, got.ed.TransactionCode, wantClass, wantCode)
		}
		if (e.Kind == Verification) != (strings.TrimSpace(got.bh.CompanyEntryDescription) == "ACCTVERIFY") {
			t.Errorf("entry %d (%s) in a batch described %q", i, e.Kind, got.bh.CompanyEntryDescription)
		}
	}
	if built.NextSequence != 41+len(entries) {
		t.Errorf("next sequence %d, want %d", built.NextSequence, 41+len(entries))
	}
	if f.Header.ImmediateDestination != testOrigin.ODFIRouting || f.Header.FileIDModifier != "A" {
		t.Errorf("header %+v", f.Header)
	}

	again, err := Build(testOrigin, testWindow, entries)
	if err != nil || !bytes.Equal(again.Content, built.Content) {
		t.Error("the same window built twice gives two different files")
	}
}

func TestBuildRefusesWhatNACHACannotCarry(t *testing.T) {
	good := testEntries()[0]
	for name, tc := range map[string]struct {
		o  Origin
		w  Window
		es []Entry
	}{
		"no entries":          {testOrigin, testWindow, nil},
		"bad odfi routing":    {Origin{ODFIRouting: "121042883", CompanyID: "1", CompanyName: "a", OriginName: "b", DestinationName: "c"}, testWindow, []Entry{good}},
		"long company id":     {Origin{ODFIRouting: "121042882", CompanyID: "12345678901", CompanyName: "a", OriginName: "b", DestinationName: "c"}, testWindow, []Entry{good}},
		"zero amount":         {testOrigin, testWindow, []Entry{{Kind: Debit, Routing: "231380104", Account: "1", AccountType: Checking, Name: "x"}}},
		"bad receiver":        {testOrigin, testWindow, []Entry{{Kind: Debit, AmountCents: 1, Routing: "231380105", Account: "1", AccountType: Checking, Name: "x"}}},
		"unknown kind":        {testOrigin, testWindow, []Entry{{Kind: "refund", AmountCents: 1, Routing: "231380104", Account: "1", AccountType: Checking, Name: "x"}}},
		"sequence overflow":   {testOrigin, Window{CreatedAt: testWindow.CreatedAt, FileIDModifier: "A", FirstTraceSequence: MaxTraceSequence}, []Entry{good, good}},
		"bad modifier":        {testOrigin, Window{CreatedAt: testWindow.CreatedAt, FileIDModifier: "a", FirstTraceSequence: 1}, []Entry{good}},
		"amount beyond field": {testOrigin, testWindow, []Entry{{Kind: Debit, AmountCents: 10_000_000_000, Routing: "231380104", Account: "1", AccountType: Checking, Name: "x"}}},
	} {
		if _, err := Build(tc.o, tc.w, tc.es); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: got %v, want an invalid-input error", name, err)
		}
	}
}

func TestParseReturns(t *testing.T) {
	got, err := ParseReturns(bytes.NewReader(testReturnsFile(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Return{
		{OriginalTrace: "121042880000041", Code: "R01", Reason: "Insufficient Funds", AmountCents: 12_345},
		{OriginalTrace: "121042880000043", Code: "R10", AmountCents: 99},
	}
	if len(got.Returns) != len(want) {
		t.Fatalf("returns %+v, want %d", got.Returns, len(want))
	}
	for i, w := range want {
		g := got.Returns[i]
		if g.OriginalTrace != w.OriginalTrace || g.Code != w.Code || g.AmountCents != w.AmountCents || g.Reason == "" {
			t.Errorf("return %d = %+v, want %+v", i, g, w)
		}
	}
	if got.Returns[0].Reason != want[0].Reason {
		t.Errorf("R01's reason %q, want %q", got.Returns[0].Reason, want[0].Reason)
	}
	if len(got.Changes) != 1 || got.Changes[0] != (Change{OriginalTrace: "121042880000046", Code: "C01", Reason: got.Changes[0].Reason, CorrectedData: "7778"}) || got.Changes[0].Reason == "" {
		t.Errorf("changes %+v", got.Changes)
	}
}

func TestParseReturnsRefusesWhatItCannotRead(t *testing.T) {
	forward, err := Build(testOrigin, testWindow, testEntries())
	if err != nil {
		t.Fatal(err)
	}
	good := testReturnsFile(t)
	for name, body := range map[string][]byte{
		"empty":         nil,
		"not nacha":     []byte("hello\n"),
		"truncated":     good[:len(good)/2],
		"forward file":  forward.Content,
		"too large":     bytes.Repeat([]byte("9"), MaxReturnsFileBytes+1),
		"corrupt total": bytes.Replace(good, []byte("R01"), []byte("R99"), 1),
	} {
		if _, err := ParseReturns(bytes.NewReader(body)); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: got %v, want an invalid-input error", name, err)
		}
	}
}

// BenchmarkBuild measures writing one window's file of 10,000 entries,
// mixed as a marketplace's are, with moov-io/ach's own validation.
func BenchmarkBuild(b *testing.B) {
	const entries = 10_000
	es := make([]Entry, entries)
	base := testEntries()
	for i := range es {
		es[i] = base[i%len(base)]
		es[i].AmountCents = int64(100 + i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(testOrigin, testWindow, es); err != nil {
			b.Fatal(err)
		}
	}
}

// testReturnsFile is a bank's file of two returns, one of a savings
// account, and one notification of change.
func testReturnsFile(t *testing.T) []byte {
	return achfiletest.ReturnsFile(t,
		achfiletest.Entry{Trace: "121042880000041", Code: "R01", AmountMinor: 12_345, Debit: true},
		achfiletest.Entry{Trace: "121042880000043", Code: "R10", AmountMinor: 99, Debit: true, Savings: true},
		achfiletest.Entry{Trace: "121042880000046", Code: "C01", CorrectedData: "7778"})
}
