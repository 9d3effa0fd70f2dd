package payments

import (
	"context"
	"errors"
	"github.com/poise-payments/poise/internal/apperr"
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

// BalanceFeed is what merchant balances do with the transactions of
// Balanced operations. Operations call it inside their committer
// operation, so a transaction and its effect on balances commit together.
type BalanceFeed interface {
	// Fed records e, which source caused, and posts it into every balance
	// it reaches.
	Fed(ctx context.Context, w *Writer, e FeedEntry, source Resource) error
	// PayoutDone ends what a payout held in the buffers of the balances it
	// reached, once it has its final status.
	PayoutDone(ctx context.Context, w *Writer, payoutID string) error
	// Ready says whether the feed can post in w's transaction: the store
	// keeps what it needs.
	Ready(w *Writer) error
	// Hint is what an operation that feeds an entry for merchant (a
	// customer's ID) adds to its hint: the questions the feed will ask
	// (see LinkedHint).
	Hint(marketplace, merchant string) []string
}

// SetBalanceFeed sets where the service's operations send what they do to
// merchants' money. It is set once, before the service serves.
func (s *Service) SetBalanceFeed(f BalanceFeed) { s.feed = f }

// ErrNoBalanceFeed refuses an operation that reaches a merchant while no
// balance feed is set: the transaction would be missing from balances.
var ErrNoBalanceFeed = errors.New("payments: no balance feed is set; merchant balances would miss transactions")

// Ready checks, before the service serves, that it has a balance feed and
// that the store's transactions keep what the service, its idempotency
// keeper and its feed need, in one operation that writes nothing: a
// missing capability is an error at start, not at the first operation
// that needs it.
func (s *Service) Ready(ctx context.Context) error {
	if s.feed == nil {
		return ErrNoBalanceFeed
	}
	_, err := s.Write(WithoutIdempotency(ctx), NoMarketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		if err := s.keeper.Ready(w.Writer); err != nil {
			return nil, err
		}
		return nil, s.feed.Ready(w)
	})
	return err
}

// balances is the balance feed of the operation's service.
func (w *Writer) balances() BalanceFeed {
	if w.balanceFeed == nil {
		return noFeed{}
	}
	return w.balanceFeed
}

// noFeed refuses every entry: a service without a balance feed fails
// operations that reach a merchant, never drops their entries.
type noFeed struct{}

func (noFeed) Fed(context.Context, *Writer, FeedEntry, Resource) error { return ErrNoBalanceFeed }
func (noFeed) PayoutDone(context.Context, *Writer, string) error       { return ErrNoBalanceFeed }
func (noFeed) Ready(*Writer) error                                     { return ErrNoBalanceFeed }
func (noFeed) Hint(string, string) []string                            { return nil }

// releaseBuffer ends what a payout held in the buffers of balances.
func (w *Writer) releaseBuffer(ctx context.Context, payoutID string) error {
	return w.balances().PayoutDone(ctx, w, payoutID)
}

// gateOf names the rail of an instrument type.
func gateOf(instrumentType string) string {
	if instrumentType == "cards" {
		return "card"
	}
	return "ach"
}

// feed records what an operation did to a merchant's money, through the
// merchant's default endpoint. Operations that concern no merchant (no
// order, no recipient) are the marketplace's own and are fed under its
// owner customer.
func (w *Writer) feed(ctx context.Context, typ, merchant string, amount int64, gate string, source Resource) error {
	if merchant == "" {
		mp, err := w.Lock(ctx, source.Marketplace, "marketplaces", source.Marketplace)
		if err != nil {
			return err
		}
		merchant = mp.Link("owner_customer")
	}
	e := FeedEntry{
		ID: w.NewID("BT"), Marketplace: source.Marketplace, Merchant: merchant, Type: typ,
		AmountMinor: amount, Currency: Currency, Gate: gate, SourceID: source.ID, OccurredAt: w.Now(),
	}
	return w.balances().Fed(ctx, w, e, source)
}

// linksReader is a Tx that can answer the links of a resource it has
// locked or written without decoding and copying the whole resource.
type linksReader interface {
	// LinksOf returns the type and links (not to be changed) of a resource
	// the transaction has locked or written, if it has.
	LinksOf(marketplace, id string) (typ string, links map[string]string, ok bool)
}

// merchantOf is the merchant an order-bound transaction concerns. The
// order is locked, or was already: most operations locked or rewrote it
// before they ask, and then its links are all they need of it.
func (w *Writer) merchantOf(ctx context.Context, marketplace, orderID string) (string, error) {
	if orderID == "" {
		return "", nil
	}
	if lr, ok := w.tx.(linksReader); ok {
		if typ, links, ok := lr.LinksOf(marketplace, orderID); ok {
			if typ != "orders" {
				return "", apperr.New(apperr.NotFound, "no orders with id %s", orderID)
			}
			w.orders.put(orderID, links["merchant"])
			return links["merchant"], nil
		}
	}
	o, err := w.Lock(ctx, marketplace, "orders", orderID)
	if err != nil {
		return "", err
	}
	w.orders.put(orderID, o.Link("merchant"))
	return o.Link("merchant"), nil
}
