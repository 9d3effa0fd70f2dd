package merchants

import (
	"context"
	"regexp"
	"sort"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/payments"
)

// Gates are the operator's processing gates: each transaction names the
// gate that processed it, and a gate belongs to a processor (an acquirer).
// Gate groups gather gates for gate-group balances. Every marketplace has
// the Balanced rails as built-in gates (balances.BuiltinGates) of the
// processor balances.BuiltinProcessor; the operator's own gates are
// configured beside them, named by a code unique in the marketplace.

// gateNamePattern is what a gate's or a group's name may be: it is written
// in files and rules, so no spaces or separators.
var gateNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// maxGatesPerMarketplace bounds the gates and groups one marketplace
// configures: every transaction of a bulk import is checked against them
// in memory.
const maxGatesPerMarketplace = 1000

// Gate is one gate as transactions see it.
type Gate struct {
	Name, Processor string
	// Groups are the gate groups it belongs to.
	Groups []string
}

// GateInput configures a gate.
type GateInput struct{ Name, Processor string }

// CreateGate configures one of the operator's gates.
func (s *Service) CreateGate(ctx context.Context, marketplace string, in GateInput) (payments.Resource, error) {
	if !gateNamePattern.MatchString(in.Name) || !gateNamePattern.MatchString(in.Processor) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "a gate needs a name and a processor, each 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if balances.IsBuiltinGate(in.Name) {
		return payments.Resource{}, apperr.New(apperr.Conflict, "%q is a built-in gate", in.Name)
	}
	return s.createGateResource(ctx, marketplace, "gates", "GT", in.Name, map[string]any{"name": in.Name, "processor": in.Processor})
}

// CreateGateGroup configures a group of gates.
func (s *Service) CreateGateGroup(ctx context.Context, marketplace, name string, gates []string) (payments.Resource, error) {
	if !gateNamePattern.MatchString(name) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "a gate group needs a name of 1 to 64 letters, digits, '.', '_' or '-'")
	}
	list, err := s.checkGateList(ctx, marketplace, gates)
	if err != nil {
		return payments.Resource{}, err
	}
	return s.createGateResource(ctx, marketplace, "gate_groups", "GG", name, map[string]any{"name": name, "gates": list})
}

// SetGateGroupGates replaces the gates of a group. Transactions already
// posted stay where they were posted; later ones follow the new list.
func (s *Service) SetGateGroupGates(ctx context.Context, marketplace, groupID string, gates []string) (payments.Resource, error) {
	list, err := s.checkGateList(ctx, marketplace, gates)
	if err != nil {
		return payments.Resource{}, err
	}
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		g, err := w.Lock(ctx, marketplace, "gate_groups", groupID)
		if err != nil {
			return nil, err
		}
		g.Fields["gates"] = list
		groups, err := w.gateGroupsNow(ctx, marketplace)
		if err != nil {
			return nil, err
		}
		groups[payments.Str(g.Fields["name"])] = nil
		for _, v := range list {
			groups[payments.Str(g.Fields["name"])] = append(groups[payments.Str(g.Fields["name"])], payments.Str(v))
		}
		// Two gate-group balances of one owner must not come to share a gate.
		all, _, err := s.store.ListResources(ctx, payments.ListQuery{Marketplace: marketplace, Type: "balances", Limit: maxMerchantsPerImport})
		if err != nil {
			return nil, err
		}
		byOwner := map[string][]balanceDef{}
		for _, b := range all {
			if d := defOf(b); d.kind == "gate_group" {
				byOwner[b.Link("merchant")] = append(byOwner[b.Link("merchant")], d)
			}
		}
		for _, defs := range byOwner {
			for i := range defs {
				for j := i + 1; j < len(defs); j++ {
					if why := overlap(defs[i], defs[j], groups); why != "" {
						return nil, apperr.New(apperr.Conflict, "balances %q and %q would both count %s", defs[i].name, defs[j].name, why)
					}
				}
			}
		}
		return w.Save(ctx, g)
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

func (s *Service) checkGateList(ctx context.Context, marketplace string, gates []string) ([]any, error) {
	if len(gates) == 0 {
		return nil, apperr.New(apperr.Invalid, "a gate group needs at least one gate")
	}
	known, err := s.Gates(ctx, marketplace)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	list := make([]any, 0, len(gates))
	for _, g := range gates {
		if _, ok := known[g]; !ok {
			return nil, apperr.New(apperr.NotFound, "no gate named %q", g)
		}
		if !seen[g] {
			seen[g] = true
			list = append(list, g)
		}
	}
	return list, nil
}

func (s *Service) createGateResource(ctx context.Context, marketplace, typ, prefix, name string, fields map[string]any) (payments.Resource, error) {
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		existing, err := w.tx.LinkedTo(ctx, marketplace, marketplace, "marketplace", typ, maxGatesPerMarketplace)
		if err != nil {
			return nil, err
		}
		if len(existing) >= maxGatesPerMarketplace {
			return nil, apperr.New(apperr.Conflict, "a marketplace may configure at most %d %s", maxGatesPerMarketplace, typ)
		}
		for _, r := range existing {
			if payments.Str(r.Fields["name"]) == name {
				return nil, apperr.New(apperr.Conflict, "the marketplace has a %s named %q already", singularOf(typ), name)
			}
		}
		return w.Create(ctx, payments.Resource{Marketplace: marketplace, Type: typ, Fields: fields,
			Links: map[string]string{"marketplace": marketplace}}, prefix)
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

func singularOf(typ string) string {
	if typ == "gate_groups" {
		return "gate group"
	}
	return "gate"
}

// Gates lists a marketplace's gates by name, the built-in ones included,
// each with its processor and its groups.
func (s *Service) Gates(ctx context.Context, marketplace string) (map[string]Gate, error) {
	gates, err := s.store.LinkedTo(ctx, marketplace, marketplace, "marketplace", "gates", maxGatesPerMarketplace)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.LinkedTo(ctx, marketplace, marketplace, "marketplace", "gate_groups", maxGatesPerMarketplace)
	if err != nil {
		return nil, err
	}
	return gateTable(gates, groups), nil
}

func gateTable(gates, groups []payments.Resource) map[string]Gate {
	out := map[string]Gate{}
	for _, g := range balances.BuiltinGates {
		out[g] = Gate{Name: g, Processor: balances.BuiltinProcessor}
	}
	for _, g := range gates {
		name := payments.Str(g.Fields["name"])
		out[name] = Gate{Name: name, Processor: payments.Str(g.Fields["processor"])}
	}
	for _, gg := range groups {
		list, _ := gg.Fields["gates"].([]any)
		for _, v := range list {
			if g, ok := out[payments.Str(v)]; ok {
				g.Groups = append(g.Groups, payments.Str(gg.Fields["name"]))
				sort.Strings(g.Groups)
				out[g.Name] = g
			}
		}
	}
	return out
}

// gateGroups lists a marketplace's gate groups by name, each with its gates.
func (s *Service) gateGroups(ctx context.Context, marketplace string) (map[string][]string, error) {
	groups, err := s.store.LinkedTo(ctx, marketplace, marketplace, "marketplace", "gate_groups", maxGatesPerMarketplace)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, gg := range groups {
		list, _ := gg.Fields["gates"].([]any)
		for _, v := range list {
			out[payments.Str(gg.Fields["name"])] = append(out[payments.Str(gg.Fields["name"])], payments.Str(v))
		}
	}
	return out, nil
}
