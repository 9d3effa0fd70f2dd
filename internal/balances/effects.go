package balances

import (
	"fmt"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/money"
)

// Txn is a transaction as it reaches a balance.
type Txn struct {
	Type string
	// AmountMinor is positive, except for an adjustment, whose sign says
	// whether it credits or debits.
	AmountMinor int64
	Gate        string
	// Endpoint is the endpoint it came through, the default one resolved.
	Endpoint string
	At       time.Time
}

// Effect is what one transaction does to one balance, fixed when it
// happens under the rule then in force. The buckets of a balance are the
// sums of its transactions' effects less what has been released since:
//
//	current = STH + RR + live,  and  current moves by SignedMinor − FeeMinor.
type Effect struct {
	Rule Rule
	// SignedMinor is the amount with the rule's sign: what the transaction
	// adds to (or, negative, deducts from) the balance before its fee.
	SignedMinor int64
	FeeMinor    int64
	// ReserveMinor is kept as rolling reserve until ReserveUntil;
	// STHMinor is a short-term hold until STHUntil. Both are zero time
	// when the amount has none.
	ReserveMinor int64
	STHMinor     int64
	LiveMinor    int64
	ReserveUntil time.Time
	STHUntil     time.Time
}

// EffectOf computes a transaction's effect under rule:
//
//   - the balance moves by the amount's signed action (add, deduct, rate
//     only; an adjustment as signed), less the fee of the rate plan;
//   - of an added amount, the rolling reserve (reserve rate × amount) is
//     held until the transaction's date + 1 day + the plan's period,
//     unless the date bumping is ASAP; of a deducted one under a rule with
//     ReserveOnDeduct, the same part of the deduction is a negative
//     reserve until then: live is reduced by it only at the release;
//   - under BDAY+n or DAY+n, the rest (amount − fee − reserve) is a
//     short-term hold until n (business) days later, at the first minute
//     after the transaction's hour;
//   - everything else is live at once.
func EffectOf(rule Rule, t Txn, cal clock.Calendar) (Effect, error) {
	sign, ok := Actions[rule.Action]
	if !ok {
		return Effect{}, fmt.Errorf("balances: rule %s has the unknown action %q", rule.ID, rule.Action)
	}
	if t.Type == Adjustment {
		sign = 1 // an adjustment is applied as signed
	}
	kind, days, err := ParseDateBump(rule.DateBump)
	if err != nil {
		return Effect{}, err
	}
	e := Effect{Rule: rule, SignedMinor: sign * t.AmountMinor}
	if e.FeeMinor, err = money.Fee(abs(t.AmountMinor), rule.FeeRate, rule.FeeFixedMinor); err != nil {
		return Effect{}, err
	}
	if sign < 0 && t.AmountMinor > 0 && rule.ReserveOnDeduct && UsesReserve(kind) && rule.ReserveRate != (money.Rate{}) {
		// A deduct rule's reserve: a negative reserve, the part of the
		// deduction that live feels only at the release.
		r, err := money.Percent(t.AmountMinor, rule.ReserveRate)
		if err != nil {
			return Effect{}, err
		}
		e.ReserveMinor = -r
		e.ReserveUntil = ReserveUntil(t.At, rule.ReservePeriodDays, cal.Location())
	}
	if sign > 0 && t.AmountMinor > 0 {
		if UsesReserve(kind) && rule.ReserveRate != (money.Rate{}) {
			if e.ReserveMinor, err = money.Percent(t.AmountMinor, rule.ReserveRate); err != nil {
				return Effect{}, err
			}
			e.ReserveUntil = ReserveUntil(t.At, rule.ReservePeriodDays, cal.Location())
		}
		if kind == "BDAY" || kind == "DAY" {
			// The seed's arithmetic: a fee larger than what is left makes
			// the hold negative, and its release gives the difference back.
			e.STHMinor = t.AmountMinor - e.FeeMinor - e.ReserveMinor
			e.STHUntil = ShortTermHoldUntil(t.At, kind, days, cal)
		}
	}
	e.LiveMinor = e.SignedMinor - e.FeeMinor - e.ReserveMinor - e.STHMinor
	e.check()
	return e, nil
}

// check asserts the effect's arithmetic: its buckets add up to what it
// does to the balance.
func (e Effect) check() {
	if e.ReserveMinor+e.STHMinor+e.LiveMinor != e.SignedMinor-e.FeeMinor || (e.ReserveMinor < 0) != (e.SignedMinor < 0 && e.ReserveMinor != 0) || e.FeeMinor < 0 {
		panic(fmt.Sprintf("balances: effect does not add up: %+v", e))
	}
}

// CurrentMinor is what the effect moves the balance by.
func (e Effect) CurrentMinor() int64 { return e.SignedMinor - e.FeeMinor }

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// Buckets are a balance as the balance API reports it.
type Buckets struct {
	// CurrentMinor includes short-term holds and rolling reserve;
	// LiveMinor = CurrentMinor − STHMinor − RRMinor.
	CurrentMinor, LiveMinor, STHMinor, RRMinor int64
	// BufferMinor is what outgoing operations without a final status hold.
	BufferMinor int64
}

// Release is what falls due on a balance at one instant: the short-term
// holds and rolling reserves that become live then.
type Release struct {
	STHMinor, RRMinor int64
}

// Released is a balance's buckets once releases that are due but not yet
// posted are counted as posted: between a release's due instant and the
// run of its transfer, a read must already show the money live.
func (b Buckets) Released(due Release) Buckets {
	b.STHMinor -= due.STHMinor
	b.RRMinor -= due.RRMinor
	b.LiveMinor += due.STHMinor + due.RRMinor
	return b
}
