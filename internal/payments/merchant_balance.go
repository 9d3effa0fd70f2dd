package payments

import (
	"context"
)

// defaultRules is the seed's balance-rules table: how each transaction
// type moves a merchant's balance when no rule of the merchant's says
// otherwise. +1 adds, -1 deducts; types absent (preauth, cancel, fraud,
// retrieval, void, account_verification) are "rate only": they move no
// money, only fees.
var defaultRules = map[string]int64{
	"sale": 1, "capture": 1, "dispute": 1, "chargeback_reversal": 1, "arbitration": 1, "payout_cancel": 1,
	// An adjustment's amount is signed: a credit adds, a debit deducts.
	"adjustment": 1,
	"chargeback": -1, "prearbitration": -1, "reversal": -1, "payout": -1, "transfer": -1,
}

// MerchantBalance is a merchant balance as the balance API reports it.
type MerchantBalance struct {
	Name               string
	Currency           string
	MerchantLogin      string
	ExternalMerchantID any
	// CurrentMinor includes short-term holds and rolling reserve;
	// LiveMinor = CurrentMinor − STHMinor − RRMinor.
	CurrentMinor, LiveMinor, STHMinor, RRMinor int64
	// BufferMinor is what outgoing operations without a final status hold.
	BufferMinor int64
}

// MerchantBalances computes a merchant's balances from its feed. Until
// balances and rules are configured, a merchant has one balance per
// currency, named after the currency, under the default rules; their date
// bumping is ASAP with no rolling reserve, so nothing is held and live
// equals current.
func (s *Service) MerchantBalances(ctx context.Context, merchant Resource) ([]MerchantBalance, error) {
	feed, err := s.Feed(ctx, merchant.Marketplace, merchant.Link("customer"))
	if err != nil {
		return nil, err
	}
	b := MerchantBalance{Name: Currency, Currency: Currency, MerchantLogin: Str(merchant.Fields["login"]),
		ExternalMerchantID: merchant.Fields["external_merchant_id"]}
	for _, e := range feed {
		b.CurrentMinor += defaultRules[e.Type] * e.AmountMinor
		if e.Type == FeedPayout {
			// A payout counts in the buffer until its final status.
			src, err := s.Get(ctx, merchant.Marketplace, e.SourceID)
			if err != nil {
				return nil, err
			}
			if src.Status == "pending" {
				b.BufferMinor += e.AmountMinor
			}
		}
	}
	b.LiveMinor = b.CurrentMinor - b.STHMinor - b.RRMinor
	return []MerchantBalance{b}, nil
}
