package payments

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/scheduler"
)

// The 30-day rule (seed 002): funds must be paid to merchants within 30 days
// of the charge. An escrow's money is aged first in, first out: payouts,
// refunds of other debits and returns take the oldest money first, so what
// an escrow holds is its newest inflows, as far back as its posted balance
// reaches. The balance is the ledger account's; the inflows (succeeded
// debits, less what was refunded of each, and reversals) say only how old
// its parts are. Nothing is recomputed from the ledger's history.

// Limits and days of the rule.
const (
	// FundsDeadlineDays is the seed's limit: money must be paid out within
	// 30 days of the charge.
	FundsDeadlineDays = 30
	// FundsWarningDays is when an event warns that money is still unpaid,
	// five days before the deadline.
	FundsWarningDays = 25
	// maxAgeLots bounds the inflows read to age one escrow. An escrow whose
	// balance reaches further back than that many inflows has its older
	// rest dated at the oldest inflow read, never younger.
	maxAgeLots = 1000
	// agePage is how many inflows one read takes.
	agePage = 500
)

// JobFundsAging checks, 25 days after money reached an escrow, whether it
// is still there.
const JobFundsAging = "escrow.funds_aging"

// AgeBucket is how much of an escrow is of an age, in whole days since the
// money arrived: [FromDays, ToDays], ToDays -1 for no upper end.
type AgeBucket struct {
	FromDays    int
	ToDays      int
	AmountMinor int64
}

// ageBuckets are the ranges the report uses: weeks, then the warning and
// the deadline.
var ageBuckets = [][2]int{{0, 6}, {7, 13}, {14, FundsWarningDays - 1}, {FundsWarningDays, FundsDeadlineDays - 1}, {FundsDeadlineDays, -1}}

// fundsLot is money that reached an escrow at one instant.
type fundsLot struct {
	id          string
	at          time.Time
	amountMinor int64
}

// fundedAt is when a transaction's money reached its escrow: a bank debit's
// at its settlement, anything else's at creation.
func fundedAt(r Resource) time.Time {
	if s := Str(r.Private["funded_at"]); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return r.CreatedAt
}

// lotOf is what of a transaction still counts as money it brought in: a
// succeeded debit less its refunds, a succeeded reversal; nothing for a
// failed, pending or disputed one.
func lotOf(r Resource) (fundsLot, bool) {
	if r.Status != "succeeded" {
		return fundsLot{}, false
	}
	amount := Int(r.Fields["amount"])
	switch r.Type {
	case "debits":
		if r.Link("dispute") != "" && !Bool(r.Private["dispute_won"]) {
			return fundsLot{}, false
		}
		amount -= Int(r.Private["refunded"])
	case "reversals":
	default:
		return fundsLot{}, false
	}
	if amount <= 0 {
		return fundsLot{}, false
	}
	return fundsLot{id: r.ID, at: fundedAt(r), amountMinor: amount}, true
}

// unpaidLots keeps, of lots, the money balance still holds: the newest
// first, the oldest cut to what is left of balance; a balance beyond every
// lot is dated at the oldest lot. It returns them newest first.
func unpaidLots(balance int64, lots []fundsLot) []fundsLot {
	sort.SliceStable(lots, func(i, j int) bool { return lots[i].at.After(lots[j].at) })
	var out []fundsLot
	left := balance
	for _, l := range lots {
		if left <= 0 {
			break
		}
		l.amountMinor = min(l.amountMinor, left)
		left -= l.amountMinor
		out = append(out, l)
	}
	if left > 0 && len(out) > 0 {
		out[len(out)-1].amountMinor += left
	}
	return out
}

// ageDays is how many whole days old money that arrived at is at now.
func ageDays(at, now time.Time) int {
	if now.Before(at) {
		return 0
	}
	return int(now.Sub(at) / (24 * time.Hour))
}

// byAge sums unpaid lots into the report's buckets.
func byAge(unpaid []fundsLot, now time.Time) []AgeBucket {
	out := make([]AgeBucket, len(ageBuckets))
	for i, b := range ageBuckets {
		out[i] = AgeBucket{FromDays: b[0], ToDays: b[1]}
	}
	for _, l := range unpaid {
		d := ageDays(l.at, now)
		for i, b := range ageBuckets {
			if d >= b[0] && (b[1] < 0 || d <= b[1]) {
				out[i].AmountMinor += l.amountMinor
				break
			}
		}
	}
	return out
}

// escrowLots reads the inflows of an escrow: an order's (orderID set) or
// the marketplace's own (orderID empty), up to maxAgeLots of each type.
func (s *Service) escrowLots(ctx context.Context, marketplace, orderID string) ([]fundsLot, error) {
	var lots []fundsLot
	for _, typ := range []string{"debits", "reversals"} {
		for offset := 0; offset < maxAgeLots; offset += agePage {
			q := ListQuery{Marketplace: marketplace, Type: typ, WithoutTotal: true, Limit: agePage, Offset: offset}
			if orderID != "" {
				q.LinkRel, q.LinkTarget = "order", orderID
			}
			page, _, err := s.store.ListResources(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, r := range page {
				if r.Link("order") != orderID {
					continue
				}
				if l, ok := lotOf(r); ok {
					lots = append(lots, l)
				}
			}
			if len(page) < agePage {
				break
			}
		}
	}
	return lots, nil
}

// escrowAccountOf is the ledger account of an order's escrow or, for no
// order, the marketplace's.
func escrowAccountOf(marketplace, orderID string) string { return escrowFor(marketplace, orderID) }

// agedEscrow reads an escrow's unpaid lots at the marketplace's time.
func (s *Service) agedEscrow(ctx context.Context, marketplace, orderID string, posted int64) ([]fundsLot, error) {
	lots, err := s.escrowLots(ctx, marketplace, orderID)
	if err != nil {
		return nil, err
	}
	return unpaidLots(posted, lots), nil
}

// followFundsAging makes sure the money an escrow takes in today (a UTC day
// of the marketplace's clock) is checked on its 25th day: one job per
// escrow and day, not one per debit. The day last followed is kept on the
// escrow's owner, the order or the marketplace, saved here once a day.
func (w *Writer) followFundsAging(ctx context.Context, marketplace string, order *Resource) error {
	day := w.Now().UTC().Format(time.DateOnly)
	owner := order
	if owner == nil {
		mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
		if err != nil {
			return err
		}
		owner = &mp
	}
	if Str(owner.Private["funds_aging_day"]) == day {
		return nil
	}
	owner.Private["funds_aging_day"] = day
	if _, err := w.Save(ctx, *owner); err != nil {
		return err
	}
	arrived, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return err
	}
	due := w.processTime(arrived.AddDate(0, 0, FundsWarningDays))
	return w.tx.ScheduleJob(ctx, scheduler.Job{Kind: JobFundsAging, Key: owner.ID + "@" + day, Payload: marketplace, DueAt: due}, w.Writer.Now())
}

// FundsAging is the handler of JobFundsAging: on the 25th day after a day
// an escrow took money in, when any of that day's money is still there, an
// event says so (order.funds_aging for an order, marketplace.funds_aging
// for the marketplace's escrow), with the job's completion in one
// transaction.
func (s *Service) FundsAging(ctx context.Context, j scheduler.Job) error {
	i := strings.LastIndexByte(j.Key, '@')
	if i < 0 {
		return fmt.Errorf("payments: %q is not a funds aging key", j.Key)
	}
	owner, day := j.Key[:i], j.Key[i+1:]
	arrived, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return fmt.Errorf("payments: %q is not a funds aging key: %w", j.Key, err)
	}
	orderID := owner
	if owner == j.Payload {
		orderID = ""
	}
	lots, err := s.escrowLots(ctx, j.Payload, orderID)
	if err != nil {
		return err
	}
	return s.runJob(ctx, j, func(ctx context.Context, w *Writer) error {
		acct, err := w.Account(escrowAccountOf(j.Payload, orderID))
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		still := int64(0)
		for _, l := range unpaidLots(acct.PostedMinor, lots) {
			if l.at.UTC().Format(time.DateOnly) == day {
				still += l.amountMinor
			}
		}
		if still > 0 {
			event := "marketplace.funds_aging"
			if orderID != "" {
				event = "order.funds_aging"
			}
			r, err := w.Lock(ctx, j.Payload, "", owner)
			if err != nil {
				return err
			}
			// What the warning is about, for the receiver: how much of the
			// day's money is left, and by when it must be paid out.
			if _, err := w.emitWith(ctx, event, r, map[string]any{"funds": map[string]any{
				"amount": still, "currency": Currency, "arrived_on": day,
				"deadline_at": arrived.AddDate(0, 0, FundsDeadlineDays).Format(time.RFC3339Nano),
			}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Reasons of the rule's refusals.
const reasonOrderFundsPastDeadline = "order-funds-past-deadline"

// refuseStaleOrder refuses a debit into an order that still holds money
// older than the deadline, when the marketplace asked for that (its escrow
// policy): the order must be paid out first.
func (w *Writer) refuseStaleOrder(ctx context.Context, marketplace, orderID string) error {
	mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
	if err != nil {
		return err
	}
	if !Bool(mp.Private["refuse_stale_order_debits"]) {
		return nil
	}
	acct, err := w.Account(orderID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var lots []fundsLot
	for _, typ := range []string{"debits", "reversals"} {
		rs, err := w.tx.LinkedTo(ctx, marketplace, orderID, "order", typ, maxAgeLots)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if l, ok := lotOf(r); ok {
				lots = append(lots, l)
			}
		}
	}
	unpaid := unpaidLots(acct.PostedMinor, lots)
	if len(unpaid) == 0 {
		return nil
	}
	oldest := unpaid[len(unpaid)-1].at
	if w.Now().Sub(oldest) > FundsDeadlineDays*24*time.Hour {
		return apperr.WithReason(apperr.Conflict, reasonOrderFundsPastDeadline,
			"order %s holds money that arrived %s, more than %d days ago; pay it out before debiting into the order again",
			orderID, oldest.UTC().Format(time.RFC3339), FundsDeadlineDays)
	}
	return nil
}

// EscrowPolicy is what a marketplace asks of its escrows.
type EscrowPolicy struct {
	// RefuseStaleOrderDebits refuses new debits into an order whose
	// oldest money is past the 30-day deadline (409
	// order-funds-past-deadline).
	RefuseStaleOrderDebits bool
}

// EscrowPolicyOf reads a marketplace's escrow policy.
func (s *Service) EscrowPolicyOf(ctx context.Context, marketplace string) (EscrowPolicy, error) {
	mp, err := s.GetTyped(ctx, marketplace, "marketplaces", marketplace)
	if err != nil {
		return EscrowPolicy{}, err
	}
	return EscrowPolicy{RefuseStaleOrderDebits: Bool(mp.Private["refuse_stale_order_debits"])}, nil
}

// SetEscrowPolicy sets a marketplace's escrow policy.
func (s *Service) SetEscrowPolicy(ctx context.Context, marketplace string, p EscrowPolicy) (EscrowPolicy, error) {
	_, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		mp, err := w.Lock(ctx, marketplace, "marketplaces", marketplace)
		if err != nil {
			return nil, err
		}
		mp.Private["refuse_stale_order_debits"] = p.RefuseStaleOrderDebits
		_, err = w.Save(ctx, mp)
		return nil, err
	})
	return p, err
}
