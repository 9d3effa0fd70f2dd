package payments

import (
	"context"
	"maps"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// OrderInput is what creating or updating an order may set.
type OrderInput struct {
	Description     any
	DeliveryAddress map[string]any
	Meta            map[string]string
}

// CreateOrder opens an order for a merchant: a resource, and the ledger
// account that is the order's own escrow. Money debited into the order can
// leave it only to the merchant, or back to the buyer as a refund, and never
// more than came in: the account may not go negative.
func (s *Service) CreateOrder(ctx context.Context, marketplace, merchantID string, in OrderInput) (Resource, error) {
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		if _, err := w.Lock(ctx, marketplace, "customers", merchantID); err != nil {
			return nil, err
		}
		o := Resource{Marketplace: marketplace, Type: "orders", Fields: map[string]any{
			"currency":         Currency,
			"amount":           int64(0),
			"description":      in.Description,
			"delivery_address": orDefault(in.DeliveryAddress, emptyAddress()),
			"meta":             orDefault(in.Meta, map[string]string{}),
		}, Links: map[string]string{"merchant": merchantID}}
		o, err := w.Create(ctx, o, "OR")
		if err != nil {
			return nil, err
		}
		if _, err := w.CreateAccount(ledger.Account{ID: o.ID, Owner: marketplace, Kind: "order", Currency: Currency}); err != nil {
			return nil, err
		}
		_, err = w.Emit(ctx, "order.created", o)
		return o, err
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// An order's amount is what it has taken in, net of refunds and returns.
// It is kept as the tally of the order's escrow account (ledger.Account.
// TallyMinor), which every operation that changes it rewrites anyway for
// the money it moves: a debit into an order then writes no order row. The
// order's resource keeps the amount it was stored with, zero since the
// tally exists; the two together are the amount.

// addOrderAmount adds delta to an order's amount, in the operation that
// moves the money.
func (w *Writer) addOrderAmount(orderID string, delta int64) error {
	return w.Tally(orderID, delta)
}

// orderAmount is an order's amount, from its resource and its escrow
// account as one read of each found them.
func orderAmount(order Resource, escrow ledger.Account) int64 {
	return Int(order.Fields["amount"]) + escrow.TallyMinor
}

// withOrderAmount is r with its amount as this operation sees it, for a
// snapshot an event keeps; r itself is left as it is.
func (w *Writer) withOrderAmount(r Resource) (Resource, error) {
	escrow, err := w.Account(r.ID)
	if apperr.Is(err, apperr.NotFound) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	amount := orderAmount(r, escrow)
	r.Fields = maps.Clone(r.Fields)
	r.Fields["amount"] = amount
	return r, nil
}

// UpdateOrder changes an order's description, delivery address or meta.
func (s *Service) UpdateOrder(ctx context.Context, marketplace, orderID string, in OrderInput) (Resource, error) {
	return s.update(ctx, marketplace, "orders", orderID, "order.updated", func(o *Resource) error {
		if in.Description != nil {
			o.Fields["description"] = in.Description
		}
		if in.DeliveryAddress != nil {
			o.Fields["delivery_address"] = in.DeliveryAddress
		}
		if in.Meta != nil {
			o.Fields["meta"] = in.Meta
		}
		return nil
	})
}

// Update locks a resource of a type, lets change edit it, saves it and
// emits event (none when "").
func (s *Service) Update(ctx context.Context, marketplace, typ, id, event string, change func(r *Resource) error) (Resource, error) {
	return s.update(ctx, marketplace, typ, id, event, change)
}

// update locks a resource, lets change edit it, saves it and emits an event.
func (s *Service) update(ctx context.Context, marketplace, typ, id, event string, change func(r *Resource) error) (Resource, error) {
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		r, err := w.Lock(ctx, marketplace, typ, id)
		if err != nil {
			return nil, err
		}
		if err := change(&r); err != nil {
			return nil, err
		}
		r, err = w.Save(ctx, r)
		if err != nil {
			return nil, err
		}
		if event != "" {
			_, err = w.Emit(ctx, event, r)
		}
		return r, err
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// Escrowed is what an order holds now.
func (s *Service) Escrowed(ctx context.Context, orderID string) (int64, error) {
	return s.Balance(ctx, orderID)
}

func orDefault[T any](v T, def T) any {
	if any(v) == nil {
		return def
	}
	switch x := any(v).(type) {
	case map[string]any:
		if x == nil {
			return def
		}
	case map[string]string:
		if x == nil {
			return def
		}
	}
	return v
}

// notOrderMerchant refuses money leaving an order for anyone but its
// merchant or the marketplace owner, in Balanced's words and category.
func notOrderMerchant(instrument, merchant, owner string) error {
	return apperr.WithReason(apperr.Conflict, "order",
		"Funding instrument %s is not associated with order customer %s or marketplace owner customer %s.", instrument, merchant, owner)
}

// UpdateFields sets fields (and meta, when not nil) of a resource that a
// client may change; the API surface decides which those are.
func (s *Service) UpdateFields(ctx context.Context, marketplace, typ, id string, set map[string]any, meta map[string]string) (Resource, error) {
	event := ""
	if typ != "marketplaces" {
		event = strings.TrimSuffix(typ, "s") + ".updated"
	}
	return s.update(ctx, marketplace, typ, id, event, func(r *Resource) error {
		for k, v := range set {
			r.Fields[k] = v
		}
		if meta != nil {
			r.Fields["meta"] = meta
		}
		return nil
	})
}
