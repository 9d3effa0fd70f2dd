package payments

import (
	"context"
	"errors"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/ledger"
)

// FeedAdjustment is the feed type of a balance adjustment; its amount is
// signed (a credit adds, a debit deducts).
const FeedAdjustment = "adjustment"

// maxExternalLen bounds an adjustment's external source and ID.
const maxExternalLen = 255

// AdjustmentsAccount is the outside-world ledger account adjustments come
// from and go to: an operator's corrections, fees and bonuses.
func AdjustmentsAccount(marketplace string) string { return marketplace + "_adjustments" }

// AdjustmentTx claims external IDs inside an operation.
type AdjustmentTx interface {
	// ClaimExternalID returns ledger.ErrDuplicate, with the adjustment that
	// used it, when the external ID was used before.
	ClaimExternalID(ctx context.Context, marketplace, externalID, adjustmentID string) (string, error)
}

// AdjustmentInput is one adjustment of a merchant's balance.
type AdjustmentInput struct {
	// AmountMinor is signed: positive credits the merchant, negative debits.
	AmountMinor    int64
	ExternalSource string
	// ExternalID, when given, makes the adjustment idempotent: the same ID
	// again returns the first adjustment and moves nothing.
	ExternalID  string
	BalanceName string
	Description string
}

// Adjust moves money between the marketplace's adjustment source and a
// merchant's payable account, and feeds the merchant's balance.
func (s *Service) Adjust(ctx context.Context, marketplace, merchantID string, in AdjustmentInput) (Resource, error) {
	v, err := s.Write(ctx, nil, func(ctx context.Context, w *Writer) (any, error) {
		return w.adjust(ctx, marketplace, merchantID, in)
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

func (w *Writer) adjust(ctx context.Context, marketplace, merchantID string, in AdjustmentInput) (Resource, error) {
	if in.AmountMinor == 0 || in.AmountMinor > MaxAmountMinor || in.AmountMinor < -MaxAmountMinor {
		return Resource{}, apperr.New(apperr.Invalid, "amount must be a non-zero number of cents within ±%d", MaxAmountMinor)
	}
	if in.ExternalSource == "" || len(in.ExternalSource) > maxExternalLen || len(in.ExternalID) > maxExternalLen {
		return Resource{}, apperr.New(apperr.Invalid, "external_source is required (at most %d characters)", maxExternalLen)
	}
	m, err := w.Lock(ctx, marketplace, "merchants", merchantID)
	if err != nil {
		return Resource{}, err
	}
	if in.BalanceName != "" && in.BalanceName != Currency {
		return Resource{}, apperr.New(apperr.NotFound, "merchant %s has no balance named %q", merchantID, in.BalanceName)
	}
	adjID := id.NewAt("AJ", w.Now())
	if in.ExternalID != "" {
		atx, ok := w.tx.(AdjustmentTx)
		if !ok {
			return Resource{}, errors.New("payments: the store keeps no adjustment IDs")
		}
		existing, err := atx.ClaimExternalID(ctx, marketplace, in.ExternalID, adjID)
		if errors.Is(err, ledger.ErrDuplicate) {
			return w.Lock(ctx, marketplace, "adjustments", existing)
		}
		if err != nil {
			return Resource{}, err
		}
	}
	acct, err := w.payableAccount(ctx, marketplace, m.Link("customer"))
	if err != nil {
		return Resource{}, err
	}
	source := AdjustmentsAccount(marketplace)
	if _, err := w.Account(source); apperr.Is(err, apperr.NotFound) {
		if _, err := w.CreateAccount(ledger.Account{ID: source, Owner: marketplace, Kind: "adjustments", Currency: Currency, MayGoNegative: true}); err != nil {
			return Resource{}, err
		}
	} else if err != nil {
		return Resource{}, err
	}
	tr, err := w.Transfer(ledger.TransferRequest{Code: "adjustment", Ref: adjID, Postings: []ledger.Posting{
		{AccountID: source, AmountMinor: -in.AmountMinor}, {AccountID: acct, AmountMinor: in.AmountMinor}}})
	if err != nil {
		return Resource{}, err
	}
	adj, err := w.Create(ctx, Resource{ID: adjID, Marketplace: marketplace, Type: "adjustments", Status: "succeeded", Fields: map[string]any{
		"amount": in.AmountMinor, "currency": Currency, "external_source": in.ExternalSource,
		"external_id": nilIfEmpty(in.ExternalID), "balance_name": Currency, "description": nilIfEmpty(in.Description),
	}, Links: map[string]string{"merchant": m.ID}, Private: map[string]any{"transfer": tr.ID}}, "AJ")
	if err != nil {
		return adj, err
	}
	return adj, w.feed(ctx, FeedAdjustment, m.Link("customer"), in.AmountMinor, "adjustment", adj)
}

// payableAccount finds a customer's payable account inside an operation.
func (w *Writer) payableAccount(ctx context.Context, marketplace, customer string) (string, error) {
	if customer == "" {
		return "", apperr.New(apperr.Conflict, "the merchant is not linked to a customer")
	}
	cu, err := w.Lock(ctx, marketplace, "customers", customer)
	if err != nil {
		return "", err
	}
	if acct := Str(cu.Private["payable_account"]); acct != "" {
		return acct, nil
	}
	return "", apperr.New(apperr.Conflict, "customer %s has no payable account", customer)
}
