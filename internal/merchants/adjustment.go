package merchants

import (
	"context"
	"errors"
	"github.com/poise-payments/poise/internal/payments"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/money"
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
	// Currency, when given, must be the balance's: a balance holds one
	// currency and refuses another.
	Currency string
	// balanceCurrency maps the merchant's balance names to their
	// currencies.
	balanceCurrency map[string]string
	// balanceEndpoints maps the merchant's balance names to their
	// endpoints, and defaultBalance names the balance that counts the
	// default endpoint; withBalances fills both before the operation runs.
	balanceEndpoints map[string][]string
	defaultBalance   string
	// defaultBalances names, per currency, the account balance naming no
	// endpoints.
	defaultBalances map[string]string
}

// Adjust moves money between the marketplace's adjustment source and a
// merchant's payable account, and feeds the merchant's balance.
func (s *Service) Adjust(ctx context.Context, marketplace, merchantID string, in AdjustmentInput) (payments.Resource, error) {
	in, err := s.withBalances(ctx, marketplace, merchantID, in)
	if err != nil {
		return payments.Resource{}, err
	}
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		return w.adjust(ctx, marketplace, merchantID, in)
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

func (w *op) adjust(ctx context.Context, marketplace, merchantID string, in AdjustmentInput) (payments.Resource, error) {
	if in.AmountMinor == 0 || in.AmountMinor > payments.MaxAmountMinor || in.AmountMinor < -payments.MaxAmountMinor {
		return payments.Resource{}, apperr.New(apperr.Invalid, "amount must be a non-zero number of cents within ±%d", payments.MaxAmountMinor)
	}
	if in.ExternalSource == "" || len(in.ExternalSource) > maxExternalLen || len(in.ExternalID) > maxExternalLen {
		return payments.Resource{}, apperr.New(apperr.Invalid, "external_source is required (at most %d characters)", maxExternalLen)
	}
	m, err := w.Lock(ctx, marketplace, "merchants", merchantID)
	if err != nil {
		return payments.Resource{}, err
	}
	// A named balance is reached through one of its endpoints; the balance
	// that names none (or a merchant's one implicit balance) through the
	// default endpoint.
	if in.balanceEndpoints == nil {
		return payments.Resource{}, errors.New("merchants: an adjustment was made without its merchant's balances")
	}
	endpoint, balance := "", in.defaultBalance
	if in.Currency != "" && in.BalanceName == "" {
		cur, err := money.LookupCurrency(in.Currency)
		if err != nil {
			return payments.Resource{}, err
		}
		// The default balance of a currency: its account balance naming
		// no endpoints (implicit or configured).
		if balance = in.defaultBalances[cur.Code]; balance == "" {
			return payments.Resource{}, apperr.New(apperr.Conflict, "merchant %s has no %s balance", merchantID, cur.Code)
		}
	}
	if in.BalanceName == "" && balance == "" {
		return payments.Resource{}, apperr.New(apperr.Invalid, "no balance of merchant %s counts its default endpoint: name one (balance_name)", merchantID)
	}
	if in.BalanceName != "" {
		balance = in.BalanceName
		eps, ok := in.balanceEndpoints[in.BalanceName]
		if !ok {
			return payments.Resource{}, apperr.New(apperr.NotFound, "merchant %s has no balance named %q", merchantID, in.BalanceName)
		}
		if len(eps) > 0 {
			endpoint = eps[0]
		}
	}
	currency := in.balanceCurrency[balance]
	if in.Currency != "" && !strings.EqualFold(in.Currency, currency) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "balance %q holds %s; an adjustment in %s cannot reach it", balance, currency, strings.ToUpper(in.Currency))
	}
	adjID := w.NewID("AJ")
	if in.ExternalID != "" {
		existing, err := w.tx.ClaimExternalID(ctx, marketplace, in.ExternalID, adjID)
		if errors.Is(err, ledger.ErrDuplicate) {
			return w.Lock(ctx, marketplace, "adjustments", existing)
		}
		if err != nil {
			return payments.Resource{}, err
		}
	}
	private := map[string]any{}
	// An adjustment in the marketplace's currency moves the merchant's
	// payable money in escrow too; escrow holds no other currency, so
	// one in another moves the balance only.
	if currency == payments.Currency {
		acct, err := w.payableAccount(ctx, marketplace, m.Link("customer"))
		if err != nil {
			return payments.Resource{}, err
		}
		source := AdjustmentsAccount(marketplace)
		if _, err := w.Account(source); apperr.Is(err, apperr.NotFound) {
			if _, err := w.CreateAccount(ledger.Account{ID: source, Owner: marketplace, Kind: "adjustments", Currency: payments.Currency, MayGoNegative: true}); err != nil {
				return payments.Resource{}, err
			}
		} else if err != nil {
			return payments.Resource{}, err
		}
		tr, err := w.Transfer(ledger.TransferRequest{Code: "adjustment", Ref: adjID, Postings: []ledger.Posting{
			{AccountID: source, AmountMinor: -in.AmountMinor}, {AccountID: acct, AmountMinor: in.AmountMinor}}})
		if err != nil {
			return payments.Resource{}, err
		}
		private["transfer"] = tr.ID
	}
	adj, err := w.Create(ctx, payments.Resource{ID: adjID, Marketplace: marketplace, Type: "adjustments", Status: "succeeded", Fields: map[string]any{
		"amount": in.AmountMinor, "currency": currency, "external_source": in.ExternalSource,
		"external_id": nilIfEmpty(in.ExternalID), "balance_name": balance, "description": nilIfEmpty(in.Description),
	}, Links: map[string]string{"merchant": m.ID}, Private: private}, "AJ")
	if err != nil {
		return adj, err
	}
	e := payments.FeedEntry{ID: w.NewID("BT"), Marketplace: marketplace, Merchant: m.Link("customer"), Type: FeedAdjustment,
		AmountMinor: in.AmountMinor, Currency: currency, Gate: "adjustment", SourceID: adj.ID, OccurredAt: w.Now(), Endpoint: endpoint}
	if err := w.tx.InsertFeed(ctx, e); err != nil {
		return adj, err
	}
	groups, err := w.postGroups(ctx, marketplace, e.Merchant)
	if err != nil {
		return adj, err
	}
	// The merchant's named balance takes it, whatever its kind.
	attrs := attrsOf(e)
	attrs.balanceOf, attrs.balance = m.ID, balance
	return adj, w.postInto(ctx, groups, e, attrs, adj)
}

// withBalances fills what an adjustment needs to know of a merchant's
// balances, read before its operation.
func (s *Service) withBalances(ctx context.Context, marketplace, merchantID string, in AdjustmentInput) (AdjustmentInput, error) {
	m, err := s.pay.GetTyped(ctx, marketplace, "merchants", merchantID)
	if err != nil {
		return in, err
	}
	set, err := s.balancesOf(ctx, m)
	if err != nil {
		return in, err
	}
	in.balanceEndpoints, in.balanceCurrency, in.defaultBalances = map[string][]string{}, map[string]string{}, map[string]string{}
	for _, name := range set.names {
		if d := set.defs[name]; d.kind == "account" && d.endpoints == nil {
			in.defaultBalances[d.currency] = name
		}
		if in.defaultBalance == "" && set.counts(name, "") {
			in.defaultBalance = name
		}
		in.balanceEndpoints[name] = set.endpointsOf(name)
		in.balanceCurrency[name] = set.currencyOf(name)
	}
	return in, nil
}

// payableAccount finds a customer's payable account inside an operation.
func (w *op) payableAccount(ctx context.Context, marketplace, customer string) (string, error) {
	if customer == "" {
		return "", apperr.New(apperr.Conflict, "the merchant is not linked to a customer")
	}
	cu, err := w.Lock(ctx, marketplace, "customers", customer)
	if err != nil {
		return "", err
	}
	if acct := payments.Str(cu.Private["payable_account"]); acct != "" {
		return acct, nil
	}
	return "", apperr.New(apperr.Conflict, "customer %s has no payable account", customer)
}
