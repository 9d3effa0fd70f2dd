package payments

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
)

// A test marketplace has a test clock: the real time plus an offset that
// the API can only advance (clock.Offset). It is the time of everything in
// the marketplace: every operation for it runs on its clock (Writer.Now),
// balances are computed at its time, and its due work (ACH settlements,
// scheduled adjustments, hold expiries) falls due as its clock reaches it,
// so a user can watch a hold clear or a reserve release without waiting.

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
	return clockOffset(mp), nil
}

// clockOffset is the sum of the advances a marketplace's clock was given;
// a production marketplace has none.
func clockOffset(mp Resource) time.Duration {
	return time.Duration(Int(mp.Private["clock_offset_us"])) * time.Microsecond
}

// marketplaceClock is the clock of marketplace mp, running on base.
func marketplaceClock(base clock.Clock, mp Resource) clock.Clock {
	return clock.Offset(base, clockOffset(mp))
}

// ClockFor is a marketplace's clock, for reads outside an operation (an
// operation's Writer carries its marketplace's clock itself).
func (s *Service) ClockFor(ctx context.Context, marketplace string) (clock.Clock, error) {
	mp, err := s.store.GetResource(ctx, marketplace, marketplace)
	if err != nil {
		return nil, err
	}
	return marketplaceClock(s.ledger, mp), nil
}

// NowFor is a marketplace's time.
func (s *Service) NowFor(ctx context.Context, marketplace string) (time.Time, error) {
	c, err := s.ClockFor(ctx, marketplace)
	if err != nil {
		return time.Time{}, err
	}
	return c.Now(), nil
}

// AdvanceClock moves a test marketplace's clock forward by d, and its
// pending due work with it, in one transaction. Afterwards the scheduler is
// woken so that what fell due runs at once.
func (s *Service) AdvanceClock(ctx context.Context, marketplace string, d time.Duration) (time.Time, error) {
	if d <= 0 || d > maxClockAdvance {
		return time.Time{}, apperr.New(apperr.Invalid, "a test clock advances by a positive duration of at most %s", maxClockAdvance)
	}
	v, err := s.Write(WithoutIdempotency(ctx), marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
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
		// w's clock was read before this advance.
		return w.Now().Add(d), nil
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
