package payments

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/scheduler"
)

// A dispute ends won or lost. Its money left the escrow when it opened (a
// chargeback); a won dispute brings it back (a chargeback reversal), a lost
// one leaves it gone. In a test marketplace the card network decides when
// the merchant's time to respond ends, by the test card (rails); in a live
// marketplace the operator records the network's decision, with its
// evidence notes.

// FeedChargebackReversal is PayNet's name for a dispute won.
const FeedChargebackReversal = "chargeback_reversal"

// JobEndDispute ends a test marketplace's dispute at its respond_by.
const JobEndDispute = "dispute.end"

// maxEvidenceLen bounds the evidence notes of a decision: a summary of
// what was sent to the network, not the documents themselves.
const maxEvidenceLen = 4000

// Dispute statuses past pending.
const (
	DisputeWon  = "won"
	DisputeLost = "lost"
)

// scheduleDisputeEnd follows a test marketplace's new dispute up: the test
// card network decides it when the response time ends.
func (w *Writer) scheduleDisputeEnd(ctx context.Context, dt Resource) error {
	mp, err := w.Lock(ctx, dt.Marketplace, "marketplaces", dt.Marketplace)
	if err != nil {
		return err
	}
	if isLive(mp) {
		return nil
	}
	due := w.processTime(dt.CreatedAt.Add(disputeResponseTime))
	return w.tx.ScheduleJob(ctx, scheduler.Job{Kind: JobEndDispute, Key: dt.ID, Payload: dt.Marketplace, DueAt: due}, w.Writer.Now())
}

// EndDispute is the handler of JobEndDispute: the dispute ends as its test
// card says, with the job's completion in one transaction; one already
// decided is left as it is.
func (s *Service) EndDispute(ctx context.Context, j scheduler.Job) error {
	return s.runJob(ctx, j, func(ctx context.Context, w *Writer) error {
		dt, err := w.Lock(ctx, j.Payload, "disputes", j.Key)
		if err != nil || dt.Status != "pending" {
			return err
		}
		status := DisputeLost
		if Bool(dt.Private["sandbox_won"]) {
			status = DisputeWon
		}
		_, err = w.endDispute(ctx, dt, status, "")
		return err
	})
}

// DecideDispute records a live marketplace's dispute as won or lost, as the
// card network decided, with the operator's evidence notes.
func (s *Service) DecideDispute(ctx context.Context, marketplace, id, status, evidence string) (Resource, error) {
	// Another marketplace's dispute is not found, whatever the request says.
	if _, err := s.GetTyped(ctx, marketplace, "disputes", id); err != nil {
		return Resource{}, err
	}
	if status != DisputeWon && status != DisputeLost {
		return Resource{}, apperr.WithReason(apperr.Invalid, "request", "status must be won or lost")
	}
	if evidence == "" || utf8.RuneCountInString(evidence) > maxEvidenceLen {
		return Resource{}, apperr.WithReason(apperr.Invalid, "request", "evidence must say, in 1 to %d characters, what the decision rests on", maxEvidenceLen)
	}
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
		if err != nil {
			return nil, err
		}
		if !isLive(mp) {
			return nil, apperr.WithReason(apperr.Conflict, "dispute-decided-by-sandbox", "a test marketplace's disputes are decided by the test card when their response time ends")
		}
		dt, err := w.Lock(ctx, marketplace, "disputes", id)
		if err != nil {
			return nil, err
		}
		if dt.Status != "pending" {
			return nil, apperr.WithReason(apperr.Conflict, "dispute-already-decided", "the dispute was already %s", dt.Status)
		}
		return w.endDispute(ctx, dt, status, evidence)
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// endDispute ends a pending dispute: a won one's money comes back from the
// card network into the escrow it left, fed as a chargeback reversal.
func (w *Writer) endDispute(ctx context.Context, dt Resource, status, evidence string) (Resource, error) {
	mp, amount := dt.Marketplace, Int(dt.Fields["amount"])
	d, err := w.Lock(ctx, mp, "debits", dt.Link("transaction"))
	if err != nil {
		return dt, err
	}
	if status == DisputeWon {
		if _, err := w.Transfer(ledger.TransferRequest{Code: "chargeback_reversal", Ref: dt.ID, Postings: []ledger.Posting{
			{AccountID: CardNetworkAccount(mp), AmountMinor: -amount},
			{AccountID: escrowFor(mp, d.Link("order")), AmountMinor: amount}}}); err != nil {
			return dt, err
		}
		merchant, err := w.merchantOf(ctx, mp, d.Link("order"))
		if err != nil {
			return dt, err
		}
		if err := w.feed(ctx, FeedChargebackReversal, merchant, amount, "card", dt); err != nil {
			return dt, err
		}
		// The debit's money is its escrow's again (the 30-day rule ages it).
		d.Private["dispute_won"] = true
		if _, err := w.Save(ctx, d); err != nil {
			return dt, err
		}
	}
	dt.Status = status
	dt.Fields["status"] = status
	dt.Private["decided_at"] = w.Now().UTC().Format(time.RFC3339Nano)
	if evidence != "" {
		dt.Private["evidence"] = evidence
	}
	dt, err = w.Save(ctx, dt)
	if err != nil {
		return dt, err
	}
	_, err = w.Emit(ctx, "dispute."+status, dt)
	return dt, err
}
