package payments

import (
	"bytes"
	"context"
	"errors"

	"github.com/poise-payments/poise/internal/achfile"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// A live marketplace's bank sends back what it could not deliver: a return
// (addenda 99) fails its transaction late, even one that had succeeded, and
// moves the money back; a notification of change (addenda 98) is recorded
// on the bank account. Uploading the same file twice changes nothing: a
// transaction already returned is left as it is.

// Outcomes of one entry of a returns file.
const (
	ReturnApplied        = "applied"
	ReturnAlreadyApplied = "already_applied"
	// ReturnUnmatched: no file of this marketplace sent the trace number.
	ReturnUnmatched = "unmatched"
)

// ACHShortfallAccount stands for what a return took back beyond what the
// marketplace held: the amount the marketplace owes its bank. It may go
// negative; it is the only account a return may push below zero, and only
// after the order and the marketplace escrow gave what they had.
func ACHShortfallAccount(marketplace string) string { return marketplace + "_ach_shortfall" }

// ACHReturnResult is what one return of a file did.
type ACHReturnResult struct {
	TraceNumber string
	Transaction string // the returned debit, credit or verification; "" when unmatched
	Code        string
	Reason      string
	Outcome     string
}

// ACHChangeResult is one notification of change and the bank account it
// concerns.
type ACHChangeResult struct {
	TraceNumber   string
	BankAccount   string
	Code          string
	Reason        string
	CorrectedData string
	Outcome       string
}

// ACHReturnsResult is what a returns file did.
type ACHReturnsResult struct {
	Returns []ACHReturnResult
	Changes []ACHChangeResult
}

// achEntryReader finds what a trace number was sent for.
type achEntryReader interface {
	ACHEntryByTrace(ctx context.Context, marketplace, trace string) (ACHEntry, error)
}

// ApplyACHReturns reads a bank's returns file and fails the transactions it
// returns, all in one transaction: a file is applied whole or not at all.
func (s *Service) ApplyACHReturns(ctx context.Context, marketplace string, content []byte) (ACHReturnsResult, error) {
	mp, err := s.GetTyped(ctx, marketplace, "marketplaces", marketplace)
	if err != nil {
		return ACHReturnsResult{}, err
	}
	if !isLive(mp) {
		return ACHReturnsResult{}, errNotLive
	}
	parsed, err := achfile.ParseReturns(bytes.NewReader(content))
	if err != nil {
		return ACHReturnsResult{}, err
	}
	st := s.store
	// Trace numbers are looked up before the operation; what they name
	// never changes once written.
	find := func(trace string) (ACHEntry, bool, error) {
		e, err := st.ACHEntryByTrace(ctx, marketplace, trace)
		if errors.Is(err, ledger.ErrNotFound) {
			return e, false, nil
		}
		return e, err == nil, err
	}
	var out ACHReturnsResult
	returned := make([]ACHEntry, len(parsed.Returns))
	for i, r := range parsed.Returns {
		e, ok, err := find(r.OriginalTrace)
		if err != nil {
			return ACHReturnsResult{}, err
		}
		res := ACHReturnResult{TraceNumber: r.OriginalTrace, Code: r.Code, Reason: r.Reason, Outcome: ReturnUnmatched}
		if ok {
			res.Transaction, returned[i] = e.ResourceID, e
		}
		out.Returns = append(out.Returns, res)
	}
	changed := make([]ACHEntry, len(parsed.Changes))
	for i, c := range parsed.Changes {
		e, ok, err := find(c.OriginalTrace)
		if err != nil {
			return ACHReturnsResult{}, err
		}
		out.Changes = append(out.Changes, ACHChangeResult{TraceNumber: c.OriginalTrace, Code: c.Code, Reason: c.Reason, CorrectedData: c.CorrectedData, Outcome: ReturnUnmatched})
		if ok {
			changed[i] = e
		}
	}
	_, err = s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		for i := range out.Returns {
			if returned[i].ResourceID == "" {
				continue
			}
			applied, err := w.applyReturn(ctx, marketplace, returned[i], out.Returns[i])
			if err != nil {
				return nil, err
			}
			out.Returns[i].Outcome = ReturnAlreadyApplied
			if applied {
				out.Returns[i].Outcome = ReturnApplied
			}
		}
		for i := range out.Changes {
			if changed[i].ResourceID == "" {
				continue
			}
			bank, applied, err := w.applyChange(ctx, marketplace, changed[i], out.Changes[i])
			if err != nil {
				return nil, err
			}
			out.Changes[i].BankAccount = bank
			out.Changes[i].Outcome = ReturnAlreadyApplied
			if applied {
				out.Changes[i].Outcome = ReturnApplied
			}
		}
		return nil, nil
	})
	if err != nil {
		return ACHReturnsResult{}, err
	}
	return out, nil
}

// applyReturn fails one returned transaction, unless it was already; it
// reports whether it changed anything.
func (w *Writer) applyReturn(ctx context.Context, marketplace string, e ACHEntry, ret ACHReturnResult) (bool, error) {
	r, err := w.Lock(ctx, marketplace, "", e.ResourceID)
	if err != nil {
		return false, err
	}
	if r.Private["ach_return"] != nil || r.Status == "failed" {
		return false, nil
	}
	r.Private["ach_return"] = map[string]any{"trace_number": e.TraceNumber, "code": ret.Code}
	wasPending := r.Status == "pending"
	reason := "the bank returned the entry: " + ret.Code
	if ret.Reason != "" {
		reason += " " + ret.Reason
	}
	switch r.Type {
	case "debits":
		if err := w.returnDebit(ctx, &r, wasPending); err != nil {
			return false, err
		}
	case "credits":
		if err := w.returnCredit(ctx, &r, wasPending); err != nil {
			return false, err
		}
	case "refunds":
		if err := w.returnRefund(ctx, &r, wasPending); err != nil {
			return false, err
		}
	case "reversals":
		if err := w.returnReversal(ctx, &r, wasPending); err != nil {
			return false, err
		}
	case "settlements":
		if err := w.returnSettlement(ctx, &r); err != nil {
			return false, err
		}
	case "bank_account_verifications":
		r.Fields["verification_status"] = "failed"
		r.Fields["deposit_status"] = "failed"
		bank, err := w.Lock(ctx, marketplace, "bank_accounts", r.Link("bank_account"))
		if err != nil {
			return false, err
		}
		// Deposits that never arrived verify nothing.
		bank.Fields["can_debit"] = false
		if _, err := w.Save(ctx, bank); err != nil {
			return false, err
		}
	default:
		return false, apperr.New(apperr.Conflict, "trace %s names a %s, which no file sends", e.TraceNumber, r.Type)
	}
	fail(&r, ret.Code, reason)
	saved, err := w.Save(ctx, r)
	if err != nil {
		return false, err
	}
	kind := r.Type[:len(r.Type)-1]
	if r.Type == "bank_account_verifications" {
		kind = "bank_account_verification"
	}
	_, err = w.Emit(ctx, kind+".failed", saved)
	return true, err
}

// returnDebit takes a debit's money back. A pending debit never funded
// anything: its pending transfer is voided. A succeeded one funded its
// order or the marketplace escrow: what is left of it after its refunds
// goes back to the bank (see clawBack), and the order's merchant gets a
// chargeback of as much. What was refunded already left the escrow for the
// buyer's bank; taking it back again would charge the marketplace twice
// for the same money.
func (w *Writer) returnDebit(ctx context.Context, d *Resource, wasPending bool) error {
	if wasPending {
		_, err := w.Void(Str(d.Private["transfer"]))
		return err
	}
	amount := Int(d.Fields["amount"]) - Int(d.Private["refunded"])
	d.Fields["returned_amount"] = amount
	if amount <= 0 {
		return nil
	}
	mp := d.Marketplace
	split, err := w.clawBack(mp, d.Link("order"), "order", amount, Str(d.Fields["transaction_number"]))
	if err != nil {
		return err
	}
	d.Fields["return_split"] = split
	if o := d.Link("order"); o != "" {
		// An order's amount is what it has taken in: a returned debit was
		// never taken in.
		if err := w.addOrderAmount(o, -amount); err != nil {
			return err
		}
	}
	merchant, err := w.merchantOf(ctx, mp, d.Link("order"))
	if err != nil {
		return err
	}
	return w.feed(ctx, FeedChargeback, merchant, amount, "ach", *d)
}

// clawBack moves amount back to the bank network from where an entry had
// put it: from first (an order or a payable account, named firstName in
// the split; none when empty) as far as it holds it, then from the marketplace escrow, and what neither holds is
// posted against ACHShortfallAccount, the amount the marketplace owes its
// bank. It returns the split, which the caller records.
func (w *Writer) clawBack(mp, first, firstName string, amount int64, ref string) (map[string]any, error) {
	var postings []ledger.Posting
	left := amount
	split := map[string]any{}
	take := func(account, name string) error {
		if left == 0 || account == "" {
			return nil
		}
		a, err := w.Account(account)
		if err != nil {
			return err
		}
		n := min(left, max(a.AvailableMinor(), 0))
		if n > 0 {
			postings = append(postings, ledger.Posting{AccountID: account, AmountMinor: -n})
			split[name] = n
			left -= n
		}
		return nil
	}
	if err := take(first, "from_"+firstName); err != nil {
		return nil, err
	}
	if err := take(EscrowAccount(mp), "from_marketplace_escrow"); err != nil {
		return nil, err
	}
	if left > 0 {
		if _, err := w.Account(ACHShortfallAccount(mp)); apperr.Is(err, apperr.NotFound) {
			if _, err := w.CreateAccount(ledger.Account{ID: ACHShortfallAccount(mp), Owner: mp, Kind: "ach_shortfall", Currency: Currency, MayGoNegative: true}); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		postings = append(postings, ledger.Posting{AccountID: ACHShortfallAccount(mp), AmountMinor: -left})
		split["shortfall"] = left
	}
	postings = append(postings, ledger.Posting{AccountID: BankNetworkAccount(mp), AmountMinor: amount})
	_, err := w.Transfer(ledger.TransferRequest{Code: "ach_return", Ref: ref, Postings: postings})
	return split, err
}

// giveBack brings returned money from the bank network back into the
// account it had left.
func (w *Writer) giveBack(mp, to string, amount int64, ref string) error {
	if amount <= 0 {
		return nil
	}
	_, err := w.Transfer(ledger.TransferRequest{Code: "ach_return", Ref: ref, Postings: []ledger.Posting{
		{AccountID: BankNetworkAccount(mp), AmountMinor: -amount}, {AccountID: to, AmountMinor: amount}}})
	return err
}

// returnCredit brings a payout's money back into the escrow it left. A
// pending credit's reservation is voided instead.
func (w *Writer) returnCredit(ctx context.Context, c *Resource, wasPending bool) error {
	if wasPending {
		if _, err := w.Void(Str(c.Private["transfer"])); err != nil {
			return err
		}
	} else if err := w.giveBack(c.Marketplace, escrowFor(c.Marketplace, c.Link("order")),
		Int(c.Fields["amount"])-Int(c.Private["reversed"]), Str(c.Fields["transaction_number"])); err != nil {
		return err
	}
	// The payout was fed when it was made; its return gives the money back.
	return w.feed(ctx, FeedPayoutCancel, c.Link("customer"), Int(c.Fields["amount"]), "ach", *c)
}

// returnRefund brings a refund the buyer's bank refused back into the
// escrow it left (a pending refund's reservation is voided instead); the
// debit may be refunded again.
func (w *Writer) returnRefund(ctx context.Context, rf *Resource, wasPending bool) error {
	mp, amount := rf.Marketplace, Int(rf.Fields["amount"])
	if wasPending {
		if _, err := w.Void(Str(rf.Private["transfer"])); err != nil {
			return err
		}
	} else if err := w.giveBack(mp, escrowFor(mp, rf.Link("order")), amount, Str(rf.Fields["transaction_number"])); err != nil {
		return err
	}
	d, err := w.Lock(ctx, mp, "debits", rf.Link("debit"))
	if err != nil {
		return err
	}
	d.Private["refunded"] = Int(d.Private["refunded"]) - amount
	if _, err := w.Save(ctx, d); err != nil {
		return err
	}
	// The refund was fed as a reversal when it was made; the merchant has
	// the money back. PayNet has no "refund cancelled": the money taken out
	// on the buyer's behalf coming back is fed as a chargeback reversal.
	merchant, err := w.merchantOf(ctx, mp, rf.Link("order"))
	if err != nil {
		return err
	}
	if err := w.feed(ctx, FeedChargebackReversal, merchant, amount, "ach", *rf); err != nil {
		return err
	}
	if o := rf.Link("order"); o != "" {
		return w.addOrderAmount(o, amount)
	}
	return nil
}

// returnReversal gives back what a reversal pulled from the recipient's
// bank: it leaves the escrow it went to (see clawBack); the credit may be
// reversed again.
func (w *Writer) returnReversal(ctx context.Context, rv *Resource, wasPending bool) error {
	mp, amount := rv.Marketplace, Int(rv.Fields["amount"])
	if wasPending {
		// Its money never reached the escrow: the promise is voided.
		if _, err := w.Void(Str(rv.Private["transfer"])); err != nil {
			return err
		}
	} else {
		split, err := w.clawBack(mp, rv.Link("order"), "order", amount, Str(rv.Fields["transaction_number"]))
		if err != nil {
			return err
		}
		rv.Fields["return_split"] = split
	}
	c, err := w.Lock(ctx, mp, "credits", rv.Link("credit"))
	if err != nil {
		return err
	}
	c.Private["reversed"] = Int(c.Private["reversed"]) - amount
	if _, err := w.Save(ctx, c); err != nil {
		return err
	}
	if wasPending {
		// Fed only when it settles: nothing to take back.
		return nil
	}
	// The reversal gave the recipient back its payout (payout_cancel); the
	// payout stands again.
	return w.feed(ctx, FeedPayout, c.Link("customer"), amount, "ach", *rv)
}

// returnSettlement undoes a settlement's bank leg: a payout to the bank
// comes back into the account it left; a pull from the bank leaves the
// account it went to (see clawBack).
func (w *Writer) returnSettlement(ctx context.Context, st *Resource) error {
	mp, amount, ref := st.Marketplace, Int(st.Fields["amount"]), Str(st.Fields["transaction_number"])
	dst, err := w.Lock(ctx, mp, "", st.Link("destination"))
	if err != nil {
		return err
	}
	if dst.Type == "bank_accounts" {
		return w.giveBack(mp, st.Link("source"), amount, ref)
	}
	split, err := w.clawBack(mp, dst.ID, "account", amount, ref)
	st.Fields["return_split"] = split
	return err
}

// applyChange records a notification of change on the bank account the
// entry went to; the account's owner updates it. It reports the account and
// whether anything changed.
func (w *Writer) applyChange(ctx context.Context, marketplace string, e ACHEntry, ch ACHChangeResult) (string, bool, error) {
	r, err := w.Lock(ctx, marketplace, "", e.ResourceID)
	if err != nil {
		return "", false, err
	}
	bankID := r.Link("source")
	switch r.Type {
	case "credits":
		bankID = r.Link("destination")
	case "bank_account_verifications":
		bankID = r.Link("bank_account")
	}
	bank, err := w.Lock(ctx, marketplace, "bank_accounts", bankID)
	if err != nil {
		return "", false, err
	}
	change := map[string]any{"trace_number": e.TraceNumber, "code": ch.Code, "reason": ch.Reason, "corrected_data": ch.CorrectedData}
	if prev, ok := bank.Fields["notification_of_change"].(map[string]any); ok && Str(prev["trace_number"]) == e.TraceNumber && Str(prev["code"]) == ch.Code {
		return bank.ID, false, nil
	}
	bank.Fields["notification_of_change"] = change
	saved, err := w.Save(ctx, bank)
	if err != nil {
		return "", false, err
	}
	_, err = w.Emit(ctx, "bank_account.updated", saved)
	return bank.ID, true, err
}
