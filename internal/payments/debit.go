package payments

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// What a test instrument is set to do when used, kept in its Private
// "outcome" by the sandbox that tokenized it.
const (
	OutcomeSucceeded = "succeeded"
	OutcomePending   = "pending"
	OutcomeFailed    = "failed"
	OutcomeDeclined  = "declined"
	OutcomeInvalid   = "invalid"
	OutcomeDispute   = "dispute"
	// OutcomeDisputeWon: the debit is disputed and the merchant wins.
	OutcomeDisputeWon = "dispute_won"
	// OutcomeReturned: a bank transaction succeeds on its business day and
	// the sandbox's bank returns it later (see sandboxReturnDays).
	OutcomeReturned = "returned"
)

// Limits of the money the API moves.
const (
	// MaxAmountMinor bounds one transaction: $10 million, well past any
	// card or ACH limit, far below where sums could overflow.
	MaxAmountMinor = 1_000_000_000
	// HoldLifetime is how long a card hold reserves funds before it lapses.
	HoldLifetime = 7 * 24 * time.Hour
	// disputeResponseTime is how long a merchant has to answer a dispute.
	disputeResponseTime = 30 * 24 * time.Hour
	// descriptorMaxLen bounds a soft descriptor after its "BAL*" prefix.
	descriptorMaxLen = 18
)

var descriptorPattern = regexp.MustCompile(`^[a-zA-Z0-9 .\-]{1,18}$`)

// TxInput is what creating a debit, hold, credit, refund or reversal takes.
// Zero values mean "not given".
type TxInput struct {
	AmountMinor int64
	HasAmount   bool
	// Instrument is the source of a debit or hold, the destination of a credit.
	Instrument string
	// Customer is the customer the call went through, if any.
	Customer    string
	Order       string
	Description any
	Meta        map[string]string
	Descriptor  string
	// InstrumentType, when set, is the type Instrument must name.
	InstrumentType string
	// NewCard or NewBankAccount is an instrument given inline instead of
	// Instrument: it is stored by the transaction's own operation, so a
	// refused transaction stores no instrument.
	NewCard        *CardInput
	NewBankAccount *BankAccountInput
}

func (in TxInput) amount(def int64) (int64, error) {
	if !in.HasAmount {
		if def > 0 {
			return def, nil
		}
		return 0, apperr.WithReason(apperr.Invalid, "request", "amount is required")
	}
	if in.AmountMinor < 1 || in.AmountMinor > MaxAmountMinor {
		return 0, apperr.WithReason(apperr.Invalid, "invalid-amount", "amount must be between 1 and %d cents", MaxAmountMinor)
	}
	return in.AmountMinor, nil
}

// descriptor builds appears_on_statement_as: "BAL*" and the given text (or
// the marketplace's domain) for card and bank debits, the bare text for
// credits.
func (w *Writer) descriptor(ctx context.Context, marketplace, given string, prefixed bool) (string, error) {
	if given == "" {
		mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
		if err != nil {
			return "", err
		}
		given = Str(mp.Fields["domain_url"])
	}
	given = strings.TrimPrefix(given, "BAL*")
	if len(given) > descriptorMaxLen {
		given = given[:descriptorMaxLen]
	}
	if !descriptorPattern.MatchString(given) {
		return "", apperr.WithReason(apperr.Invalid, "request", "appears_on_statement_as may hold only letters, digits, spaces, '.' and '-'")
	}
	if prefixed {
		return "BAL*" + given, nil
	}
	return given, nil
}

// networkAccount is the outside-world ledger account an instrument's money
// comes from or goes to.
func networkAccount(marketplace string, instrument Resource) string {
	if instrument.Type == "cards" {
		return CardNetworkAccount(marketplace)
	}
	return BankNetworkAccount(marketplace)
}

// escrowFor is where a transaction's money sits: its order's escrow, or the
// marketplace's.
func escrowFor(marketplace, order string) string {
	if order != "" {
		return order
	}
	return EscrowAccount(marketplace)
}

func newTransaction(marketplace, typ string, amount int64, in TxInput, descriptor string) Resource {
	return Resource{Marketplace: marketplace, Type: typ, Fields: map[string]any{
		"amount":                  amount,
		"currency":                Currency,
		"description":             in.Description,
		"appears_on_statement_as": descriptor,
		"failure_reason_code":     nil,
		"failure_reason":          nil,
		"meta":                    orDefault(in.Meta, map[string]string{}),
	}, Links: map[string]string{}, Private: map[string]any{}}
}

// Debit takes money from a card, bank account or external account into the
// marketplace's escrow or, when in.Order is set, into that order's escrow.
func (s *Service) Debit(ctx context.Context, marketplace string, in TxInput) (Resource, error) {
	inline, err := s.prepareInstrument(marketplace, in)
	if err != nil {
		return Resource{}, err
	}
	return s.hintedTransaction(ctx, marketplace, s.paymentHint(marketplace, in), func(ctx context.Context, w *Writer) (Resource, error) {
		if err := s.useInstrument(ctx, w, marketplace, inline, &in); err != nil {
			return Resource{}, err
		}
		return w.debit(ctx, marketplace, in, nil)
	})
}

// transactionHint names what a debit or credit of in will lock: the
// marketplace, the instrument, the order and the escrow the money moves
// through, so that a batch reads them all up front (see ledger.Tx.Prefetch).
func transactionHint(marketplace string, in TxInput) []string {
	hint := []string{marketplace, escrowFor(marketplace, in.Order), CardNetworkAccount(marketplace)}
	for _, id := range []string{in.Instrument, in.Order} {
		if id != "" {
			hint = append(hint, id)
		}
	}
	return hint
}

// transaction runs an operation that makes one transaction resource, and
// turns a stored failure into TransactionFailed after the commit.
func (s *Service) transaction(ctx context.Context, marketplace string, op func(ctx context.Context, w *Writer) (Resource, error)) (Resource, error) {
	return s.hintedTransaction(ctx, marketplace, nil, op)
}

// hintedTransaction is transaction with a hint of what op will lock.
func (s *Service) hintedTransaction(ctx context.Context, marketplace string, hint []string, op func(ctx context.Context, w *Writer) (Resource, error)) (Resource, error) {
	v, err := s.Write(ctx, marketplace, hint, func(ctx context.Context, w *Writer) (any, error) { return op(ctx, w) })
	if err != nil {
		return Resource{}, err
	}
	r := v.(Resource)
	if failure, ok := r.Private["failure"].(*apperr.Error); ok {
		delete(r.Private, "failure")
		return r, &TransactionFailed{Resource: r, Err: failure}
	}
	return r, nil
}

// failed stores a transaction as failed and marks it so that the caller is
// told so, with the resource, once it is committed. Money moved for it, if
// any, has already been undone or was never moved.
func (w *Writer) failed(ctx context.Context, r Resource, prefix, event string, err *apperr.Error) (Resource, error) {
	fail(&r, reasonOf(err), err.Message)
	r, cerr := w.Create(ctx, r, prefix)
	if cerr != nil {
		return r, cerr
	}
	if _, cerr := w.Emit(ctx, event, r); cerr != nil {
		return r, cerr
	}
	r.Private["failure"] = err
	return r, nil
}

func reasonOf(err *apperr.Error) string {
	if err.Reason != "" {
		return err.Reason
	}
	return strings.ReplaceAll(string(err.Code), "_", "-")
}

// debit creates a debit; hold is the hold it captures, if any.
func (w *Writer) debit(ctx context.Context, marketplace string, in TxInput, hold *Resource) (Resource, error) {
	holdID, holdAmount := "", int64(0)
	if hold != nil {
		holdID, holdAmount = hold.ID, Int(hold.Fields["amount"])
		if in.HasAmount && in.AmountMinor > holdAmount {
			return Resource{}, apperr.WithReason(apperr.Invalid, "invalid-amount", "cannot capture more than the hold's %d cents", holdAmount)
		}
	}
	amount, err := in.amount(holdAmount)
	if err != nil {
		return Resource{}, err
	}
	src, err := w.Lock(ctx, marketplace, "", in.Instrument)
	if err != nil {
		return Resource{}, err
	}
	switch src.Type {
	case "cards", "bank_accounts", "external_accounts":
	default:
		return Resource{}, apperr.New(apperr.Invalid, "a debit's source must be a card, a bank account or an external account")
	}
	live := false
	if src.Type == "bank_accounts" {
		if live, err = w.requireACHSettings(ctx, marketplace); err != nil {
			return Resource{}, err
		}
	}
	customer := in.Customer
	if customer == "" {
		customer = src.Link("customer")
	}
	var order Resource
	if in.Order != "" {
		if order, err = w.Lock(ctx, marketplace, "orders", in.Order); err != nil {
			return Resource{}, err
		}
		if err := w.refuseStaleOrder(ctx, marketplace, order.ID); err != nil {
			return Resource{}, err
		}
	}
	desc, err := w.descriptor(ctx, marketplace, in.Descriptor, true)
	if err != nil {
		return Resource{}, err
	}
	if in.Description == nil && order.ID != "" {
		// A debit into an order is described by the order unless told otherwise.
		in.Description = order.Fields["description"]
	}
	d := newTransaction(marketplace, "debits", amount, in, desc)
	d.Fields["transaction_number"] = transactionNumber("W")
	d.Links = map[string]string{"source": src.ID, "customer": customer, "order": order.ID, "dispute": "", "card_hold": holdID}
	d.Private["instrument_type"] = src.Type

	outcome := Str(src.Private["outcome"])
	if src.Type == "bank_accounts" {
		outcome = bankOutcome(live, src)
	}
	switch {
	case src.Hidden:
		return w.failed(ctx, d, "WD", "debit.failed", apperr.WithReason(apperr.Conflict, "funding-source-not-debitable", "this funding instrument was deleted and cannot be debited"))
	case src.Type == "bank_accounts" && !Bool(src.Fields["can_debit"]):
		return w.failed(ctx, d, "WD", "debit.failed", apperr.WithReason(apperr.Conflict, "funding-source-not-debitable", "a bank account must be verified before it can be debited"))
	case outcome == OutcomeDeclined:
		return w.failed(ctx, d, "WD", "debit.failed", apperr.WithReason(apperr.Conflict, "card-declined", "the card was declined"))
	case outcome == OutcomeInvalid:
		return w.failed(ctx, d, "WD", "debit.failed", apperr.WithReason(apperr.Conflict, "card-not-valid", "the card is not valid"))
	case src.Type == "bank_accounts" && outcome == OutcomeFailed:
		fail(&d, "bank-account-not-valid", "the bank returned the debit")
		d, err = w.Create(ctx, d, "WD")
		if err != nil {
			return d, err
		}
		_, err = w.Emit(ctx, "debit.failed", d)
		return d, err
	}

	escrow := escrowFor(marketplace, order.ID)
	req := ledger.TransferRequest{Code: "debit", Postings: []ledger.Posting{
		{AccountID: networkAccount(marketplace, src), AmountMinor: -amount},
		{AccountID: escrow, AmountMinor: amount}}}
	if src.Type == "bank_accounts" && achPending(outcome) {
		// ACH money is promised, not there: it reaches the escrow only when
		// the debit settles, and a pending debit funds nothing meanwhile.
		req.Pending = true
		pend(&d)
		markSandboxReturn(&d, outcome)
	} else {
		succeed(&d)
	}
	var tr ledger.Transfer
	if hold != nil {
		tr, err = w.Post(Str(hold.Private["transfer"]), amount)
	} else {
		req.Ref = d.Fields["transaction_number"].(string)
		tr, err = w.Transfer(req)
	}
	if err != nil {
		return Resource{}, err
	}
	d.Private["transfer"] = tr.ID
	d.Private["refunded"] = int64(0)
	d, err = w.Create(ctx, d, "WD")
	if err != nil {
		return d, err
	}
	switch d.Status {
	case "pending":
		if err := w.scheduleSettlement(ctx, d); err != nil {
			return d, err
		}
	case "succeeded":
		if order.ID == "" {
			if err := w.followFundsAging(ctx, marketplace, nil); err != nil {
				return d, err
			}
		}
	}
	if order.ID != "" && d.Status == "succeeded" {
		// The order's buyers are the customers of its succeeded debits,
		// found through their links: nothing about them grows the order.
		if err := w.addOrderAmount(order.ID, amount); err != nil {
			return d, err
		}
		if err := w.followFundsAging(ctx, marketplace, &order); err != nil {
			return d, err
		}
	}
	if _, err := w.Emit(ctx, "debit.created", d); err != nil {
		return d, err
	}
	if d.Status == "succeeded" {
		if _, err := w.Emit(ctx, "debit.succeeded", d); err != nil {
			return d, err
		}
		if err := w.feedDebit(ctx, d, hold != nil); err != nil {
			return d, err
		}
	}
	if outcome == OutcomeDispute || outcome == OutcomeDisputeWon {
		if d, err = w.openDispute(ctx, d, outcome == OutcomeDisputeWon); err != nil {
			return d, err
		}
	}
	return d, nil
}

// openDispute records a chargeback on a succeeded card debit, as the test
// card network raises at once: the disputed amount leaves the escrow the
// debit paid into.
func (w *Writer) openDispute(ctx context.Context, d Resource, won bool) (Resource, error) {
	amount := Int(d.Fields["amount"])
	dt, err := w.Create(ctx, Resource{Marketplace: d.Marketplace, Type: "disputes", Status: "pending", Fields: map[string]any{
		"amount":       amount,
		"currency":     Currency,
		"reason":       "fraud",
		"status":       "pending",
		"initiated_at": w.Now().UTC().Format(time.RFC3339Nano),
		"respond_by":   w.Now().Add(disputeResponseTime).UTC().Format(time.RFC3339Nano),
		"meta":         map[string]string{},
	}, Links: map[string]string{"transaction": d.ID,
		// not shown; they list the dispute under the debit's card and customer
		"source": d.Link("source"), "customer": d.Link("customer")},
		Private: map[string]any{"sandbox_won": won}}, "DT")
	if err != nil {
		return d, err
	}
	if err := w.scheduleDisputeEnd(ctx, dt); err != nil {
		return d, err
	}
	if _, err := w.Transfer(ledger.TransferRequest{Code: "chargeback", Ref: dt.ID, Postings: []ledger.Posting{
		{AccountID: escrowFor(d.Marketplace, d.Link("order")), AmountMinor: -amount},
		{AccountID: CardNetworkAccount(d.Marketplace), AmountMinor: amount}}}); err != nil {
		return d, err
	}
	merchant, err := w.merchantOf(ctx, d.Marketplace, d.Link("order"))
	if err != nil {
		return d, err
	}
	if err := w.feed(ctx, FeedChargeback, merchant, amount, "card", dt); err != nil {
		return d, err
	}
	d.Links["dispute"] = dt.ID
	if d, err = w.Save(ctx, d); err != nil {
		return d, err
	}
	_, err = w.Emit(ctx, "dispute.created", dt)
	return d, err
}

// UpdateTransaction changes the description or meta of a transaction.
func (s *Service) UpdateTransaction(ctx context.Context, marketplace, typ, id string, description any, hasDescription bool, meta map[string]string) (Resource, error) {
	event := strings.TrimSuffix(typ, "s") + ".updated"
	return s.update(ctx, marketplace, typ, id, event, func(r *Resource) error {
		if hasDescription {
			r.Fields["description"] = description
		}
		if meta != nil {
			r.Fields["meta"] = meta
		}
		return nil
	})
}

// feedDebit records a succeeded debit: a sale (or the capture of a hold)
// for the merchant of its order, or for the marketplace's own escrow.
func (w *Writer) feedDebit(ctx context.Context, d Resource, captured bool) error {
	merchant, err := w.merchantOf(ctx, d.Marketplace, d.Link("order"))
	if err != nil {
		return err
	}
	typ := FeedSale
	if captured {
		typ = FeedCapture
	}
	return w.feed(ctx, typ, merchant, Int(d.Fields["amount"]), gateOf(Str(d.Private["instrument_type"])), d)
}
