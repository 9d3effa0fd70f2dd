package payments

import (
	"context"
	"errors"
	"time"

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
// money must not be shown as arrived before it can have; a refund is shown
// succeeded one business day after its batch.
var settlementDays = map[string]int{
	"debits":  clock.ACHDebitMaxBusinessDays,
	"credits": clock.ACHCreditMaxBusinessDays,
	"refunds": clock.ACHRefundBusinessDays,
	// A settlement pays a payable account out like a credit.
	"settlements": clock.ACHCreditMaxBusinessDays,
	// A reversal pulls a credit's money back like a debit.
	"reversals": clock.ACHDebitMaxBusinessDays,
}

// bankOutcome is what a transaction with bank account b does. A live
// marketplace's bank is real: every entry is pending until its business day
// and fails only by a return the bank sends. A test marketplace's bank is
// the sandbox, which answers by the account's number (rails.BankOutcome).
func bankOutcome(live bool, b Resource) string {
	if live {
		return OutcomePending
	}
	return Str(b.Private["outcome"])
}

// achPending reports whether a transaction with this outcome goes through
// the ACH life cycle: pending at creation, settled on its business day.
func achPending(outcome string) bool {
	return outcome == OutcomePending || outcome == OutcomeReturned
}

// markSandboxReturn marks a pending transaction the sandbox's bank will
// return after it succeeded.
func markSandboxReturn(r *Resource, outcome string) {
	if outcome == OutcomeReturned {
		r.Private["sandbox_return"] = true
	}
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

// errJobTaken reports that a job's run lost it to another (its lease ran
// out and another process completed it): this run's effect is rolled back,
// and the job is done, by the other run. An application error, so that the
// committer rolls back this operation alone, not its whole batch.
var errJobTaken = apperr.New(apperr.Conflict, "the job was completed by another run")

// runJob runs a job's effect and completes the job in one operation of
// the job's marketplace (its payload), so that the effect happens exactly
// once: a run that finds the job completed by another rolls its effect
// back and reports the job done.
func (s *Service) runJob(ctx context.Context, j scheduler.Job, effect func(ctx context.Context, w *Writer) error) error {
	_, err := s.Write(ctx, j.Payload, nil, func(ctx context.Context, w *Writer) (any, error) {
		if err := effect(ctx, w); err != nil {
			return nil, err
		}
		err := w.tx.CompleteJob(ctx, j.ID, w.Writer.Now())
		if errors.Is(err, ledger.ErrNotFound) {
			return nil, errJobTaken
		}
		return nil, err
	})
	if errors.Is(err, errJobTaken) {
		return nil
	}
	return err
}

// SettleACH is the handler of JobSettleACH: the pending ledger transfer of
// the transaction posts, the transaction succeeds, and the job completes,
// all in one transaction, so it happens exactly once. A transfer that
// lapsed instead (expired or voided: the money will never arrive) fails
// the transaction, also with the job. Any other failure, a refusal
// included, leaves the job to be retried: it is done only when its effect
// committed.
func (s *Service) SettleACH(ctx context.Context, j scheduler.Job) error {
	lapsed, err := s.transferLapsed(ctx, j.Payload, j.Key)
	if err != nil {
		return err
	}
	return s.runJob(ctx, j, func(ctx context.Context, w *Writer) error {
		r, err := w.Lock(ctx, j.Payload, "", j.Key)
		if err != nil {
			return err
		}
		if r.Status == "pending" {
			return w.settleACH(ctx, &r, lapsed)
		}
		return nil
	})
}

// transferLapsed reports whether a pending transaction's ledger transfer
// expired or was voided. Read before the job's transaction: those states
// are terminal, so what is read stays true; a transfer lapsing after the
// read makes the post refuse, and the retry sees it.
func (s *Service) transferLapsed(ctx context.Context, marketplace, id string) (bool, error) {
	r, err := s.store.GetResource(ctx, marketplace, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return false, apperr.New(apperr.NotFound, "no transaction with id %s", id)
	}
	if err != nil || r.Status != "pending" {
		return false, err
	}
	tr, err := s.ledger.GetTransfer(ctx, Str(r.Private["transfer"]))
	if err != nil {
		return false, err
	}
	return tr.Status == ledger.StatusExpired || tr.Status == ledger.StatusVoided, nil
}

// settleACH ends a pending ACH transaction: succeeded when its transfer
// posts, failed when the transfer lapsed.
func (w *Writer) settleACH(ctx context.Context, r *Resource, lapsed bool) error {
	kind := r.Type[:len(r.Type)-1]
	if r.Type == "credits" {
		// A payout with its final status, failed or succeeded, holds no
		// buffer any more.
		if err := w.releaseBuffer(ctx, r.ID); err != nil {
			return err
		}
	}
	if lapsed {
		fail(r, "transfer-lapsed", "the bank transfer lapsed before it settled; no money moved")
		saved, err := w.Save(ctx, *r)
		if err != nil {
			return err
		}
		*r = saved
		_, err = w.Emit(ctx, kind+".failed", *r)
		return err
	}
	if r.Type != "settlements" {
		// A settlement's transfer posted when it was made: the account it
		// settled was at zero at once.
		if _, err := w.Post(Str(r.Private["transfer"]), 0); err != nil {
			return err
		}
	}
	succeed(r)
	if r.Type == "debits" {
		// The escrow's money is aged from here (the 30-day rule).
		r.Private["funded_at"] = w.Now().UTC().Format(time.RFC3339Nano)
		if r.Link("order") == "" {
			if err := w.followFundsAging(ctx, r.Marketplace, nil); err != nil {
				return err
			}
		}
	}
	saved, err := w.Save(ctx, *r)
	if err != nil {
		return err
	}
	*r = saved
	if _, err := w.Emit(ctx, kind+".succeeded", *r); err != nil {
		return err
	}
	if Bool(r.Private["sandbox_return"]) {
		if err := w.scheduleSandboxReturn(ctx, *r); err != nil {
			return err
		}
	}
	if r.Type == "reversals" {
		return w.feedReversal(ctx, *r)
	}
	if r.Type != "debits" {
		return nil
	}
	if o := r.Link("order"); o != "" {
		// An order's amount is what it has taken in: a bank debit is taken
		// in when it settles.
		order, err := w.Lock(ctx, r.Marketplace, "orders", o)
		if err != nil {
			return err
		}
		if err := w.addOrderAmount(o, Int(r.Fields["amount"])); err != nil {
			return err
		}
		if err := w.followFundsAging(ctx, r.Marketplace, &order); err != nil {
			return err
		}
	}
	return w.feedDebit(ctx, *r, false)
}
