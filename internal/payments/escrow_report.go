package payments

import (
	"context"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// EscrowReport is what an escrow (the marketplace's or an order's) holds,
// read from its ledger account's materialized balances.
type EscrowReport struct {
	// PostedMinor is the settled money in the escrow.
	PostedMinor int64
	// PendingInMinor is promised to it and not there yet: bank debits
	// waiting for their business day. It can be neither paid out nor
	// refunded until they settle.
	PendingInMinor int64
	// PendingOutMinor is promised away: payouts and ACH refunds on their
	// way to the bank. It is still posted here until they settle.
	PendingOutMinor int64
	// AvailableMinor is posted less pending out: what is really the
	// escrow's to pay out or refund. The API's in_escrow and
	// amount_escrowed show it.
	AvailableMinor int64
	// ByAge splits the posted money by how long ago it arrived, first in
	// first out (escrow_age.go); EscrowOf fills it.
	ByAge []AgeBucket
	// OldestFundsAt is when the oldest money still posted arrived; zero
	// for an empty escrow.
	OldestFundsAt time.Time
}

// Escrow reads what an escrow account holds. An account not created yet
// (an escrow no money reached) holds nothing.
func (s *Service) Escrow(ctx context.Context, accountID string) (EscrowReport, error) {
	_, r, err := s.escrowAccount(ctx, accountID)
	return r, err
}

// OrderTotals reads an order's amount (orderAmount) and what its escrow
// holds, from one read of its escrow account.
func (s *Service) OrderTotals(ctx context.Context, order Resource) (amount int64, escrow EscrowReport, err error) {
	a, r, err := s.escrowAccount(ctx, order.ID)
	return orderAmount(order, a), r, err
}

func (s *Service) escrowAccount(ctx context.Context, accountID string) (ledger.Account, EscrowReport, error) {
	a, err := s.ledger.Account(ctx, accountID)
	if apperr.Is(err, apperr.NotFound) {
		return ledger.Account{}, EscrowReport{}, nil
	}
	if err != nil {
		return ledger.Account{}, EscrowReport{}, err
	}
	return a, EscrowReport{PostedMinor: a.PostedMinor, PendingInMinor: a.PendingInMinor,
		PendingOutMinor: a.PendingOutMinor, AvailableMinor: a.AvailableMinor()}, nil
}

// EscrowOf reads the escrow of a marketplace (id is the marketplace's) or
// of one of its orders; anything else is not found.
func (s *Service) EscrowOf(ctx context.Context, marketplace, id string) (EscrowReport, error) {
	orderID := id
	if id == marketplace {
		orderID = ""
	} else if _, err := s.GetTyped(ctx, marketplace, "orders", id); err != nil {
		return EscrowReport{}, err
	}
	r, err := s.Escrow(ctx, escrowAccountOf(marketplace, orderID))
	if err != nil {
		return r, err
	}
	now, err := s.NowFor(ctx, marketplace)
	if err != nil {
		return r, err
	}
	unpaid, err := s.agedEscrow(ctx, marketplace, orderID, r.PostedMinor)
	if err != nil {
		return r, err
	}
	r.ByAge = byAge(unpaid, now)
	if len(unpaid) > 0 {
		r.OldestFundsAt = unpaid[len(unpaid)-1].at
	}
	return r, nil
}
