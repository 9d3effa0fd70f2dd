package merchants

import (
	"context"
	"github.com/poise-payments/poise/internal/payments"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/money"
)

// Endpoints and balances of merchants.
//
// An endpoint is a single-currency entry point of a merchant; every
// transaction comes through one, the merchant's default for its currency
// when none is named (every Balanced payment does so). A balance adds up
// the transactions of a set of endpoints; at most one balance per currency
// names no endpoints, and it counts the endpoints no other balance claims.

// balanceKinds are the kinds of balance the seed names.
var balanceKinds = map[string]bool{"account": true, "processor": true, "card_mapping": true, "gate_group": true}

// maxBalancesPerMerchant bounds what one balance computation reads.
const maxBalancesPerMerchant = 100

func (w *op) createEndpoint(ctx context.Context, m payments.Resource, name, currency string, isDefault bool) (payments.Resource, error) {
	return w.Create(ctx, payments.Resource{Marketplace: m.Marketplace, Type: "endpoints", Fields: map[string]any{
		"name": name, "currency": currency, "default": isDefault,
	}, Links: map[string]string{"merchant": m.ID}}, "EP")
}

// CreateEndpoint adds an entry point to a merchant.
func (s *Service) CreateEndpoint(ctx context.Context, marketplace, merchantID, name, currency string) (payments.Resource, error) {
	if _, err := money.LookupCurrency(currency); err != nil {
		return payments.Resource{}, err
	}
	if name == "" {
		return payments.Resource{}, apperr.New(apperr.Invalid, "an endpoint needs a name")
	}
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		m, err := w.Lock(ctx, marketplace, "merchants", merchantID)
		if err != nil {
			return nil, err
		}
		return w.createEndpoint(ctx, m, name, currency, false)
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

// BalanceInput configures a named balance of a merchant.
type BalanceInput struct {
	Name, Currency, Kind string
	Endpoints            []string
}

// CreateBalance configures a named balance over a set of the merchant's
// endpoints (none: every endpoint no other balance of its currency claims).
func (s *Service) CreateBalance(ctx context.Context, marketplace, merchantID string, in BalanceInput) (payments.Resource, error) {
	if in.Name == "" {
		return payments.Resource{}, apperr.New(apperr.Invalid, "a balance needs a name")
	}
	if in.Kind == "" {
		in.Kind = "account"
	}
	if !balanceKinds[in.Kind] {
		return payments.Resource{}, apperr.New(apperr.Invalid, "kind must be account, processor, card_mapping or gate_group")
	}
	if in.Currency == "" {
		in.Currency = payments.Currency
	}
	existing, _, err := s.store.ListResources(ctx, payments.ListQuery{Marketplace: marketplace, Type: "balances", LinkRel: "merchant", LinkTarget: merchantID, Limit: maxBalancesPerMerchant})
	if err != nil {
		return payments.Resource{}, err
	}
	for _, b := range existing {
		if payments.Str(b.Fields["name"]) == in.Name {
			return payments.Resource{}, apperr.New(apperr.Conflict, "the merchant has a balance named %q already", in.Name)
		}
		if len(in.Endpoints) == 0 && len(endpointsOf(b)) == 0 && payments.Str(b.Fields["currency"]) == in.Currency {
			return payments.Resource{}, apperr.New(apperr.Conflict, "only one %s balance may name no endpoints; name the endpoints of this one", in.Currency)
		}
	}
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		owner, err := w.lockParty(ctx, marketplace, merchantID)
		if err != nil {
			return nil, err
		}
		// A manager's balance may count endpoints of the merchants it oversees.
		mine := map[string]bool{owner.ID: true}
		if owner.Type == "managers" {
			for _, v := range owner.Fields["merchants"].([]any) {
				mine[payments.Str(v)] = true
			}
		}
		eps := make([]any, 0, len(in.Endpoints))
		for _, id := range in.Endpoints {
			ep, err := w.Lock(ctx, marketplace, "endpoints", id)
			if err != nil {
				return nil, err
			}
			if !mine[ep.Link("merchant")] || payments.Str(ep.Fields["currency"]) != in.Currency {
				return nil, apperr.New(apperr.Invalid, "endpoint %s is not a %s endpoint of this owner", id, in.Currency)
			}
			eps = append(eps, id)
		}
		// The first catch-all balance takes over the implicit balance's
		// accounts (see newBalanceSet).
		private := map[string]any{}
		if len(eps) == 0 && in.Currency == payments.Currency {
			mine, err := w.tx.LinkedTo(ctx, marketplace, owner.ID, "merchant", "balances", maxBalancesPerMerchant)
			if err != nil {
				return nil, err
			}
			taken := false
			for _, b := range mine {
				taken = taken || ledgerKeyOf(b) == owner.ID
			}
			if !taken {
				private["ledger_key"] = owner.ID
			}
		}
		b, err := w.Create(ctx, payments.Resource{Marketplace: marketplace, Type: "balances", Fields: map[string]any{
			"name": in.Name, "currency": in.Currency, "kind": in.Kind, "endpoints": eps,
			"created_date": w.Now().UTC().Format(time.RFC3339),
		}, Links: map[string]string{"merchant": merchantID}, Private: private}, "BL")
		if err != nil {
			return nil, err
		}
		return b, w.ensureBalanceAccounts(marketplace, ledgerKeyOf(b))
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

func endpointsOf(b payments.Resource) []string {
	list, _ := b.Fields["endpoints"].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, payments.Str(v))
	}
	return out
}

// balanceSet is a party's balances as the computation sees them.
type balanceSet struct {
	names     []string
	endpoints map[string]map[string]bool // balance name → endpoints (nil: the catch-all)
	claimed   map[string]bool            // endpoints some balance names
	fallback  string                     // the endpoint of transactions that name none
	// keys maps each balance name to its ledger key (see BalanceAccount).
	keys map[string]string
}

// balancesOf reads a party's balances, or its one implicit balance.
func (s *Service) balancesOf(ctx context.Context, party payments.Resource) (balanceSet, error) {
	eps, err := s.store.LinkedTo(ctx, party.Marketplace, party.ID, "merchant", "endpoints", maxBalancesPerMerchant)
	if err != nil {
		return balanceSet{}, err
	}
	bs, err := s.store.LinkedTo(ctx, party.Marketplace, party.ID, "merchant", "balances", maxBalancesPerMerchant)
	if err != nil {
		return balanceSet{}, err
	}
	return newBalanceSet(party, eps, bs), nil
}

// newBalanceSet builds a party's balance set from its endpoints and its
// balances (newest first, as lists give them). A party with no balances
// has one implicit balance named after the currency, whose ledger key is
// the party's ID; the first balance of the currency that names no
// endpoints takes that key over, so the money posted before it was
// configured stays in it.
func newBalanceSet(party payments.Resource, eps, bs []payments.Resource) balanceSet {
	set := balanceSet{endpoints: map[string]map[string]bool{}, claimed: map[string]bool{}, keys: map[string]string{}}
	for _, ep := range eps {
		if payments.Bool(ep.Fields["default"]) && payments.Str(ep.Fields["currency"]) == payments.Currency {
			set.fallback = ep.ID
		}
	}
	if len(bs) == 0 {
		set.names = []string{payments.Currency}
		set.endpoints[payments.Currency] = nil
		set.keys[payments.Currency] = party.ID
		return set
	}
	for i := len(bs) - 1; i >= 0; i-- { // oldest first
		name := payments.Str(bs[i].Fields["name"])
		set.names = append(set.names, name)
		set.keys[name] = ledgerKeyOf(bs[i])
		if eps := endpointsOf(bs[i]); len(eps) > 0 {
			set.endpoints[name] = map[string]bool{}
			for _, ep := range eps {
				set.endpoints[name][ep] = true
				set.claimed[ep] = true
			}
		} else {
			set.endpoints[name] = nil
		}
	}
	return set
}

// ledgerKeyOf is the ledger key of a configured balance.
func ledgerKeyOf(b payments.Resource) string {
	if k := payments.Str(b.Private["ledger_key"]); k != "" {
		return k
	}
	return b.ID
}

// resolve names the endpoint of an entry that came through the default one.
func (set balanceSet) resolve(e payments.FeedEntry) payments.FeedEntry {
	if e.Endpoint == "" {
		e.Endpoint = set.fallback
	}
	return e
}

// counts reports whether a balance counts a transaction of an endpoint.
func (set balanceSet) counts(name, endpoint string) bool {
	if endpoint == "" {
		endpoint = set.fallback
	}
	eps := set.endpoints[name]
	if eps == nil {
		return !set.claimed[endpoint]
	}
	return eps[endpoint]
}

// BalanceOfEndpoint names the balance that counts an endpoint's transactions.
func (s *Service) BalanceOfEndpoint(ctx context.Context, merchant payments.Resource, endpoint string) (string, error) {
	set, err := s.balancesOf(ctx, merchant)
	if err != nil {
		return "", err
	}
	for _, name := range set.names {
		if set.counts(name, endpoint) {
			return name, nil
		}
	}
	return "", apperr.New(apperr.NotFound, "no balance counts endpoint %s", endpoint)
}

// SetBalanceCreatedDate changes the date a balance is said to have been
// created (an operator moving a balance's history to its real start).
func (s *Service) SetBalanceCreatedDate(ctx context.Context, marketplace, balanceID string, at time.Time) (payments.Resource, error) {
	now, err := s.pay.NowFor(ctx, marketplace)
	if err != nil {
		return payments.Resource{}, err
	}
	if at.IsZero() || at.After(now) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "created_date must be a date not in the future")
	}
	return s.pay.Update(ctx, marketplace, "balances", balanceID, "", func(r *payments.Resource) error {
		r.Fields["created_date"] = at.UTC().Format(time.RFC3339)
		return nil
	})
}

// SetManagerDefaultBalance names the balance a manager's tools show first.
// The balance must be one of a merchant the manager oversees.
func (s *Service) SetManagerDefaultBalance(ctx context.Context, marketplace, managerID, balance string) (payments.Resource, error) {
	mg, err := s.pay.GetTyped(ctx, marketplace, "managers", managerID)
	if err != nil {
		return payments.Resource{}, err
	}
	found := false
	for _, v := range mg.Fields["merchants"].([]any) {
		m, err := s.pay.GetTyped(ctx, marketplace, "merchants", payments.Str(v))
		if err != nil {
			return payments.Resource{}, err
		}
		set, err := s.balancesOf(ctx, m)
		if err != nil {
			return payments.Resource{}, err
		}
		_, ok := set.endpoints[balance]
		found = found || ok
	}
	if !found {
		return payments.Resource{}, apperr.New(apperr.NotFound, "none of the manager's merchants has a balance named %q", balance)
	}
	return s.pay.Update(ctx, marketplace, "managers", managerID, "", func(r *payments.Resource) error {
		r.Fields["default_balance"] = balance
		return nil
	})
}

// lockParty locks a merchant or a manager: the owners of balances and rules.
func (w *op) lockParty(ctx context.Context, marketplace, id string) (payments.Resource, error) {
	r, err := w.Lock(ctx, marketplace, "", id)
	if err != nil || (r.Type != "merchants" && r.Type != "managers") {
		return payments.Resource{}, apperr.New(apperr.NotFound, "no merchant or manager with id %s", id)
	}
	return r, nil
}
