package merchants

import (
	"context"
	"github.com/poise-payments/poise/internal/payments"

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
		return w.Create(ctx, payments.Resource{Marketplace: marketplace, Type: "balance_rules", Fields: map[string]any{
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
