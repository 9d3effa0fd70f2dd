package payments

import (
	"context"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// MaxCardCreditMinor is the most one push-to-card credit may send: $2,500,
// the card networks' limit for a single fast-funds payment.
const MaxCardCreditMinor = 250_000

// ErrNameRequiredToCredit refuses a credit to a card tokenized without the
// cardholder's name, which the card networks require of a payment to a card.
var ErrNameRequiredToCredit = apperr.WithReason(apperr.Invalid, "name-required-to-credit",
	"a card must be tokenized with the cardholder's name to receive a credit")

// Credit pays money out of the marketplace's escrow or, when in.Order is
// set, out of that order's escrow, to a bank account, a debit card or a
// customer's payable account. An escrow that cannot cover it leaves a
// failed credit and no money moved.
func (s *Service) Credit(ctx context.Context, marketplace string, in TxInput) (Resource, error) {
	inline, err := s.prepareInstrument(marketplace, in)
	if err != nil {
		return Resource{}, err
	}
	return s.hintedTransaction(ctx, marketplace, s.paymentHint(marketplace, in), func(ctx context.Context, w *Writer) (Resource, error) {
		if err := s.useInstrument(ctx, w, marketplace, inline, &in); err != nil {
			return Resource{}, err
		}
		return w.credit(ctx, marketplace, in)
	})
}

func (w *Writer) credit(ctx context.Context, marketplace string, in TxInput) (Resource, error) {
	amount, err := in.amount(0)
	if err != nil {
		return Resource{}, err
	}
	dst, err := w.Lock(ctx, marketplace, "", in.Instrument)
	if err != nil {
		return Resource{}, err
	}
	switch dst.Type {
	case "bank_accounts", "cards", "accounts":
	default:
		return Resource{}, apperr.New(apperr.Invalid, "a credit's destination must be a bank account, a card or an account")
	}
	if dst.Hidden {
		return Resource{}, apperr.WithReason(apperr.Conflict, "funding-destination-not-creditable", "this funding instrument was deleted")
	}
	live := false
	if dst.Type == "bank_accounts" {
		if live, err = w.requireACHSettings(ctx, marketplace); err != nil {
			return Resource{}, err
		}
	}
	customer := dst.Link("customer")
	var order Resource
	if in.Order != "" {
		if order, err = w.Lock(ctx, marketplace, "orders", in.Order); err != nil {
			return Resource{}, err
		}
		if customer != order.Link("merchant") {
			// The marketplace may take its cut of an order: pay its owner.
			mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
			if err != nil {
				return Resource{}, err
			}
			if customer == "" || customer != mp.Link("owner_customer") {
				return Resource{}, notOrderMerchant(dst.ID, order.Link("merchant"), mp.Link("owner_customer"))
			}
		}
	}
	desc, err := w.descriptor(ctx, marketplace, in.Descriptor, false)
	if err != nil {
		return Resource{}, err
	}
	if in.Description == nil && order.ID != "" {
		in.Description = order.Fields["description"]
	}
	c := newTransaction(marketplace, "credits", amount, in, desc)
	c.Fields["transaction_number"] = transactionNumber("CR")
	c.Links = map[string]string{"customer": customer, "destination": dst.ID, "order": order.ID, "settlement": ""}
	c.Private["instrument_type"] = dst.Type
	c.Private["reversed"] = int64(0)

	if dst.Type == "cards" {
		if dst.Fields["name"] == nil {
			return Resource{}, ErrNameRequiredToCredit
		}
		if !Bool(dst.Fields["can_credit"]) {
			return Resource{}, apperr.WithReason(apperr.Conflict, "funding-destination-not-creditable", "only a debit card tokenized with a name can receive a credit")
		}
		if amount > MaxCardCreditMinor {
			return w.failed(ctx, c, "CR", "credit.failed", apperr.WithReason(apperr.Conflict, "amount-exceeds-limit",
				"a credit to a card may not exceed %d cents", MaxCardCreditMinor))
		}
	}
	outcome := Str(dst.Private["outcome"])
	switch dst.Type {
	case "cards":
		outcome = Str(dst.Private["push"])
	case "bank_accounts":
		outcome = bankOutcome(live, dst)
	}
	if dst.Type == "bank_accounts" && outcome == OutcomeFailed {
		// The bank refuses the payout; in test mode it does so at once.
		fail(&c, "bank-account-not-valid", "the bank returned the credit")
		if c, err = w.Create(ctx, c, "CR"); err != nil {
			return c, err
		}
		_, err = w.Emit(ctx, "credit.failed", c)
		return c, err
	}

	to := BankNetworkAccount(marketplace)
	switch dst.Type {
	case "cards":
		to = CardNetworkAccount(marketplace)
	case "accounts":
		to = dst.ID
	}
	req := ledger.TransferRequest{Code: "credit", Ref: c.Fields["transaction_number"].(string), Postings: []ledger.Posting{
		{AccountID: escrowFor(marketplace, order.ID), AmountMinor: -amount}, {AccountID: to, AmountMinor: amount}}}
	if achPending(outcome) {
		// Money promised to a payout leaves the escrow's available funds at
		// once; it is posted when the payout settles.
		req.Pending = true
		pend(&c)
		markSandboxReturn(&c, outcome)
	} else {
		succeed(&c)
	}
	tr, err := w.Transfer(req)
	if apperr.Is(err, apperr.InsufficientFunds) {
		return w.failed(ctx, c, "CR", "credit.failed", apperr.WithReason(apperr.InsufficientFunds, "insufficient-funds",
			"the escrow holds less than the %d cents of this credit", amount))
	}
	if err != nil {
		return Resource{}, err
	}
	c.Private["transfer"] = tr.ID
	if c, err = w.Create(ctx, c, "CR"); err != nil {
		return c, err
	}
	if c.Status == "pending" && dst.Type == "bank_accounts" {
		if err := w.scheduleSettlement(ctx, c); err != nil {
			return c, err
		}
	}
	// A payout in flight is fed at once: it is an outgoing operation that
	// holds the merchant's money until its final status.
	if err := w.feed(ctx, FeedPayout, customer, amount, gateOf(dst.Type), c); err != nil {
		return c, err
	}
	if _, err := w.Emit(ctx, "credit.created", c); err != nil {
		return c, err
	}
	if c.Status == "succeeded" {
		_, err = w.Emit(ctx, "credit.succeeded", c)
	}
	return c, err
}

// Reverse takes back money of a credit, into the escrow it came from: up to
// what is left of the credit, all of it by default.
func (s *Service) Reverse(ctx context.Context, marketplace, creditID string, in TxInput) (Resource, error) {
	return s.transaction(ctx, marketplace, func(ctx context.Context, w *Writer) (Resource, error) {
		c, err := w.Lock(ctx, marketplace, "credits", creditID)
		if err != nil {
			return Resource{}, err
		}
		if Str(c.Private["instrument_type"]) == "cards" {
			return Resource{}, apperr.WithReason(apperr.Conflict, "cannot-reverse-credits-to-cards", "a credit to a card cannot be reversed")
		}
		left := Int(c.Fields["amount"]) - Int(c.Private["reversed"])
		if left <= 0 {
			return Resource{}, apperr.WithReason(apperr.Conflict, "credit-already-reversed", "this credit was reversed in full")
		}
		amount, err := in.amount(left)
		if err != nil {
			return Resource{}, err
		}
		if amount > left {
			return Resource{}, apperr.WithReason(apperr.Invalid, "invalid-reversal-amount", "only %d cents of this credit are left to reverse", left)
		}
		rv := newTransaction(marketplace, "reversals", amount, in, "")
		delete(rv.Fields, "appears_on_statement_as")
		rv.Fields["transaction_number"] = transactionNumber("RV")
		rv.Links = map[string]string{"credit": c.ID, "order": c.Link("order"), "settlement": "",
			// not shown; they list the reversal under the credit's customer and destination
			"customer": c.Link("customer"), "destination": c.Link("destination")}
		switch c.Status {
		case "failed":
			return w.failed(ctx, rv, "RV", "reversal.failed", apperr.WithReason(apperr.Conflict, "cannot-reverse-credit", "the credit failed; there is nothing to reverse"))
		case "pending":
			return Resource{}, apperr.WithReason(apperr.Invalid, "cannot-reverse-credit", "a credit can be reversed only once it has succeeded")
		}
		from := BankNetworkAccount(marketplace)
		if Str(c.Private["instrument_type"]) == "accounts" {
			from = c.Link("destination")
		}
		outcome, err := w.reversalOutcome(ctx, c)
		if err != nil {
			return Resource{}, err
		}
		// A reversal of a bank credit is an ACH debit of the recipient's
		// bank: its money reaches the escrow when it settles.
		tr, err := w.Transfer(ledger.TransferRequest{Code: "reversal", Ref: rv.Fields["transaction_number"].(string), Pending: achPending(outcome), Postings: []ledger.Posting{
			{AccountID: from, AmountMinor: -amount}, {AccountID: escrowFor(marketplace, c.Link("order")), AmountMinor: amount}}})
		if err != nil {
			return Resource{}, err
		}
		if achPending(outcome) {
			pend(&rv)
			markSandboxReturn(&rv, outcome)
		} else {
			succeed(&rv)
		}
		rv.Private["transfer"] = tr.ID
		if rv, err = w.Create(ctx, rv, "RV"); err != nil {
			return rv, err
		}
		c.Private["reversed"] = Int(c.Private["reversed"]) + amount
		if _, err := w.Save(ctx, c); err != nil {
			return rv, err
		}
		if _, err := w.Emit(ctx, "reversal.created", rv); err != nil {
			return rv, err
		}
		if rv.Status == "pending" {
			return rv, w.scheduleSettlement(ctx, rv)
		}
		if err := w.feedReversal(ctx, rv); err != nil {
			return rv, err
		}
		_, err = w.Emit(ctx, "reversal.succeeded", rv)
		return rv, err
	})
}

// reversalOutcome is what a reversal of credit c does: one of a bank
// credit does what its bank account does (bankOutcome); any other succeeds
// at once. The sandbox's banks never refuse one at submission: the
// account took the credit.
func (w *Writer) reversalOutcome(ctx context.Context, c Resource) (string, error) {
	if Str(c.Private["instrument_type"]) != "bank_accounts" {
		return OutcomeSucceeded, nil
	}
	live, err := w.requireACHSettings(ctx, c.Marketplace)
	if err != nil {
		return "", err
	}
	dst, err := w.Lock(ctx, c.Marketplace, "bank_accounts", c.Link("destination"))
	if err != nil {
		return "", err
	}
	if o := bankOutcome(live, dst); o != OutcomeFailed {
		return o, nil
	}
	return OutcomeSucceeded, nil
}

// feedReversal gives the recipient back the payout a reversal took back,
// once its money is in the escrow.
func (w *Writer) feedReversal(ctx context.Context, rv Resource) error {
	c, err := w.Lock(ctx, rv.Marketplace, "credits", rv.Link("credit"))
	if err != nil {
		return err
	}
	return w.feed(ctx, FeedPayoutCancel, c.Link("customer"), Int(rv.Fields["amount"]), gateOf(Str(c.Private["instrument_type"])), rv)
}
