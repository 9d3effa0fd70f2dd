package merchants

import (
	"context"
	"fmt"
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

// CreateEndpoint adds an entry point to a merchant. The merchant's first
// endpoint in a currency is its default in that currency: the one a
// transaction in that currency naming none comes through.
func (s *Service) CreateEndpoint(ctx context.Context, marketplace, merchantID, name, currency string) (payments.Resource, error) {
	cur, err := money.LookupCurrency(currency)
	if err != nil {
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
		eps, err := w.tx.LinkedTo(ctx, marketplace, m.ID, "merchant", "endpoints", maxBalancesPerMerchant)
		if err != nil {
			return nil, err
		}
		if len(eps) >= maxBalancesPerMerchant {
			return nil, apperr.New(apperr.Conflict, "a merchant may have at most %d endpoints", maxBalancesPerMerchant)
		}
		first := true
		for _, ep := range eps {
			first = first && payments.Str(ep.Fields["currency"]) != cur.Code
		}
		// The accounts of the implicit balance in this currency open with
		// its first endpoint, so that postings never race to create them.
		if err := w.ensureBalanceAccounts(marketplace, implicitKey(m.ID, cur.Code), cur.Code); err != nil {
			return nil, err
		}
		return w.createEndpoint(ctx, m, name, cur.Code, first)
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

// BalanceInput configures a named balance of a merchant or a manager.
type BalanceInput struct {
	Name, Currency, Kind string
	// Endpoints of an account balance; none: the catch-all of its
	// currency, counting every endpoint no other account balance names.
	Endpoints []string
	// Processors of a processor balance (at least one).
	Processors []string
	// CardMappings of a card-mapping balance; none: every transaction
	// on a card mapping.
	CardMappings []string
	// GateGroup names the gate group of a gate-group balance.
	GateGroup string
}

// CreateBalance configures a named balance of a merchant or a manager
// (see balance_set.go for what each kind counts). A balance that would
// count a transaction another balance of its kind and currency counts is
// refused, naming that balance.
func (s *Service) CreateBalance(ctx context.Context, marketplace, merchantID string, in BalanceInput) (payments.Resource, error) {
	if in.Name == "" || len(in.Name) > maxExternalLen {
		return payments.Resource{}, apperr.New(apperr.Invalid, "a balance needs a name of at most %d characters", maxExternalLen)
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
	cur, err := money.LookupCurrency(in.Currency)
	if err != nil {
		return payments.Resource{}, err
	}
	in.Currency = cur.Code
	// The implicit balances are named by their currency codes.
	if other, err := money.LookupCurrency(in.Name); err == nil && other.Code == in.Name && (other != cur || in.Kind != "account" || len(in.Endpoints) > 0) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "a balance named after a currency (%s) is that currency's account balance naming no endpoints", in.Name)
	}
	if err := s.checkSelector(ctx, marketplace, in); err != nil {
		return payments.Resource{}, err
	}
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		owner, err := w.lockParty(ctx, marketplace, merchantID)
		if err != nil {
			return nil, err
		}
		existing, err := w.tx.LinkedTo(ctx, marketplace, owner.ID, "merchant", "balances", maxBalancesPerMerchant)
		if err != nil {
			return nil, err
		}
		if len(existing) >= maxBalancesPerMerchant {
			return nil, apperr.New(apperr.Conflict, "a merchant may have at most %d balances", maxBalancesPerMerchant)
		}
		eps, err := w.ownEndpoints(ctx, owner, in.Currency, in.Endpoints)
		if err != nil {
			return nil, err
		}
		fields := map[string]any{"name": in.Name, "currency": in.Currency, "kind": in.Kind, "endpoints": eps,
			"processors": anyList(in.Processors), "card_mappings": anyList(in.CardMappings), "gate_group": nilIfEmpty(in.GateGroup),
			"created_date": w.Now().UTC().Format(time.RFC3339)}
		groups, err := w.gateGroupsNow(ctx, marketplace)
		if err != nil {
			return nil, err
		}
		mine := payments.Resource{Fields: fields}
		for _, b := range existing {
			if payments.Str(b.Fields["name"]) == in.Name {
				return nil, apperr.New(apperr.Conflict, "the merchant has a balance named %q already", in.Name)
			}
			if why := overlap(defOf(b), defOf(mine), groups); why != "" {
				return nil, apperr.New(apperr.Conflict, "balance %q already counts %s; a transaction may reach one %s balance in %s", payments.Str(b.Fields["name"]), why, in.Kind, in.Currency)
			}
		}
		// The first catch-all account balance of a currency takes over the
		// implicit balance's accounts (see newBalanceSet).
		private := map[string]any{}
		if in.Kind == "account" && len(eps) == 0 {
			private["ledger_key"] = implicitKey(owner.ID, in.Currency)
		}
		b, err := w.Create(ctx, payments.Resource{Marketplace: marketplace, Type: "balances", Fields: fields,
			Links: map[string]string{"merchant": merchantID}, Private: private}, "BL")
		if err != nil {
			return nil, err
		}
		return b, w.ensureBalanceAccounts(marketplace, ledgerKeyOf(b), in.Currency)
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

// checkSelector checks what a balance of each kind must name.
func (s *Service) checkSelector(ctx context.Context, marketplace string, in BalanceInput) error {
	kindOnly := map[string]int{"endpoints": len(in.Endpoints), "processors": len(in.Processors), "card_mappings": len(in.CardMappings), "gate_group": len(in.GateGroup)}
	own := map[string]string{"account": "endpoints", "processor": "processors", "card_mapping": "card_mappings", "gate_group": "gate_group"}[in.Kind]
	for field, n := range kindOnly {
		if n > 0 && field != own {
			return apperr.New(apperr.Invalid, "a %s balance counts by its %s; %s belongs to another kind", in.Kind, own, field)
		}
	}
	for _, list := range [][]string{in.Endpoints, in.Processors, in.CardMappings} {
		if len(list) > maxBalancesPerMerchant {
			return apperr.New(apperr.Invalid, "a balance may name at most %d endpoints, processors or card mappings", maxBalancesPerMerchant)
		}
		for _, v := range list {
			if v == "" || len(v) > maxAttributeLen {
				return apperr.New(apperr.Invalid, "names of endpoints, processors and card mappings are 1 to %d characters", maxAttributeLen)
			}
		}
	}
	switch in.Kind {
	case "processor":
		if len(in.Processors) == 0 {
			return apperr.New(apperr.Invalid, "a processor balance names its processors")
		}
		gates, err := s.Gates(ctx, marketplace)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, g := range gates {
			known[g.Processor] = true
		}
		for _, p := range in.Processors {
			if !known[p] {
				return apperr.New(apperr.NotFound, "no gate belongs to a processor %q", p)
			}
		}
	case "gate_group":
		groups, err := s.gateGroups(ctx, marketplace)
		if err != nil {
			return err
		}
		if _, ok := groups[in.GateGroup]; !ok {
			return apperr.New(apperr.NotFound, "a gate-group balance names one of the marketplace's gate groups; %q is none", in.GateGroup)
		}
	}
	return nil
}

// ownEndpoints checks that endpoints are the owner's (a manager's: of the
// merchants it oversees) and in a currency, and lists them.
func (w *op) ownEndpoints(ctx context.Context, owner payments.Resource, currency string, ids []string) ([]any, error) {
	mine := map[string]bool{owner.ID: true}
	if owner.Type == "managers" {
		for _, v := range owner.Fields["merchants"].([]any) {
			mine[payments.Str(v)] = true
		}
	}
	eps := make([]any, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		ep, err := w.Lock(ctx, owner.Marketplace, "endpoints", id)
		if err != nil {
			return nil, err
		}
		if !mine[ep.Link("merchant")] || payments.Str(ep.Fields["currency"]) != currency {
			return nil, apperr.New(apperr.Invalid, "endpoint %s is not a %s endpoint of this owner", id, currency)
		}
		if !seen[id] {
			seen[id] = true
			eps = append(eps, id)
		}
	}
	return eps, nil
}

// gateGroupsNow reads the marketplace's gate groups inside an operation.
func (w *op) gateGroupsNow(ctx context.Context, marketplace string) (map[string][]string, error) {
	gg, err := w.tx.LinkedTo(ctx, marketplace, marketplace, "marketplace", "gate_groups", maxGatesPerMarketplace)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, g := range gg {
		list, _ := g.Fields["gates"].([]any)
		for _, v := range list {
			out[payments.Str(g.Fields["name"])] = append(out[payments.Str(g.Fields["name"])], payments.Str(v))
		}
	}
	return out, nil
}

// overlap says what two balances would both count ("" when nothing):
// balances of different kinds or currencies never clash.
func overlap(a, b balanceDef, groups map[string][]string) string {
	if a.kind != b.kind || a.currency != b.currency {
		return ""
	}
	shared := func(x, y map[string]bool, what string) string {
		for k := range x {
			if y[k] {
				return fmt.Sprintf("%s %s", what, k)
			}
		}
		return ""
	}
	switch a.kind {
	case "account":
		if a.endpoints == nil && b.endpoints == nil {
			return "every endpoint no other balance names (only one balance per currency may name no endpoints)"
		}
		return shared(a.endpoints, b.endpoints, "endpoint")
	case "processor":
		return shared(a.processors, b.processors, "processor")
	case "card_mapping":
		if a.cardMappings == nil || b.cardMappings == nil {
			return "every card mapping, or one of these"
		}
		return shared(a.cardMappings, b.cardMappings, "card mapping")
	case "gate_group":
		ga, gb := map[string]bool{}, map[string]bool{}
		for _, g := range groups[a.gateGroup] {
			ga[g] = true
		}
		for _, g := range groups[b.gateGroup] {
			gb[g] = true
		}
		if a.gateGroup == b.gateGroup {
			return "gate group " + a.gateGroup
		}
		return shared(ga, gb, "gate")
	}
	return ""
}

func anyList(list []string) []any {
	out := make([]any, 0, len(list))
	for _, v := range list {
		out = append(out, v)
	}
	return out
}

// SetBalanceEndpoints replaces the endpoints of an account balance that
// names some: from now on it counts the transactions of these. What it
// counted before stays posted in it. The catch-all balance of a currency
// stays the catch-all.
func (s *Service) SetBalanceEndpoints(ctx context.Context, marketplace, balanceID string, endpoints []string) (payments.Resource, error) {
	if len(endpoints) == 0 || len(endpoints) > maxBalancesPerMerchant {
		return payments.Resource{}, apperr.New(apperr.Invalid, "name 1 to %d endpoints", maxBalancesPerMerchant)
	}
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		b, err := w.Lock(ctx, marketplace, "balances", balanceID)
		if err != nil {
			return nil, err
		}
		d := defOf(b)
		if d.kind != "account" || d.endpoints == nil {
			return nil, apperr.New(apperr.Conflict, "only an account balance that names endpoints has endpoints to edit; %q is a %s balance%s", d.name, d.kind,
				map[bool]string{true: " naming none", false: ""}[d.kind == "account"])
		}
		owner, err := w.lockParty(ctx, marketplace, b.Link("merchant"))
		if err != nil {
			return nil, err
		}
		eps, err := w.ownEndpoints(ctx, owner, d.currency, endpoints)
		if err != nil {
			return nil, err
		}
		b.Fields["endpoints"] = eps
		others, err := w.tx.LinkedTo(ctx, marketplace, owner.ID, "merchant", "balances", maxBalancesPerMerchant)
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if o.ID == b.ID {
				continue
			}
			if why := overlap(defOf(o), defOf(b), nil); why != "" {
				return nil, apperr.New(apperr.Conflict, "balance %q already counts %s", payments.Str(o.Fields["name"]), why)
			}
		}
		return w.Save(ctx, b)
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

// BalanceOfEndpoint names the balance that counts an endpoint's transactions.
func (s *Service) BalanceOfEndpoint(ctx context.Context, merchant payments.Resource, endpoint string) (string, error) {
	set, err := s.balancesOf(ctx, merchant)
	if err != nil {
		return "", err
	}
	for _, name := range set.names {
		if set.counts(name, endpoint) && set.defs[name].currency == set.epCurrency[endpoint] {
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
		found = found || set.has(balance)
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

// ProviderPoise is the balance provider that names this server itself:
// its account balance counting an endpoint.
const ProviderPoise = "poise"

// BalanceOfProvider names the balance of a merchant that a get-balance by
// endpoint reads for a balance provider: "poise" or "account", the account
// balance counting the endpoint; a processor, the merchant's processor
// balance of that processor in the endpoint's currency; or the name of one
// of the merchant's balances in that currency. Any other provider has no
// balance here.
func (s *Service) BalanceOfProvider(ctx context.Context, merchant payments.Resource, endpoint, provider string) (string, error) {
	if provider == ProviderPoise || provider == "account" {
		return s.BalanceOfEndpoint(ctx, merchant, endpoint)
	}
	set, err := s.balancesOf(ctx, merchant)
	if err != nil {
		return "", err
	}
	cur := set.epCurrency[endpoint]
	if d, ok := set.defs[provider]; ok && d.currency == cur && (d.kind != "account" || set.counts(provider, endpoint)) {
		return provider, nil
	}
	for _, name := range set.names {
		if d := set.defs[name]; d.kind == "processor" && d.currency == cur && d.processors[provider] {
			return name, nil
		}
	}
	return "", apperr.New(apperr.NotFound, "balance provider %q has no balance for endpoint %s: give poise (the account balance), a processor with a processor balance, or a balance's name", provider, endpoint)
}
