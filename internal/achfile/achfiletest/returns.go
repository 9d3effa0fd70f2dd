// Package achfiletest writes, with moov-io/ach, the files a bank sends back
// to Poise, for tests of the code that reads them.
package achfiletest

import (
	"bytes"
	"testing"

	"github.com/moov-io/ach"
)

// The test bank: who sends the file back, and the ODFI whose entries come
// back in it.
const (
	rdfiRouting = "121042882"
	odfiPrefix  = "23138010"
)

// Entry is one entry a test bank sends back: a return (Code R01…R85) or a
// notification of change (Code C01…).
type Entry struct {
	// Trace is the trace number of the entry returned or corrected.
	Trace string
	Code  string
	// AmountMinor is a returned entry's amount; changes carry none.
	AmountMinor int64
	// Debit marks the return of a debit (the default is a credit).
	Debit bool
	// Savings marks an entry of a savings account (the default is checking).
	Savings bool
	// CorrectedData is a change's corrected value.
	CorrectedData string
}

// ReturnsFile writes the file that carries entries back: returns in a PPD
// batch with addenda 99, changes in a COR batch with addenda 98.
func ReturnsFile(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	fh := ach.NewFileHeader()
	fh.ImmediateDestination, fh.ImmediateOrigin = rdfiRouting, "231380104"
	fh.ImmediateDestinationName, fh.ImmediateOriginName = "Wells Fargo", "Receiving Bank"
	fh.FileCreationDate, fh.FileCreationTime = "261203", "0900"
	file := ach.NewFile()
	file.SetHeader(fh)
	header := func(sec string, n int) *ach.BatchHeader {
		bh := ach.NewBatchHeader()
		bh.ServiceClassCode = ach.MixedDebitsAndCredits
		bh.CompanyName, bh.CompanyIdentification = "Rent Market", "1234567890"
		bh.StandardEntryClassCode, bh.CompanyEntryDescription = sec, "RETURN"
		bh.EffectiveEntryDate, bh.ODFIIdentification = "261203", odfiPrefix
		bh.BatchNumber = n
		return bh
	}
	ppd := ach.NewBatchPPD(header(ach.PPD, 1))
	cor := ach.NewBatchCOR(header(ach.COR, 2))
	for i, e := range entries {
		ed := ach.NewEntryDetail()
		switch {
		case e.Savings && e.Debit:
			ed.TransactionCode = ach.SavingsReturnNOCDebit
		case e.Savings:
			ed.TransactionCode = ach.SavingsReturnNOCCredit
		case e.Debit:
			ed.TransactionCode = ach.CheckingReturnNOCDebit
		default:
			ed.TransactionCode = ach.CheckingReturnNOCCredit
		}
		ed.SetRDFI(rdfiRouting)
		ed.DFIAccountNumber, ed.IndividualName = "123456789", "Receiver"
		ed.SetTraceNumber(odfiPrefix, i+1)
		ed.AddendaRecordIndicator = 1
		if e.Code != "" && e.Code[0] == 'C' {
			a := ach.NewAddenda98()
			a.ChangeCode, a.OriginalTrace, a.OriginalDFI, a.CorrectedData = e.Code, e.Trace, odfiPrefix, e.CorrectedData
			a.TraceNumber = ed.TraceNumber
			ed.Addenda98, ed.Category = a, ach.CategoryNOC
			ed.IdentificationNumber = "NOC"
			cor.AddEntry(ed)
			continue
		}
		ed.Amount = int(e.AmountMinor)
		a := ach.NewAddenda99()
		a.ReturnCode, a.OriginalTrace, a.OriginalDFI = e.Code, e.Trace, odfiPrefix
		a.TraceNumber = ed.TraceNumber
		ed.Addenda99, ed.Category = a, ach.CategoryReturn
		ppd.AddEntry(ed)
	}
	for _, b := range []ach.Batcher{ppd, cor} {
		if len(b.GetEntries()) == 0 {
			continue
		}
		if err := b.Create(); err != nil {
			t.Fatal(err)
		}
		file.AddBatch(b)
	}
	if err := file.Create(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ach.NewWriter(&buf).Write(file); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
