package payments

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
)

// A test marketplace has a test clock: the real time plus an offset that
// the API can only advance. Balances are computed at the marketplace's
// time, and its due work (ACH settlements, scheduled adjustments) falls due
// as its clock reaches it, so a user can watch a hold clear or a reserve
// release without waiting.

// maxClockAdvance bounds one advance: ten years is past every reserve
// period and schedule.
const maxClockAdvance = 10 * 365 * 24 * time.Hour

// JobShifter moves a marketplace's due work when its clock advances.
type JobShifter interface {
	ShiftJobs(ctx context.Context, marketplace string, d time.Duration) error
}

// ClockOffset is how far a marketplace's test clock is ahead of real time.
func (s *Service) ClockOffset(ctx context.Context, marketplace string) (time.Duration, error) {
	mp, err := s.store.GetResource(ctx, marketplace, marketplace)
	if err != nil {
		return 0, err
	}
	return time.Duration(Int(mp.Private["clock_offset_us"])) * time.Microsecond, nil
}

// NowFor is a marketplace's time.
func (s *Service) NowFor(ctx context.Context, marketplace string) (time.Time, error) {
	off, err := s.ClockOffset(ctx, marketplace)
	if err != nil {
		return time.Time{}, err
	}
	return s.Now().Add(off), nil
}

// AdvanceClock moves a test marketplace's clock forward by d, and its
// pending due work with it, in one transaction. Afterwards the scheduler is
// woken so that what fell due runs at once.
func (s *Service) AdvanceClock(ctx context.Context, marketplace string, d time.Duration) (time.Time, error) {
	if d <= 0 || d > maxClockAdvance {
		return time.Time{}, apperr.New(apperr.Invalid, "a test clock advances by a positive duration of at most %s", maxClockAdvance)
	}
	v, err := s.Write(WithoutIdempotency(ctx), nil, func(ctx context.Context, w *Writer) (any, error) {
		mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
		if err != nil {
			return nil, err
		}
		if Bool(mp.Fields["production"]) {
			return nil, apperr.New(apperr.Forbidden, "only a test marketplace has a test clock")
		}
		off := Int(mp.Private["clock_offset_us"]) + d.Microseconds()
		mp.Private["clock_offset_us"] = off
		if _, err := w.Save(ctx, mp); err != nil {
			return nil, err
		}
		if err := w.tx.ShiftJobs(ctx, marketplace, d); err != nil {
			return nil, err
		}
		return w.Now().Add(time.Duration(off) * time.Microsecond), nil
	})
	if err != nil {
		return time.Time{}, err
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return v.(time.Time), nil
}

// Wake fires when a test clock advanced, for the scheduler to run what fell
// due.
func (s *Service) Wake() <-chan struct{} { return s.wake }

// offsetIn reads a marketplace's clock offset inside an operation.
func (w *Writer) offsetIn(ctx context.Context, marketplace string) (time.Duration, error) {
	mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
	if err != nil {
		return 0, err
	}
	return time.Duration(Int(mp.Private["clock_offset_us"])) * time.Microsecond, nil
}
