package payments

import (
	"context"
	"errors"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/scheduler"
)

// Job kinds of the ACH life cycle.
const (
	// JobSettleACH moves a pending ACH debit or credit to succeeded once
	// the bank has had it for the business days the rail takes.
	JobSettleACH = "ach.settle"
)

// settlementDays is how long each pending ACH transaction takes, from the
// batch it goes out in: the upper end of each range the seed gives, since
// money must not be shown as arrived before it can have.
var settlementDays = map[string]int{
	"debits":  clock.ACHDebitMaxBusinessDays,
	"credits": clock.ACHCreditMaxBusinessDays,
}

// scheduleSettlement follows a pending ACH transaction up: its settlement
// job is committed with it.
func (w *Writer) scheduleSettlement(ctx context.Context, r Resource) error {
	days, ok := settlementDays[r.Type]
	if !ok {
		return nil
	}
	// The settlement date is a date of the marketplace's clock; jobs are
	// kept in process time (a test clock's advance moves them).
	due := w.processTime(clock.ACHSettlementDate(w.Now(), days))
	return w.tx.ScheduleJob(ctx, scheduler.Job{Kind: JobSettleACH, Key: r.ID, Payload: r.Marketplace, DueAt: due}, w.Writer.Now())
}

// SettleACH is the handler of JobSettleACH: the pending ledger transfer of
// the transaction posts, the transaction succeeds, and the job completes,
// all in one transaction, so it happens exactly once.
func (s *Service) SettleACH(ctx context.Context, j scheduler.Job) error {
	_, err := s.Write(ctx, j.Payload, nil, func(ctx context.Context, w *Writer) (any, error) {
		r, err := w.Lock(ctx, j.Payload, "", j.Key)
		if err != nil {
			return nil, err
		}
		if r.Status == "pending" {
			if _, err := w.Post(Str(r.Private["transfer"]), 0); err != nil {
				return nil, err
			}
			succeed(&r)
			if r, err = w.Save(ctx, r); err != nil {
				return nil, err
			}
			if _, err := w.Emit(ctx, r.Type[:len(r.Type)-1]+".succeeded", r); err != nil {
				return nil, err
			}
			if r.Type == "debits" {
				if err := w.feedDebit(ctx, r, false); err != nil {
					return nil, err
				}
			}
			// A payout with its final status holds no buffer any more.
			if r.Type == "credits" {
				if err := w.releaseBuffer(ctx, r.ID); err != nil {
					return nil, err
				}
			}
		}
		err = w.tx.CompleteJob(ctx, j.ID, w.Now())
		if errors.Is(err, ledger.ErrNotFound) {
			// The job ran elsewhere meanwhile: undo this run.
			return nil, apperr.New(apperr.Conflict, "job %s is no longer this run's", j.ID)
		}
		return nil, err
	})
	if apperr.Is(err, apperr.Conflict) {
		return nil
	}
	return err
}
