package merchants

import (
	"context"
	"github.com/poise-payments/poise/internal/payments"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
)

// BalanceRule says what one transaction type does to a merchant's
// balance (see balances.Rule).
type BalanceRule = balances.Rule

// SetBalanceRule sets a merchant's rule for one transaction type,
// replacing the default.
func (s *Service) SetBalanceRule(ctx context.Context, marketplace, merchantID string, r BalanceRule) (payments.Resource, error) {
	if _, ok := balances.Actions[r.Action]; !ok {
		return payments.Resource{}, apperr.New(apperr.Invalid, "action must be add, deduct or rate_only")
	}
	if r.Type == "" {
		return payments.Resource{}, apperr.New(apperr.Invalid, "type is required")
	}
	if _, _, err := balances.ParseDateBump(r.DateBump); err != nil {
		return payments.Resource{}, err
	}
	if r.Gate != "" {
		gates, err := s.Gates(ctx, marketplace)
		if err != nil {
			return payments.Resource{}, err
		}
		if _, ok := gates[r.Gate]; !ok {
			return payments.Resource{}, apperr.New(apperr.Invalid, "gate must be a built-in gate (card, ach, adjustment) or one the marketplace configured; %q is neither", r.Gate)
		}
	}
	if r.Endpoint != "" {
		ep, err := s.pay.GetTyped(ctx, marketplace, "endpoints", r.Endpoint)
		if err != nil {
			return payments.Resource{}, err
		}
		if ep.Link("merchant") != merchantID && !oversees(ctx, s, marketplace, merchantID, ep.Link("merchant")) {
			return payments.Resource{}, apperr.New(apperr.NotFound, "no endpoint %s of this owner", r.Endpoint)
		}
	}
	if !r.EffectiveUntil.IsZero() && !r.EffectiveUntil.After(r.EffectiveFrom) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "effective_until must be after effective_from")
	}
	if r.FeeFixedMinor < 0 || r.ReservePeriodDays < 0 || r.ReservePeriodDays > 3650 {
		return payments.Resource{}, apperr.New(apperr.Invalid, "fee_fixed and reserve_period_days must be zero or more (a period at most ten years)")
	}
	if r.Balance != "" {
		m, err := s.pay.Get(ctx, marketplace, merchantID)
		if err != nil {
			return payments.Resource{}, err
		}
		set, err := s.balancesOf(ctx, m)
		if err != nil {
			return payments.Resource{}, err
		}
		if !set.has(r.Balance) {
			return payments.Resource{}, apperr.New(apperr.NotFound, "merchant %s has no balance named %q to override", merchantID, r.Balance)
		}
	}
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		if _, err := w.lockParty(ctx, marketplace, merchantID); err != nil {
			return nil, err
		}
		from := r.EffectiveFrom
		if from.IsZero() {
			from = w.Now()
		}
		if !r.EffectiveUntil.IsZero() && !r.EffectiveUntil.After(w.Now()) {
			return nil, apperr.New(apperr.Invalid, "effective_until must be in the future: a rule cannot be ended before it is made")
		}
		return w.Create(ctx, payments.Resource{Marketplace: marketplace, Type: "balance_rules", Fields: map[string]any{
			"effective_from": from.UTC().Format(time.RFC3339Nano), "effective_until": stampNanoOrNil(r.EffectiveUntil),
			"transaction_type": r.Type, "action": r.Action, "fee_rate": r.FeeRate.Decimal(), "fee_fixed": r.FeeFixedMinor,
			"reserve_rate": r.ReserveRate.Decimal(), "reserve_period_days": int64(r.ReservePeriodDays), "date_bump": r.DateBump,
			"balance": nilIfEmpty(r.Balance), "gate": nilIfEmpty(r.Gate), "endpoint": nilIfEmpty(r.Endpoint),
		}, Links: map[string]string{"merchant": merchantID}}, "BR")
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

// maxRulesPerMerchant bounds the rules read for one balance.
const maxRulesPerMerchant = 1000

// oversees reports whether a manager oversees a merchant.
func oversees(ctx context.Context, s *Service, marketplace, managerID, merchantID string) bool {
	mg, err := s.pay.GetTyped(ctx, marketplace, "managers", managerID)
	if err != nil {
		return false
	}
	for _, v := range mg.Fields["merchants"].([]any) {
		if payments.Str(v) == merchantID {
			return true
		}
	}
	return false
}

func stampNanoOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// EndBalanceRule ends a rule at an instant (zero: now), which must not be
// in the past nor before the rule took effect: from then on the rule
// below it, or the seed's table, applies. What it applied stays applied.
func (s *Service) EndBalanceRule(ctx context.Context, marketplace, ruleID string, at time.Time) (payments.Resource, error) {
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		r, err := w.Lock(ctx, marketplace, "balance_rules", ruleID)
		if err != nil {
			return nil, err
		}
		now := w.Now()
		if at.IsZero() {
			at = now
		}
		if at.Before(now) {
			return nil, apperr.New(apperr.Invalid, "a rule is ended now or later, never in the past: what it applied stays applied")
		}
		if until, err := time.Parse(time.RFC3339Nano, payments.Str(r.Fields["effective_until"])); err == nil && !until.After(now) {
			return nil, apperr.New(apperr.Conflict, "rule %s ended at %s", ruleID, payments.Str(r.Fields["effective_until"]))
		}
		from, err := time.Parse(time.RFC3339Nano, payments.Str(r.Fields["effective_from"]))
		if err != nil {
			from = r.CreatedAt
		}
		if at.Before(from) {
			at = from // ended before it took effect: it never applies
		}
		r.Fields["effective_until"] = at.UTC().Format(time.RFC3339Nano)
		return w.Save(ctx, r)
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}
