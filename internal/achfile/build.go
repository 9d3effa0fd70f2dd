// Package achfile writes the NACHA files a live marketplace sends its bank
// (ODFI) at each ACH cut-off, and reads the return files the bank sends
// back. The format itself is github.com/moov-io/ach's; this package only
// decides what goes into a file and what comes out of one. It knows nothing
// of storage or HTTP: callers give it plain values and get plain values.
package achfile

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/moov-io/ach"

	"github.com/poise-payments/poise/internal/apperr"
)

// Limits.
const (
	// MaxTraceSequence is the largest sequence a trace number holds: NACHA
	// gives it seven digits after the ODFI's eight-digit routing prefix.
	MaxTraceSequence = 9_999_999
	// maxEntryAmountCents is the largest amount an entry's ten-digit amount
	// field holds ($99,999,999.99).
	maxEntryAmountCents = 9_999_999_999
	// MaxEntriesPerFile bounds one file. NACHA's control records hold
	// eight-digit counts; banks take far fewer, and a window with more
	// than this is left for an operator rather than written half.
	MaxEntriesPerFile = 100_000
)

// Kind is what an entry does to the receiver's account.
type Kind string

// Kinds of entries.
const (
	// Debit pulls money from the receiver (a debit of a bank account).
	Debit Kind = "debit"
	// Credit pushes money to the receiver (a payout).
	Credit Kind = "credit"
	// Verification is a micro-deposit: a credit of a few cents the account
	// holder confirms. NACHA wants them in a batch described "ACCTVERIFY".
	Verification Kind = "verification"
)

// Account types of a receiver's account.
const (
	Checking = "checking"
	Savings  = "savings"
)

// Standard entry class codes, by who the receiver is.
const (
	// SECConsumer (PPD) is for entries to a person's account.
	SECConsumer = ach.PPD
	// SECBusiness (CCD) is for entries to a company's account.
	SECBusiness = ach.CCD
)

// Company entry descriptions: what the receiver's statement says.
const (
	descriptionDebit        = "PAYMENT"
	descriptionCredit       = "PAYOUT"
	descriptionVerification = "ACCTVERIFY"
)

// Origin is a marketplace's configuration at its bank: who sends the file
// and whose entries it holds.
type Origin struct {
	// ODFIRouting is the nine-digit routing number of the bank that sends
	// the entries into the network; the file goes to it, and trace numbers
	// start with its first eight digits.
	ODFIRouting string
	// CompanyID is the originator's ten-character company identification
	// the bank assigned.
	CompanyID string
	// CompanyName is shown on receivers' statements (16 characters).
	CompanyName string
	// OriginName and DestinationName are the file header's names of the
	// sender and the receiving bank (23 characters each).
	OriginName      string
	DestinationName string
}

// Validate reports what is wrong with an origin, as an invalid-input error.
func (o Origin) Validate() error {
	if err := checkRouting("odfi_routing_number", o.ODFIRouting); err != nil {
		return err
	}
	if o.CompanyID == "" || len(o.CompanyID) > 10 || !printable(o.CompanyID) {
		return apperr.WithReason(apperr.Invalid, "invalid-ach-settings", "company_id must be 1 to 10 printable characters")
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{{"company_name", o.CompanyName, 16}, {"origin_name", o.OriginName, 23}, {"destination_name", o.DestinationName, 23}} {
		if f.value == "" || len(f.value) > f.max || !printable(f.value) {
			return apperr.WithReason(apperr.Invalid, "invalid-ach-settings", "%s must be 1 to %d printable characters", f.name, f.max)
		}
	}
	return nil
}

// Entry is one transaction of a window.
type Entry struct {
	Kind        Kind
	AmountCents int64
	// Routing and Account are the receiver's bank account.
	Routing     string
	Account     string
	AccountType string // Checking or Savings
	// Business receivers get CCD entries, consumers PPD.
	Business bool
	// Name is the receiver's name (22 characters are kept).
	Name string
	// Ref identifies the transaction to the receiver (15 characters kept).
	Ref string
}

// Window is what a file is built for.
type Window struct {
	// CreatedAt is when the file is written (its header's date and time).
	CreatedAt time.Time
	// EffectiveDate is the business day the entries are meant to settle.
	EffectiveDate time.Time
	// FileIDModifier tells apart files sent to the bank on one day: A-Z, 0-9.
	FileIDModifier string
	// FirstTraceSequence is the sequence of the file's first trace number;
	// the file uses this and the ones after it, one per entry.
	FirstTraceSequence int
}

// Built is a written file: its text, and the trace number each entry got,
// in the order the entries were given.
type Built struct {
	Content      []byte
	TraceNumbers []string
	// Totals, read back from the file's control record.
	EntryCount   int
	EntryHash    int
	DebitCents   int64
	CreditCents  int64
	NextSequence int
}

// batchKey groups entries: one batch per class, direction and description.
type batchKey struct {
	sec          string
	serviceClass int
	description  string
}

// Build writes the NACHA file of a window's entries. Entries are grouped in
// batches by SEC code (PPD, CCD), service class (debits only, credits only)
// and kind (micro-deposits apart); trace numbers are the ODFI's routing
// prefix and a sequence that runs on from w.FirstTraceSequence across
// batches, ascending within each as NACHA requires.
func Build(o Origin, w Window, entries []Entry) (Built, error) {
	if err := o.Validate(); err != nil {
		return Built{}, err
	}
	if len(entries) == 0 {
		return Built{}, apperr.New(apperr.Invalid, "a NACHA file needs at least one entry")
	}
	if len(entries) > MaxEntriesPerFile {
		return Built{}, apperr.New(apperr.Invalid, "a NACHA file holds at most %d entries", MaxEntriesPerFile)
	}
	if w.FirstTraceSequence < 1 || w.FirstTraceSequence+len(entries)-1 > MaxTraceSequence {
		return Built{}, apperr.New(apperr.Invalid, "trace sequences %d and on do not fit seven digits", w.FirstTraceSequence)
	}
	mod := w.FileIDModifier
	if len(mod) != 1 || !strings.Contains("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", mod) {
		return Built{}, apperr.New(apperr.Invalid, "a file ID modifier is one of A-Z or 0-9")
	}
	groups := map[batchKey][]int{}
	for i, e := range entries {
		k, err := keyOf(e)
		if err != nil {
			return Built{}, fmt.Errorf("entry %d: %w", i, err)
		}
		groups[k] = append(groups[k], i)
	}
	keys := make([]batchKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	// A fixed batch order makes the same window always give the same file.
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.sec != b.sec {
			return a.sec > b.sec // PPD before CCD
		}
		if a.serviceClass != b.serviceClass {
			return a.serviceClass > b.serviceClass // debits before credits
		}
		return a.description < b.description
	})

	fh := ach.NewFileHeader()
	fh.ImmediateDestination = o.ODFIRouting
	fh.ImmediateOrigin = o.ODFIRouting
	fh.ImmediateDestinationName = o.DestinationName
	fh.ImmediateOriginName = o.OriginName
	fh.FileCreationDate = w.CreatedAt.Format("060102")
	fh.FileCreationTime = w.CreatedAt.Format("1504")
	fh.FileIDModifier = mod
	file := ach.NewFile()
	file.SetHeader(fh)

	traces := make([]string, len(entries))
	seq := w.FirstTraceSequence
	for n, k := range keys {
		bh := ach.NewBatchHeader()
		bh.ServiceClassCode = k.serviceClass
		bh.CompanyName = o.CompanyName
		bh.CompanyIdentification = o.CompanyID
		bh.StandardEntryClassCode = k.sec
		bh.CompanyEntryDescription = k.description
		bh.EffectiveEntryDate = w.EffectiveDate.Format("060102")
		bh.ODFIIdentification = o.ODFIRouting[:8]
		bh.BatchNumber = n + 1
		batch, err := ach.NewBatch(bh)
		if err != nil {
			return Built{}, fmt.Errorf("achfile: new batch: %w", err)
		}
		for _, i := range groups[k] {
			e := entries[i]
			ed := ach.NewEntryDetail()
			ed.TransactionCode = transactionCode(e)
			ed.SetRDFI(e.Routing)
			ed.DFIAccountNumber = e.Account
			ed.Amount = int(e.AmountCents)
			ed.IdentificationNumber = clip(e.Ref, 15)
			ed.IndividualName = clip(e.Name, 22)
			ed.SetTraceNumber(o.ODFIRouting[:8], seq)
			traces[i] = ed.TraceNumber
			seq++
			batch.AddEntry(ed)
		}
		if err := batch.Create(); err != nil {
			return Built{}, fmt.Errorf("achfile: batch %s %d: %w", k.sec, k.serviceClass, err)
		}
		file.AddBatch(batch)
	}
	if err := file.Create(); err != nil {
		return Built{}, fmt.Errorf("achfile: create file: %w", err)
	}
	if err := file.Validate(); err != nil {
		return Built{}, fmt.Errorf("achfile: the file built does not validate: %w", err)
	}
	var buf bytes.Buffer
	if err := ach.NewWriter(&buf).Write(file); err != nil {
		return Built{}, fmt.Errorf("achfile: write file: %w", err)
	}
	return Built{
		Content:      buf.Bytes(),
		TraceNumbers: traces,
		EntryCount:   file.Control.EntryAddendaCount,
		EntryHash:    file.Control.EntryHash,
		DebitCents:   int64(file.Control.TotalDebitEntryDollarAmountInFile),
		CreditCents:  int64(file.Control.TotalCreditEntryDollarAmountInFile),
		NextSequence: seq,
	}, nil
}

// keyOf checks an entry and names its batch.
func keyOf(e Entry) (batchKey, error) {
	if e.AmountCents <= 0 || e.AmountCents > maxEntryAmountCents {
		return batchKey{}, apperr.New(apperr.Invalid, "an entry's amount must be 1 to %d cents", int64(maxEntryAmountCents))
	}
	if err := checkRouting("routing_number", e.Routing); err != nil {
		return batchKey{}, err
	}
	if e.Account == "" || len(e.Account) > 17 || !printable(e.Account) {
		return batchKey{}, apperr.New(apperr.Invalid, "an account number is 1 to 17 characters")
	}
	if e.AccountType != Checking && e.AccountType != Savings {
		return batchKey{}, apperr.New(apperr.Invalid, "account type %q is neither checking nor savings", e.AccountType)
	}
	if strings.TrimSpace(e.Name) == "" {
		return batchKey{}, apperr.New(apperr.Invalid, "an entry needs the receiver's name")
	}
	k := batchKey{sec: SECConsumer}
	if e.Business {
		k.sec = SECBusiness
	}
	switch e.Kind {
	case Debit:
		k.serviceClass, k.description = ach.DebitsOnly, descriptionDebit
	case Credit:
		k.serviceClass, k.description = ach.CreditsOnly, descriptionCredit
	case Verification:
		k.serviceClass, k.description = ach.CreditsOnly, descriptionVerification
	default:
		return batchKey{}, apperr.New(apperr.Invalid, "entry kind %q is not debit, credit or verification", e.Kind)
	}
	return k, nil
}

func transactionCode(e Entry) int {
	debit := e.Kind == Debit
	switch {
	case e.AccountType == Savings && debit:
		return ach.SavingsDebit
	case e.AccountType == Savings:
		return ach.SavingsCredit
	case debit:
		return ach.CheckingDebit
	}
	return ach.CheckingCredit
}

// checkRouting accepts a nine-digit ABA routing number with a right check digit.
func checkRouting(field, r string) error {
	if err := ach.CheckRoutingNumber(r); err != nil || len(r) != 9 {
		return apperr.WithReason(apperr.Invalid, "invalid-routing-number", "%s %q is not a nine-digit routing number with a valid check digit", field, r)
	}
	return nil
}

// printable reports whether s holds only the printable ASCII NACHA allows.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
