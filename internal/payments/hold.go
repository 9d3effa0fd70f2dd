package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/scheduler"
)

// CreateHold reserves money on a card: a pending ledger transfer from the
// card network into the escrow it would be captured into. It counts against
// nothing but the card until captured.
func (s *Service) CreateHold(ctx context.Context, marketplace string, in TxInput) (Resource, error) {
	inline, err := s.prepareInstrument(marketplace, in)
	if err != nil {
		return Resource{}, err
	}
	return s.transaction(ctx, marketplace, func(ctx context.Context, w *Writer) (Resource, error) {
		if err := s.useInstrument(ctx, w, marketplace, inline, &in); err != nil {
			return Resource{}, err
		}
		amount, err := in.amount(0)
		if err != nil {
			return Resource{}, err
		}
		card, err := w.Lock(ctx, marketplace, "cards", in.Instrument)
		if err != nil {
			return Resource{}, err
		}
		if in.Order != "" {
			if _, err := w.Lock(ctx, marketplace, "orders", in.Order); err != nil {
				return Resource{}, err
			}
		}
		desc, err := w.descriptor(ctx, marketplace, in.Descriptor, true)
		if err != nil {
			return Resource{}, err
		}
		h := newTransaction(marketplace, "card_holds", amount, in, desc)
		delete(h.Fields, "appears_on_statement_as")
		h.Fields["transaction_number"] = transactionNumber("HL")
		expiresAt := w.Now().Add(HoldLifetime)
		h.Fields["expires_at"] = expiresAt.UTC().Format(time.RFC3339Nano)
		h.Fields["voided_at"] = nil
		// customer is not shown on a hold; it lists the hold under its customer.
		h.Links = map[string]string{"card": card.ID, "debit": "", "order": in.Order, "customer": card.Link("customer")}
		switch Str(card.Private["outcome"]) {
		case OutcomeDeclined:
			return w.failed(ctx, h, "HL", "hold.failed", apperr.WithReason(apperr.Conflict, "card-declined", "the card was declined"))
		case OutcomeInvalid:
			return w.failed(ctx, h, "HL", "hold.failed", apperr.WithReason(apperr.Conflict, "card-not-valid", "the card is not valid"))
		}
		if card.Hidden {
			return w.failed(ctx, h, "HL", "hold.failed", apperr.WithReason(apperr.Conflict, "funding-source-not-authorizable", "this card was deleted"))
		}
		// The pending transfer carries no expiry of its own: the ledger keeps
		// the process's time, and a hold expires on its marketplace's clock,
		// which a test marketplace advances. Its expiry job releases it.
		tr, err := w.Transfer(ledger.TransferRequest{Pending: true, Code: "hold",
			Ref: h.Fields["transaction_number"].(string), Postings: []ledger.Posting{
				{AccountID: CardNetworkAccount(marketplace), AmountMinor: -amount},
				{AccountID: escrowFor(marketplace, in.Order), AmountMinor: amount}}})
		if err != nil {
			return Resource{}, err
		}
		succeed(&h)
		h.Private["transfer"] = tr.ID
		h, err = w.Create(ctx, h, "HL")
		if err != nil {
			return h, err
		}
		if err := w.tx.ScheduleJob(ctx, scheduler.Job{Kind: JobExpireHold, Key: h.ID, Payload: marketplace,
			DueAt: w.processTime(expiresAt)}, w.Writer.Now()); err != nil {
			return h, err
		}
		merchant, err := w.merchantOf(ctx, marketplace, in.Order)
		if err != nil {
			return h, err
		}
		if err := w.feed(ctx, FeedPreauth, merchant, amount, "card", h); err != nil {
			return h, err
		}
		_, err = w.Emit(ctx, "hold.created", h)
		return h, err
	})
}

// JobExpireHold releases a card hold that was neither captured nor voided
// by its expiry, on its marketplace's clock.
const JobExpireHold = "hold.expire"

// ExpireHold is the handler of JobExpireHold: the hold's pending transfer
// is released and the hold marked expired, and the job completes, in one
// transaction. A hold captured or voided meanwhile needs nothing; the job
// completes all the same. Any failure is returned, so the scheduler retries
// it: an expiry has no business outcome that could refuse it.
func (s *Service) ExpireHold(ctx context.Context, j scheduler.Job) error {
	_, err := s.Write(WithoutIdempotency(ctx), j.Payload, nil, func(ctx context.Context, w *Writer) (any, error) {
		h, err := w.Lock(ctx, j.Payload, "card_holds", j.Key)
		if err != nil {
			return nil, err
		}
		live := h.Status == "succeeded" && h.Fields["voided_at"] == nil && h.Link("debit") == "" && h.Private["expired"] == nil
		if live {
			exp, err := time.Parse(time.RFC3339Nano, Str(h.Fields["expires_at"]))
			if err != nil {
				return nil, fmt.Errorf("payments: hold %s has a malformed expiry: %w", h.ID, err)
			}
			if w.Now().Before(exp) {
				// Due in process time but not on the marketplace's clock:
				// cannot happen while jobs move with their clock; refuse
				// rather than expire a hold early.
				return nil, fmt.Errorf("payments: hold %s expires at %s, its marketplace reads %s", h.ID,
					exp.Format(time.RFC3339), w.Now().Format(time.RFC3339))
			}
			// DESIGN §1: an expired hold's pending transfer is voided.
			if _, err := w.Void(Str(h.Private["transfer"])); err != nil {
				return nil, err
			}
			h.Private["expired"] = true
			if _, err := w.Save(ctx, h); err != nil {
				return nil, err
			}
		}
		return nil, w.tx.CompleteJob(ctx, j.ID, w.Writer.Now())
	})
	return err
}

// lockLiveHold locks a hold that may still be captured or voided.
func (w *Writer) lockLiveHold(ctx context.Context, marketplace, holdID string, verb string) (Resource, error) {
	h, err := w.Lock(ctx, marketplace, "card_holds", holdID)
	if err != nil {
		return h, err
	}
	reason := "cannot-capture-authorization"
	if verb == "void" {
		reason = "cannot-void-authorization"
	}
	switch {
	case h.Fields["voided_at"] != nil:
		return h, apperr.WithReason(apperr.Conflict, reason, "the hold was voided")
	case h.Link("debit") != "":
		return h, apperr.WithReason(apperr.Conflict, reason, "the hold was captured already")
	case h.Status != "succeeded":
		return h, apperr.WithReason(apperr.Conflict, reason, "the hold did not succeed")
	}
	if exp, err := time.Parse(time.RFC3339Nano, Str(h.Fields["expires_at"])); err == nil && !w.Now().Before(exp) {
		return h, apperr.WithReason(apperr.Conflict, "authorization-expired", "the hold expired")
	}
	return h, nil
}

// CaptureHold turns a hold into a debit of up to its amount (all of it by
// default); the rest of the hold is released.
func (s *Service) CaptureHold(ctx context.Context, marketplace, holdID string, in TxInput) (Resource, error) {
	return s.transaction(ctx, marketplace, func(ctx context.Context, w *Writer) (Resource, error) {
		h, err := w.lockLiveHold(ctx, marketplace, holdID, "capture")
		if err != nil {
			return Resource{}, err
		}
		in.Instrument, in.Order = h.Link("card"), h.Link("order")
		d, err := w.debit(ctx, marketplace, in, &h)
		if err != nil || d.Status == "failed" {
			return d, err
		}
		h.Links["debit"] = d.ID
		if h, err = w.Save(ctx, h); err != nil {
			return d, err
		}
		_, err = w.Emit(ctx, "hold.captured", h)
		return d, err
	})
}

// VoidHold releases a hold; it is hidden from lists from then on.
func (s *Service) VoidHold(ctx context.Context, marketplace, holdID string) (Resource, error) {
	return s.transaction(ctx, marketplace, func(ctx context.Context, w *Writer) (Resource, error) {
		h, err := w.lockLiveHold(ctx, marketplace, holdID, "void")
		if err != nil {
			return Resource{}, err
		}
		if _, err := w.Void(Str(h.Private["transfer"])); err != nil {
			return Resource{}, err
		}
		merchant, err := w.merchantOf(ctx, marketplace, h.Link("order"))
		if err != nil {
			return Resource{}, err
		}
		if err := w.feed(ctx, FeedVoid, merchant, Int(h.Fields["amount"]), "card", h); err != nil {
			return Resource{}, err
		}
		h.Fields["voided_at"] = w.Now().UTC().Format(time.RFC3339Nano)
		h.Hidden = true
		if h, err = w.Save(ctx, h); err != nil {
			return h, err
		}
		_, err = w.Emit(ctx, "hold.voided", h)
		return h, err
	})
}

// Refund returns money of a succeeded debit to where it came from, out of
// the escrow the debit paid into: up to what is left of the debit (all of
// it by default), and never more than that escrow holds.
func (s *Service) Refund(ctx context.Context, marketplace, debitID string, in TxInput) (Resource, error) {
	return s.transaction(ctx, marketplace, func(ctx context.Context, w *Writer) (Resource, error) {
		d, err := w.Lock(ctx, marketplace, "debits", debitID)
		if err != nil {
			return Resource{}, err
		}
		if d.Status != "succeeded" {
			return Resource{}, apperr.WithReason(apperr.Invalid, "refund-invalid-debit-state", "only a succeeded debit can be refunded")
		}
		if d.Link("dispute") != "" {
			return Resource{}, apperr.WithReason(apperr.Conflict, "debit-disputed", "a disputed debit cannot be refunded")
		}
		left := Int(d.Fields["amount"]) - Int(d.Private["refunded"])
		if left <= 0 {
			return Resource{}, apperr.WithReason(apperr.Conflict, "debit-already-refunded", "this debit was refunded in full")
		}
		amount, err := in.amount(left)
		if err != nil {
			return Resource{}, err
		}
		if amount > left {
			return Resource{}, apperr.WithReason(apperr.Invalid, "invalid-amount", "only %d cents of this debit are left to refund", left)
		}
		escrow := escrowFor(marketplace, d.Link("order"))
		network := BankNetworkAccount(marketplace)
		if Str(d.Private["instrument_type"]) == "cards" {
			network = CardNetworkAccount(marketplace)
		}
		rf := Resource{Marketplace: marketplace, Type: "refunds", Fields: map[string]any{
			"amount":             amount,
			"currency":           Currency,
			"description":        in.Description,
			"transaction_number": transactionNumber("RF"),
			"meta":               orDefault(in.Meta, map[string]string{}),
		}, Links: map[string]string{"debit": d.ID, "order": d.Link("order"), "dispute": "",
			// not shown; they list the refund under the debit's customer and source
			"customer": d.Link("customer"), "source": d.Link("source")}, Private: map[string]any{}}
		outcome, err := w.refundOutcome(ctx, d)
		if err != nil {
			return Resource{}, err
		}
		// An ACH refund goes out with a batch: the money leaves the escrow's
		// available funds now and is posted when the refund settles.
		tr, err := w.Transfer(ledger.TransferRequest{Code: "refund", Ref: rf.Fields["transaction_number"].(string), Pending: achPending(outcome), Postings: []ledger.Posting{
			{AccountID: escrow, AmountMinor: -amount}, {AccountID: network, AmountMinor: amount}}})
		if apperr.Is(err, apperr.InsufficientFunds) {
			return Resource{}, apperr.WithReason(apperr.InsufficientFunds, "insufficient-funds", "the escrow holds less than this refund")
		}
		if err != nil {
			return Resource{}, err
		}
		if achPending(outcome) {
			pend(&rf)
			markSandboxReturn(&rf, outcome)
		} else {
			succeed(&rf)
		}
		rf.Private["transfer"] = tr.ID
		if rf, err = w.Create(ctx, rf, "RF"); err != nil {
			return rf, err
		}
		if rf.Status == "pending" {
			if err := w.scheduleSettlement(ctx, rf); err != nil {
				return rf, err
			}
		}
		d.Private["refunded"] = Int(d.Private["refunded"]) + amount
		if _, err := w.Save(ctx, d); err != nil {
			return rf, err
		}
		if o := d.Link("order"); o != "" {
			// An order's amount is what it has taken in, net of refunds.
			if err := w.addOrderAmount(o, -amount); err != nil {
				return rf, err
			}
		}
		merchant, err := w.merchantOf(ctx, marketplace, d.Link("order"))
		if err != nil {
			return rf, err
		}
		if err := w.feed(ctx, FeedReversal, merchant, amount, gateOf(Str(d.Private["instrument_type"])), rf); err != nil {
			return rf, err
		}
		if _, err := w.Emit(ctx, "refund.created", rf); err != nil {
			return rf, err
		}
		if rf.Status == "succeeded" {
			_, err = w.Emit(ctx, "refund.succeeded", rf)
		}
		return rf, err
	})
}

// refundOutcome is what a refund of debit d does: a card refund succeeds at
// once; a bank refund does what its bank account does (bankOutcome), except
// that the sandbox's banks never refuse one at submission: the account took
// the debit.
func (w *Writer) refundOutcome(ctx context.Context, d Resource) (string, error) {
	if Str(d.Private["instrument_type"]) != "bank_accounts" {
		return OutcomeSucceeded, nil
	}
	live, err := w.requireACHSettings(ctx, d.Marketplace)
	if err != nil {
		return "", err
	}
	src, err := w.Lock(ctx, d.Marketplace, "bank_accounts", d.Link("source"))
	if err != nil {
		return "", err
	}
	if o := bankOutcome(live, src); o != OutcomeFailed {
		return o, nil
	}
	return OutcomeSucceeded, nil
}
