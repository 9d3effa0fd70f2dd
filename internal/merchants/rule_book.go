package merchants

import (
	"fmt"
	"sort"
	"time"

	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// A rule is in force from its effective date (its creation, when it names
// none) until the date it was ended, if it was: a transaction is posted
// under the rules in force at the time it happened, and among the rules
// of one key (balance, type, gate, endpoint) in force then, the one most
// recently in force wins. Ending a rule never rewrites what it applied:
// every effect keeps the rule it was posted under.

// bookRule is one stored rule with its period of force.
type bookRule struct {
	rule        balances.Rule
	key         string
	from, until time.Time // until zero: not ended
	created     time.Time
}

// ruleBook is a party's rules, read once, answering which were in force
// at any instant.
type ruleBook struct {
	rules []bookRule // most recently in force first
	// bounds are the instants the rules in force change at, sorted; the
	// rules of every instant between two bounds are one map, kept in byGap.
	bounds []time.Time
	byGap  map[int]balances.Rules
}

// newRuleBook reads stored rules.
func newRuleBook(items []payments.Resource) (*ruleBook, error) {
	b := &ruleBook{byGap: map[int]balances.Rules{}}
	for _, r := range items {
		typ := payments.Str(r.Fields["transaction_type"])
		fee, err1 := money.ParseRate(payments.Str(r.Fields["fee_rate"]))
		res, err2 := money.ParseRate(payments.Str(r.Fields["reserve_rate"]))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("merchants: rule %s has malformed rates", r.ID)
		}
		br := bookRule{rule: balances.Rule{ID: r.ID, Type: typ, Action: payments.Str(r.Fields["action"]), FeeRate: fee, FeeFixedMinor: payments.Int(r.Fields["fee_fixed"]),
			ReserveRate: res, ReservePeriodDays: int(payments.Int(r.Fields["reserve_period_days"])), DateBump: payments.Str(r.Fields["date_bump"]),
			Balance: payments.Str(r.Fields["balance"]), Gate: payments.Str(r.Fields["gate"]), Endpoint: payments.Str(r.Fields["endpoint"]),
			ReserveOnDeduct: true},
			from: r.CreatedAt, created: r.CreatedAt}
		br.key = balances.RuleKey(br.rule.Balance, typ, br.rule.Gate, br.rule.Endpoint)
		if t, err := time.Parse(time.RFC3339Nano, payments.Str(r.Fields["effective_from"])); err == nil {
			br.from = t
		}
		if t, err := time.Parse(time.RFC3339Nano, payments.Str(r.Fields["effective_until"])); err == nil {
			br.until = t
		}
		b.rules = append(b.rules, br)
		b.bounds = append(b.bounds, br.from)
		if !br.until.IsZero() {
			b.bounds = append(b.bounds, br.until)
		}
	}
	sort.SliceStable(b.rules, func(i, j int) bool {
		if !b.rules[i].from.Equal(b.rules[j].from) {
			return b.rules[i].from.After(b.rules[j].from)
		}
		return b.rules[i].created.After(b.rules[j].created)
	})
	sort.Slice(b.bounds, func(i, j int) bool { return b.bounds[i].Before(b.bounds[j]) })
	return b, nil
}

// at gives the rules in force at instant t.
func (b *ruleBook) at(t time.Time) balances.Rules {
	// gap counts the bounds at or before t: instants with the same count
	// have the same rules in force.
	gap := sort.Search(len(b.bounds), func(i int) bool { return b.bounds[i].After(t) })
	if rs, ok := b.byGap[gap]; ok {
		return rs
	}
	rs := balances.Rules{}
	for _, r := range b.rules {
		if r.from.After(t) || (!r.until.IsZero() && !t.Before(r.until)) {
			continue
		}
		if _, seen := rs[r.key]; !seen {
			rs[r.key] = r.rule
		}
	}
	b.byGap[gap] = rs
	return rs
}
