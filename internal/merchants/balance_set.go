package merchants

import (
	"context"
	"sort"

	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/payments"
)

// A party's balances, and which transactions each counts.
//
// Every balance holds one currency and counts only transactions in it.
// Within a currency, a balance of each kind counts what its definition
// selects:
//
//	account       the transactions of its endpoints; one account balance
//	              per currency may name none, and counts every endpoint of
//	              the currency no other account balance names
//	processor     the transactions whose gate belongs to one of its
//	              processors
//	card_mapping  the transactions on one of its card mappings (none
//	              named: on any card mapping)
//	gate_group    the transactions of the gates of its gate group
//
// Balances of one kind never select the same transaction (configuration
// refuses an overlap), so a transaction reaches at most one balance of each
// kind. Until a party configures an account balance that names no
// endpoints in a currency, it keeps an implicit one, named after the
// currency: configuring other balances never leaves a transaction of its
// endpoints uncounted.

// balanceDef is one balance as the computation sees it.
type balanceDef struct {
	name, key, currency, kind string
	// implicit marks the balance a party has without configuring it.
	implicit bool
	// endpoints of an account balance (nil: the catch-all of its
	// currency), processors of a processor balance, card mappings of a
	// card-mapping balance (nil: any).
	endpoints, processors, cardMappings map[string]bool
	// gateGroup names the group of a gate-group balance.
	gateGroup string
}

// balanceSet is a party's balances as the computation sees them.
type balanceSet struct {
	names []string
	defs  map[string]balanceDef
	// claimed are the endpoints account balances name.
	claimed map[string]bool
	// fallback is the endpoint of transactions that name none: the
	// default endpoint in the marketplace's currency.
	fallback string
	// keys maps each balance name to its ledger key (see BalanceAccount).
	keys map[string]string
	// groups maps each gate group to its gates.
	groups map[string]map[string]bool
	// epCurrency maps the party's own endpoints to their currencies.
	epCurrency map[string]string
	// party is the party's ID.
	party string
}

// txnAttrs are what a transaction carries beside its feed entry that
// balances select by.
type txnAttrs struct {
	processor, cardMapping string
	// balance, when set, is the one balance of party balanceOf that an
	// adjustment made to it reaches, whatever its kind.
	balanceOf, balance string
}

// attrsOf are the attributes of a Balanced payment's entry: its rail's
// processor, no card mapping.
func attrsOf(e payments.FeedEntry) txnAttrs {
	if balances.IsBuiltinGate(e.Gate) {
		return txnAttrs{processor: balances.BuiltinProcessor}
	}
	return txnAttrs{}
}

// implicitKey is the ledger key of a party's implicit balance in a
// currency: the party's ID for the marketplace's currency, which was its
// only one.
func implicitKey(partyID, currency string) string {
	if currency == payments.Currency {
		return partyID
	}
	return partyID + "_" + currency
}

// balancesOf reads a party's balances.
func (s *Service) balancesOf(ctx context.Context, party payments.Resource) (balanceSet, error) {
	eps, err := s.store.LinkedTo(ctx, party.Marketplace, party.ID, "merchant", "endpoints", maxBalancesPerMerchant)
	if err != nil {
		return balanceSet{}, err
	}
	bs, err := s.store.LinkedTo(ctx, party.Marketplace, party.ID, "merchant", "balances", maxBalancesPerMerchant)
	if err != nil {
		return balanceSet{}, err
	}
	groups, err := s.gateGroups(ctx, party.Marketplace)
	if err != nil {
		return balanceSet{}, err
	}
	return newBalanceSet(party, eps, bs, groups), nil
}

// partyBalances reads a party's balances inside an operation.
func (w *op) partyBalances(ctx context.Context, party payments.Resource) (balanceSet, error) {
	eps, err := w.tx.LinkedTo(ctx, party.Marketplace, party.ID, "merchant", "endpoints", maxBalancesPerMerchant)
	if err != nil {
		return balanceSet{}, err
	}
	bs, err := w.tx.LinkedTo(ctx, party.Marketplace, party.ID, "merchant", "balances", maxBalancesPerMerchant)
	if err != nil {
		return balanceSet{}, err
	}
	gg, err := w.tx.LinkedTo(ctx, party.Marketplace, party.Marketplace, "marketplace", "gate_groups", maxGatesPerMarketplace)
	if err != nil {
		return balanceSet{}, err
	}
	groups := map[string][]string{}
	for _, g := range gg {
		list, _ := g.Fields["gates"].([]any)
		for _, v := range list {
			groups[payments.Str(g.Fields["name"])] = append(groups[payments.Str(g.Fields["name"])], payments.Str(v))
		}
	}
	return newBalanceSet(party, eps, bs, groups), nil
}

// newBalanceSet builds a party's balance set from its endpoints, its
// balances (newest first, as lists give them) and the marketplace's gate
// groups. The implicit balances come first, in the order of their
// currencies (the marketplace's first), then the configured ones, oldest
// first. The first account balance of a currency that names no endpoints
// took over the implicit balance's ledger key when it was configured, so
// the money posted before stays in it.
func newBalanceSet(party payments.Resource, eps, bs []payments.Resource, groups map[string][]string) balanceSet {
	set := balanceSet{defs: map[string]balanceDef{}, claimed: map[string]bool{}, keys: map[string]string{}, groups: map[string]map[string]bool{},
		epCurrency: map[string]string{}, party: party.ID}
	for g, gates := range groups {
		set.groups[g] = map[string]bool{}
		for _, gate := range gates {
			set.groups[g][gate] = true
		}
	}
	currencies := map[string]bool{payments.Currency: true}
	for _, ep := range eps {
		cur := payments.Str(ep.Fields["currency"])
		currencies[cur] = true
		set.epCurrency[ep.ID] = cur
		if payments.Bool(ep.Fields["default"]) && cur == payments.Currency {
			set.fallback = ep.ID
		}
	}
	catchAll := map[string]bool{}
	var configured []balanceDef
	for i := len(bs) - 1; i >= 0; i-- { // oldest first
		d := defOf(bs[i])
		currencies[d.currency] = true
		if d.kind == "account" && d.endpoints == nil {
			catchAll[d.currency] = true
		}
		for ep := range d.endpoints {
			set.claimed[ep] = true
		}
		configured = append(configured, d)
	}
	list := make([]string, 0, len(currencies))
	for cur := range currencies {
		list = append(list, cur)
	}
	sort.Slice(list, func(i, j int) bool {
		if (list[i] == payments.Currency) != (list[j] == payments.Currency) {
			return list[i] == payments.Currency
		}
		return list[i] < list[j]
	})
	var all []balanceDef
	for _, cur := range list {
		if !catchAll[cur] {
			all = append(all, balanceDef{name: cur, key: implicitKey(party.ID, cur), currency: cur, kind: "account", implicit: true})
		}
	}
	for _, d := range append(all, configured...) {
		set.names = append(set.names, d.name)
		set.defs[d.name] = d
		set.keys[d.name] = d.key
	}
	return set
}

// defOf reads a configured balance.
func defOf(b payments.Resource) balanceDef {
	d := balanceDef{name: payments.Str(b.Fields["name"]), key: ledgerKeyOf(b), currency: payments.Str(b.Fields["currency"]),
		kind: payments.Str(b.Fields["kind"]), gateGroup: payments.Str(b.Fields["gate_group"])}
	if d.kind == "" {
		d.kind = "account"
	}
	if d.currency == "" {
		d.currency = payments.Currency
	}
	d.endpoints = setOf(b.Fields["endpoints"])
	d.processors = setOf(b.Fields["processors"])
	d.cardMappings = setOf(b.Fields["card_mappings"])
	return d
}

// setOf reads a stored list as a set; nil when it is empty.
func setOf(v any) map[string]bool {
	list, _ := v.([]any)
	if len(list) == 0 {
		return nil
	}
	out := make(map[string]bool, len(list))
	for _, x := range list {
		out[payments.Str(x)] = true
	}
	return out
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

// selects reports whether a balance counts a transaction.
func (set balanceSet) selects(name string, e payments.FeedEntry, a txnAttrs) bool {
	d, ok := set.defs[name]
	if !ok || d.currency != e.Currency {
		return false
	}
	if a.balance != "" && a.balanceOf == set.party {
		return name == a.balance
	}
	switch d.kind {
	case "account":
		endpoint := e.Endpoint
		if endpoint == "" {
			endpoint = set.fallback
		}
		if d.endpoints == nil {
			cur, known := set.epCurrency[endpoint]
			return !set.claimed[endpoint] && (!known || cur == d.currency)
		}
		return d.endpoints[endpoint]
	case "processor":
		return d.processors[a.processor]
	case "card_mapping":
		return a.cardMapping != "" && (d.cardMappings == nil || d.cardMappings[a.cardMapping])
	case "gate_group":
		return set.groups[d.gateGroup][e.Gate]
	}
	return false
}

// counts reports whether a balance counts the transactions of an endpoint
// in its currency that carry nothing else to select by: what an
// adjustment through that endpoint reaches.
func (set balanceSet) counts(name, endpoint string) bool {
	d, ok := set.defs[name]
	if !ok || d.kind != "account" {
		return false
	}
	return set.selects(name, payments.FeedEntry{Endpoint: endpoint, Currency: d.currency}, txnAttrs{})
}

// currencyOf is a balance's currency.
func (set balanceSet) currencyOf(name string) string { return set.defs[name].currency }

// has reports whether the party has a balance of that name.
func (set balanceSet) has(name string) bool { _, ok := set.defs[name]; return ok }

// endpointsOf lists the endpoints an account balance names, sorted.
func (set balanceSet) endpointsOf(name string) []string {
	var out []string
	for ep := range set.defs[name].endpoints {
		out = append(out, ep)
	}
	sort.Strings(out)
	return out
}
