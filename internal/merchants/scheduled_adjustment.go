package merchants

import (
	"context"
	"errors"
	"fmt"
	"github.com/poise-payments/poise/internal/payments"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/scheduler"
)

// JobScheduledAdjustment runs one period of a scheduled adjustment.
const JobScheduledAdjustment = "adjustment.scheduled"

// ScheduleInput creates or edits a scheduled adjustment. Nil fields of an
// edit are left as they are.
type ScheduleInput struct {
	Period         string // weekly or monthly
	First, Last    time.Time
	AmountMinor    int64
	ExternalSource string
	// Currency of the amount (the marketplace's when empty) and
	// BalanceName, the balance it adjusts (empty: the merchant's default
	// balance in Currency). Both are checked at each run, since balances
	// can be configured after the schedule.
	Currency, BalanceName string
	// StopWhenDisabled ends the schedule once the merchant is disabled;
	// StopAtZero once the merchant's balance is zero or below.
	StopWhenDisabled, StopAtZero bool
	// Acknowledged is the operator's mandatory acknowledgement that a
	// recurring adjustment can change a balance without bound over time.
	Acknowledged bool
	Enabled      *bool
}

// CreateSchedule sets up a recurring adjustment of a merchant's balance.
func (s *Service) CreateSchedule(ctx context.Context, marketplace, merchantID string, in ScheduleInput) (payments.Resource, error) {
	if in.Period != "weekly" && in.Period != "monthly" {
		return payments.Resource{}, apperr.New(apperr.Invalid, "period must be weekly or monthly")
	}
	if !in.Acknowledged {
		return payments.Resource{}, apperr.New(apperr.Invalid, "acknowledge that a scheduled adjustment can change the balance without bound (risk_acknowledged)")
	}
	if in.First.IsZero() || (!in.Last.IsZero() && in.Last.Before(in.First)) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "first_date is required and must not be after last_date")
	}
	if in.AmountMinor == 0 || in.AmountMinor > payments.MaxAmountMinor || in.AmountMinor < -payments.MaxAmountMinor {
		return payments.Resource{}, apperr.New(apperr.Invalid, "amount must be a non-zero number of cents within ±%d", payments.MaxAmountMinor)
	}
	if in.ExternalSource == "" {
		in.ExternalSource = "scheduled"
	}
	if in.Currency == "" {
		in.Currency = payments.Currency
	}
	cur, err := money.LookupCurrency(in.Currency)
	if err != nil {
		return payments.Resource{}, err
	}
	in.Currency = cur.Code
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		if _, err := w.Lock(ctx, marketplace, "merchants", merchantID); err != nil {
			return nil, err
		}
		r, err := w.Create(ctx, payments.Resource{Marketplace: marketplace, Type: "scheduled_adjustments", Status: "on", Fields: map[string]any{
			"period": in.Period, "first_date": stamp(in.First), "last_date": stampOrNil(in.Last), "amount": in.AmountMinor,
			"currency": in.Currency, "balance_name": nilIfEmpty(in.BalanceName), "external_source": in.ExternalSource, "stop_when_merchant_disabled": in.StopWhenDisabled,
			"stop_at_zero_balance": in.StopAtZero, "risk_acknowledged": true, "status": "on",
			"next_run_at": stamp(in.First), "last_run_at": nil,
		}, Links: map[string]string{"merchant": merchantID}, Private: map[string]any{"run": int64(0)}}, "SA")
		if err != nil {
			return nil, err
		}
		return r, w.scheduleRun(ctx, r, in.First)
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func stampOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return stamp(t)
}

func (w *op) scheduleRun(ctx context.Context, r payments.Resource, at time.Time) error {
	// at is a time of the marketplace's clock; jobs are kept in process time.
	return w.tx.ScheduleJob(ctx, scheduler.Job{Kind: JobScheduledAdjustment, Key: r.ID + "@" + stamp(at), Payload: r.Marketplace, DueAt: w.ProcessTime(at)}, w.ProcessNow())
}

// SetScheduleStatus turns a schedule on or off. A schedule turned back on
// resumes at its first run date from now on: the periods it was off are
// skipped, not charged at once. (A schedule that stayed on catches up after
// downtime instead; that is the scheduler's, not the operator's, delay.)
func (s *Service) SetScheduleStatus(ctx context.Context, marketplace, id string, on bool) (payments.Resource, error) {
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		r, err := w.Lock(ctx, marketplace, "scheduled_adjustments", id)
		if err != nil {
			return nil, err
		}
		if r.Hidden {
			return nil, apperr.New(apperr.NotFound, "no scheduled adjustment with id %s", id)
		}
		resumed := on && r.Status == "off" && r.Fields["next_run_at"] != nil
		status := map[bool]string{true: "on", false: "off"}[on]
		r.Status, r.Fields["status"] = status, status
		if resumed {
			if err := resumeAt(&r, w.Now()); err != nil {
				return nil, err
			}
		}
		if r, err = w.Save(ctx, r); err != nil {
			return nil, err
		}
		if resumed && r.Fields["next_run_at"] != nil {
			next, _ := time.Parse(time.RFC3339, payments.Str(r.Fields["next_run_at"]))
			return r, w.scheduleRun(ctx, r, next)
		}
		return r, nil
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

// resumeAt moves a schedule turned back on to its first run at or after
// now, skipping the periods it was off; past its last date it is finished.
func resumeAt(r *payments.Resource, now time.Time) error {
	first, err := time.Parse(time.RFC3339, payments.Str(r.Fields["first_date"]))
	if err != nil {
		return fmt.Errorf("merchants: schedule %s has a malformed first date: %w", r.ID, err)
	}
	period := payments.Str(r.Fields["period"])
	n := int(payments.Int(r.Private["run"]))
	// Periods are a week or more, so even a schedule off for a century
	// steps a few thousand times here.
	for balances.ScheduleRunAt(period, first, n).Before(now) {
		n++
	}
	next := balances.ScheduleRunAt(period, first, n)
	r.Private["run"] = int64(n)
	if r.Fields["stopped_because"] != nil {
		r.Fields["stopped_because"] = nil
	}
	if r.Fields["last_date"] != nil {
		last, err := time.Parse(time.RFC3339, payments.Str(r.Fields["last_date"]))
		if err != nil {
			return fmt.Errorf("merchants: schedule %s has a malformed last date: %w", r.ID, err)
		}
		if next.After(last) {
			r.Fields["next_run_at"] = nil
			r.Status, r.Fields["status"] = "finished", "finished"
			return nil
		}
	}
	r.Fields["next_run_at"] = stamp(next)
	return nil
}

// DeleteSchedule ends a schedule; it stays readable by id.
func (s *Service) DeleteSchedule(ctx context.Context, marketplace, id string) error {
	_, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		r, err := w.Lock(ctx, marketplace, "scheduled_adjustments", id)
		if err != nil {
			return nil, err
		}
		r.Hidden, r.Status, r.Fields["status"], r.Fields["next_run_at"] = true, "deleted", "deleted", nil
		_, err = w.Save(ctx, r)
		return nil, err
	})
	return err
}

// RunScheduledAdjustment is the handler of JobScheduledAdjustment: one
// period's adjustment, the schedule's next run, and the job's completion,
// in one transaction. The adjustment's external ID is the schedule and the
// run date, so a period can never be applied twice.
func (s *Service) RunScheduledAdjustment(ctx context.Context, j scheduler.Job) error {
	marketplace := j.Payload
	id, at, _ := strings.Cut(j.Key, "@")
	if _, err := time.Parse(time.RFC3339, at); err != nil {
		return fmt.Errorf("merchants: job %s has a malformed run date: %w", j.ID, err)
	}
	sched, err := s.pay.GetTyped(ctx, marketplace, "scheduled_adjustments", id)
	if err != nil {
		return err
	}
	merchant, err := s.pay.GetTyped(ctx, marketplace, "merchants", sched.Link("merchant"))
	if err != nil {
		return err
	}
	stopReason := ""
	switch {
	case sched.Status != "on" || payments.Str(sched.Fields["next_run_at"]) != at:
		// Turned off, deleted, or superseded since this run was scheduled.
	case payments.Bool(sched.Fields["stop_when_merchant_disabled"]) && !payments.Bool(merchant.Fields["enabled"]):
		stopReason = "merchant disabled"
	case payments.Bool(sched.Fields["stop_at_zero_balance"]):
		balances, err := s.MerchantBalances(ctx, merchant)
		if err != nil {
			return err
		}
		// The balance the schedule adjusts: the one it names, or the
		// account balance naming no endpoints in its currency.
		target := payments.Str(sched.Fields["balance_name"])
		if target == "" {
			cur := payments.Str(sched.Fields["currency"])
			if cur == "" {
				cur = payments.Currency
			}
			set, err := s.balancesOf(ctx, merchant)
			if err != nil {
				return err
			}
			for _, name := range set.names {
				if d := set.defs[name]; d.kind == "account" && d.endpoints == nil && d.currency == cur {
					target = name
				}
			}
		}
		for _, b := range balances {
			if b.Name == target && b.CurrentMinor <= 0 {
				stopReason = "balance at or below zero"
			}
		}
	}
	adjustment, err := s.withBalances(ctx, marketplace, merchant.ID, AdjustmentInput{ExternalSource: payments.Str(sched.Fields["external_source"]), ExternalID: id + "@" + at,
		Currency: payments.Str(sched.Fields["currency"]), BalanceName: payments.Str(sched.Fields["balance_name"])})
	if err != nil {
		return err
	}
	// run makes this period's adjustment, or, when refusal is given, records
	// that the adjustment was refused and turns the schedule off; either way
	// the job completes in the same transaction.
	run := func(refusal string) error {
		_, err := s.write(payments.WithoutIdempotency(ctx), marketplace, nil, func(ctx context.Context, w *op) (any, error) {
			r, err := w.Lock(ctx, marketplace, "scheduled_adjustments", id)
			if err != nil {
				return nil, err
			}
			if r.Status == "on" && payments.Str(r.Fields["next_run_at"]) == at {
				switch {
				case stopReason != "":
					r.Status, r.Fields["status"], r.Fields["stopped_because"] = "off", "off", stopReason
				case refusal != "":
					r.Status, r.Fields["status"], r.Fields["stopped_because"] = "off", "off", "adjustment refused: "+refusal
				default:
					// The amount and source as the schedule says now, under its lock.
					adjustment.AmountMinor, adjustment.ExternalSource = payments.Int(r.Fields["amount"]), payments.Str(r.Fields["external_source"])
					if _, err := w.adjust(ctx, marketplace, merchant.ID, adjustment); err != nil {
						if msg, ok := runRefusal(err); ok {
							return nil, &refusedRun{message: msg, err: err}
						}
						return nil, err
					}
					if err := w.advanceSchedule(ctx, &r, at); err != nil {
						return nil, err
					}
				}
				if _, err := w.Save(ctx, r); err != nil {
					return nil, err
				}
			}
			if err := w.tx.CompleteJob(ctx, j.ID, w.ProcessNow()); err != nil {
				// ErrNotFound: another run took the job over; this one's
				// effect is rolled back and the job tried again, which finds
				// the period done or does it.
				return nil, fmt.Errorf("merchants: completing job %s: %w", j.ID, err)
			}
			return nil, nil
		})
		return err
	}
	err = run("")
	var refused *refusedRun
	if errors.As(err, &refused) {
		// The refused attempt was rolled back whole; record the outcome.
		err = run(refused.message)
	}
	return err
}

// refusedRun is a scheduled run whose adjustment the merchant's state
// refused: an outcome to record, not a failure to retry.
type refusedRun struct {
	message string
	err     error
}

func (r *refusedRun) Error() string { return r.err.Error() }
func (r *refusedRun) Unwrap() error { return r.err }

// runRefusal tells a refusal of a scheduled adjustment from a failure. A
// refusal is an application error the adjustment itself answered (the
// merchant or its customer gone or unlinked, its account unable to cover a
// debit, an amount out of bounds): the state of the merchant or schedule
// says no, and asking again changes nothing until someone acts. Anything
// else (a database or network error, an internal error, the write path
// overloaded or shutting down, this run losing its job) says nothing about
// the schedule and is retried by the scheduler.
func runRefusal(err error) (string, bool) {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return "", false
	}
	switch e.Code {
	case apperr.Invalid, apperr.NotFound, apperr.Conflict, apperr.InsufficientFunds, apperr.Forbidden:
		return e.Message, true
	}
	return "", false
}

// advanceSchedule moves a schedule past the run at, to its next run or to
// finished after its last date.
func (w *op) advanceSchedule(ctx context.Context, r *payments.Resource, at string) error {
	n := payments.Int(r.Private["run"]) + 1
	r.Private["run"] = n
	r.Fields["last_run_at"] = at
	first, _ := time.Parse(time.RFC3339, payments.Str(r.Fields["first_date"]))
	next := balances.ScheduleRunAt(payments.Str(r.Fields["period"]), first, int(n))
	last, _ := time.Parse(time.RFC3339, payments.Str(r.Fields["last_date"]))
	if r.Fields["last_date"] != nil && next.After(last) {
		r.Fields["next_run_at"] = nil
		r.Status, r.Fields["status"] = "finished", "finished"
		return nil
	}
	r.Fields["next_run_at"] = stamp(next)
	return w.scheduleRun(ctx, *r, next)
}

// ScheduleEdit changes a schedule's runs still to come; nil fields are kept.
type ScheduleEdit struct {
	AmountMinor      *int64
	Last             *time.Time
	StopWhenDisabled *bool
	StopAtZero       *bool
}

// EditSchedule changes what a schedule's future runs do. A last date
// before the next run finishes the schedule.
func (s *Service) EditSchedule(ctx context.Context, marketplace, id string, e ScheduleEdit) (payments.Resource, error) {
	if e.AmountMinor != nil && (*e.AmountMinor == 0 || *e.AmountMinor > payments.MaxAmountMinor || *e.AmountMinor < -payments.MaxAmountMinor) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "amount must be a non-zero number of cents within ±%d", payments.MaxAmountMinor)
	}
	return s.pay.Update(ctx, marketplace, "scheduled_adjustments", id, "", func(r *payments.Resource) error {
		if r.Hidden {
			return apperr.New(apperr.NotFound, "no scheduled adjustment with id %s", id)
		}
		if e.AmountMinor != nil {
			r.Fields["amount"] = *e.AmountMinor
		}
		if e.StopWhenDisabled != nil {
			r.Fields["stop_when_merchant_disabled"] = *e.StopWhenDisabled
		}
		if e.StopAtZero != nil {
			r.Fields["stop_at_zero_balance"] = *e.StopAtZero
		}
		if e.Last != nil {
			first, _ := time.Parse(time.RFC3339, payments.Str(r.Fields["first_date"]))
			if e.Last.Before(first) {
				return apperr.New(apperr.Invalid, "last_date must not be before first_date")
			}
			r.Fields["last_date"] = stamp(*e.Last)
			if next, err := time.Parse(time.RFC3339, payments.Str(r.Fields["next_run_at"])); err == nil && next.After(*e.Last) {
				r.Fields["next_run_at"] = nil
				r.Status, r.Fields["status"] = "finished", "finished"
			}
		}
		return nil
	})
}
