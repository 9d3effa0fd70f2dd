package payments

import (
	"context"
	"time"
)

// Balance transaction types, PayNet's names for what Balanced operations
// do to a merchant's money (DESIGN §1).
const (
	FeedSale                = "sale"
	FeedPreauth             = "preauth"
	FeedCapture             = "capture"
	FeedVoid                = "void"
	FeedReversal            = "reversal"
	FeedPayout              = "payout"
	FeedPayoutCancel        = "payout_cancel"
	FeedChargeback          = "chargeback"
	FeedAccountVerification = "account_verification"
)

// FeedEntry is one transaction of the merchant balance feed.
type FeedEntry struct {
	ID          string
	Marketplace string
	Merchant    string
	Type        string
	AmountMinor int64
	Currency    string
	Gate        string
	SourceID    string
	OccurredAt  time.Time
	// Endpoint is the endpoint the transaction came through; empty for
	// the default endpoint of its merchant and currency.
	Endpoint string
}

// gateOf names the rail of an instrument type.
func gateOf(instrumentType string) string {
	if instrumentType == "cards" {
		return "card"
	}
	return "ach"
}

// feed records what an operation did to a merchant's money. Operations
// that concern no merchant (no order, no recipient) are the marketplace's
// own and are fed under its owner customer.
func (w *Writer) feed(ctx context.Context, typ, merchant string, amount int64, gate string, source Resource) error {
	return w.feedVia(ctx, typ, merchant, amount, gate, "", source)
}

// feedVia is feed through a named endpoint ("" for the default).
func (w *Writer) feedVia(ctx context.Context, typ, merchant string, amount int64, gate, endpoint string, source Resource) error {
	if merchant == "" {
		mp, err := w.Lock(ctx, source.Marketplace, "marketplaces", source.Marketplace)
		if err != nil {
			return err
		}
		merchant = mp.Link("owner_customer")
	}
	e := FeedEntry{
		ID: w.NewID("BT"), Marketplace: source.Marketplace, Merchant: merchant, Type: typ,
		AmountMinor: amount, Currency: Currency, Gate: gate, SourceID: source.ID, OccurredAt: w.Now(), Endpoint: endpoint,
	}
	if err := w.tx.InsertFeed(ctx, e); err != nil {
		return err
	}
	return w.postEntry(ctx, e, source)
}

// merchantOf is the merchant an order-bound transaction concerns.
func (w *Writer) merchantOf(ctx context.Context, marketplace, orderID string) (string, error) {
	if orderID == "" {
		return "", nil
	}
	o, err := w.Lock(ctx, marketplace, "orders", orderID)
	if err != nil {
		return "", err
	}
	return o.Link("merchant"), nil
}

// Feed lists a merchant's balance transactions, oldest first.
func (s *Service) Feed(ctx context.Context, marketplace, merchant string) ([]FeedEntry, error) {
	return s.store.FeedOf(ctx, marketplace, merchant)
}
