package merchants

import (
	"context"
	"fmt"
	"github.com/poise-payments/poise/internal/payments"
	"slices"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/clock"
)

// Difference is one disagreement reconciliation found.
type Difference struct {
	SourceID string
	Problem  string
}

// Reconciliation compares a merchant balance with what fed it.
type Reconciliation struct {
	BalanceMinor    int64
	TransactionsSum int64
	AdjustmentsSum  int64
	// FeesSum is what the merchant\'s rate plans took.
	FeesSum         int64
	Differences     []Difference
	EntriesCompared int
	// Balances are the same figures for each balance reconciled, in its
	// own currency.
	Balances []BalanceReconciliation
}

// BalanceReconciliation is one balance's part of a reconciliation.
type BalanceReconciliation struct {
	Name, Currency                                         string
	BalanceMinor, TransactionsSum, AdjustmentsSum, FeesSum int64
	Differences                                            []Difference
	Effects                                                int
}

// feedTypeOf is the feed type each resource type may cause.
var feedTypeOf = map[string][]string{
	"debits":                     {payments.FeedSale, payments.FeedCapture},
	"refunds":                    {payments.FeedReversal},
	"credits":                    {payments.FeedPayout},
	"reversals":                  {payments.FeedPayoutCancel},
	"card_holds":                 {payments.FeedPreauth, payments.FeedVoid},
	"disputes":                   {payments.FeedChargeback, payments.FeedChargebackReversal},
	"bank_account_verifications": {payments.FeedAccountVerification},
	"adjustments":                {FeedAdjustment},
}

// returnFeedOf is the entry an ACH return adds for a transaction that had
// succeeded (ach_returns.go): the money it moved goes back.
var returnFeedOf = map[string]string{
	"debits":    payments.FeedChargeback,
	"credits":   payments.FeedPayoutCancel,
	"refunds":   payments.FeedChargebackReversal,
	"reversals": payments.FeedPayout,
}

// Reconcile checks a party's balances against the ledger and against what
// made them. For each balance: its buckets are its ledger accounts (the
// read adds only releases due and not yet posted); the accounts its
// transactions, adjustments and fees came from equal the sums of the
// effects stored with those transactions; and its buckets add up to them
// (sth + rr + live = transactions + adjustments − fees). Every feed entry
// is then checked against the resource that caused it: that it exists, is
// of a type that causes such an entry, did not fail, and moved the same
// amount.
func (s *Service) Reconcile(ctx context.Context, party payments.Resource) (Reconciliation, error) {
	return s.reconcile(ctx, party, "")
}

// ReconcileBalance reconciles one balance of a party: its accounts with
// its effects, and the transactions it counted with what caused them.
func (s *Service) ReconcileBalance(ctx context.Context, party payments.Resource, balance string) (Reconciliation, error) {
	return s.reconcile(ctx, party, balance)
}

// reconcile reconciles a party's balances, or only the one named.
func (s *Service) reconcile(ctx context.Context, party payments.Resource, only string) (Reconciliation, error) {
	var rec Reconciliation
	set, err := s.balancesOf(ctx, party)
	if err != nil {
		return rec, err
	}
	if only != "" && !set.has(only) {
		return rec, apperr.New(apperr.NotFound, "%s has no balance named %q", party.ID, only)
	}
	counted := map[string]bool{}
	now, err := s.pay.NowFor(ctx, party.Marketplace)
	if err != nil {
		return rec, err
	}
	feed, err := s.partyFeed(ctx, party)
	if err != nil {
		return rec, err
	}
	entries := make(map[string]payments.FeedEntry, len(feed))
	for _, e := range feed {
		entries[e.ID] = e
	}
	cal := clock.FedCalendar()
	for _, name := range set.names {
		if only != "" && name != only {
			continue
		}
		key := set.keys[name]
		br := BalanceReconciliation{Name: name, Currency: set.currencyOf(name)}
		var list []string
		for _, b := range []string{bucketSTH, bucketRR, bucketLive, bucketFee, bucketTxn, bucketAdj, bucketBuf, bucketBufSrc} {
			list = append(list, BalanceAccount(key, b))
		}
		a, err := s.store.BalanceAccounts(ctx, list)
		if err != nil {
			return rec, err
		}
		acct := balances.Ledgered{STH: a[list[0]], RR: a[list[1]], Live: a[list[2]], Fee: a[list[3]], Txn: a[list[4]], Adj: a[list[5]], Buf: a[list[6]], BufSrc: a[list[7]]}
		b, err := s.bucketsOf(ctx, key, now)
		if err != nil {
			return rec, err
		}
		var made balances.Made
		err = s.store.EffectsOfBalance(ctx, key, func(be BalanceEffect) error {
			counted[be.EntryID] = true
			br.Effects++
			// The stored effect must be what its stored rule does to its
			// transaction.
			e, ok := entries[be.EntryID]
			if !ok {
				br.Differences = append(br.Differences, Difference{be.SourceID, fmt.Sprintf("balance %q has an effect of %s, which is none of its transactions", name, be.EntryID)})
			} else {
				want, err := balances.EffectOf(be.Rule, balances.Txn{Type: e.Type, AmountMinor: e.AmountMinor, Gate: e.Gate, Endpoint: e.Endpoint, At: e.OccurredAt}, cal)
				if err != nil {
					return err
				}
				if got := be.Effect; !balances.SameEffect(got, want) {
					br.Differences = append(br.Differences, Difference{e.SourceID, fmt.Sprintf("balance %q: the %s's stored effect (amount %d, fee %d, reserve %d, hold %d, live %d) is not what its rule %s gives (%d, %d, %d, %d, %d)",
						name, e.Type, got.SignedMinor, got.FeeMinor, got.ReserveMinor, got.STHMinor, got.LiveMinor, be.RuleJSON,
						want.SignedMinor, want.FeeMinor, want.ReserveMinor, want.STHMinor, want.LiveMinor)})
				}
			}
			made.Add(be.Effect, be.BufferMinor)
			return nil
		})
		if err != nil {
			return rec, err
		}
		br.BalanceMinor, br.TransactionsSum, br.AdjustmentsSum, br.FeesSum = b.CurrentMinor, made.Txns, made.Adjs, made.Fees
		for _, problem := range balances.Check(b, acct, made) {
			br.Differences = append(br.Differences, Difference{"", fmt.Sprintf("balance %q: %s", name, problem)})
		}
		rec.BalanceMinor += b.CurrentMinor
		rec.TransactionsSum += made.Txns
		rec.AdjustmentsSum += made.Adjs
		rec.FeesSum += made.Fees
		rec.Differences = append(rec.Differences, br.Differences...)
		rec.Balances = append(rec.Balances, br)
	}
	// The operator's transactions the entries are, read in lists, not one
	// by one.
	var sources []string
	for _, e := range feed {
		if strings.HasPrefix(e.SourceID, operatorTxnPrefix) && (only == "" || counted[e.ID]) {
			sources = append(sources, e.SourceID)
		}
	}
	recorded, err := s.store.OperatorTransactionsByID(ctx, party.Marketplace, sources)
	if err != nil {
		return rec, err
	}
	// The resources the other entries name, likewise.
	var ids []string
	for _, e := range feed {
		if _, operator := recorded[e.SourceID]; !operator && (only == "" || counted[e.ID]) {
			ids = append(ids, e.SourceID)
		}
	}
	slices.Sort(ids)
	resources, err := s.store.ResourcesByID(ctx, party.Marketplace, slices.Compact(ids))
	if err != nil {
		return rec, err
	}
	for _, e := range feed {
		if only != "" && !counted[e.ID] {
			continue // one balance is checked against what it counted
		}
		rec.EntriesCompared++
		if problem, ok := checkOperatorEntry(recorded, e); ok {
			if problem != "" {
				rec.Differences = append(rec.Differences, Difference{e.SourceID, problem})
			}
			continue
		}
		src, found := resources[e.SourceID]
		if !found {
			rec.Differences = append(rec.Differences, Difference{e.SourceID, fmt.Sprintf("%s entry names no resource", e.Type)})
			continue
		}
		// A transaction returned after it succeeded has failed late: its
		// own entry stands, and its return's entry gives the money back,
		// as much as the return took (a debit's, what its refunds left).
		returned := src.Private["ach_return"] != nil
		isReturn := returned && e.Type == returnFeedOf[src.Type]
		ok := isReturn
		for _, t := range feedTypeOf[src.Type] {
			ok = ok || t == e.Type
		}
		want := payments.Int(src.Fields["amount"])
		if ra, has := src.Fields["returned_amount"]; isReturn && has {
			want = payments.Int(ra)
		}
		switch {
		case !ok:
			rec.Differences = append(rec.Differences, Difference{e.SourceID, fmt.Sprintf("a %s does not cause a %s entry", src.Type, e.Type)})
		case src.Status == "failed" && !returned:
			rec.Differences = append(rec.Differences, Difference{e.SourceID, fmt.Sprintf("%s entry for a failed %s", e.Type, src.Type)})
		case src.Type == "bank_account_verifications":
		case e.Type == payments.FeedCapture && src.Type != "adjustments":
		case want != e.AmountMinor:
			rec.Differences = append(rec.Differences, Difference{e.SourceID, fmt.Sprintf("%s entry of %d, but the %s is of %d", e.Type, e.AmountMinor, src.Type, want)})
		}
	}
	return rec, nil
}

// FeedBetween lists a merchant's balance transactions in [from, to): one
// index range (see ExportFeed to stream a long period).
func (s *Service) FeedBetween(ctx context.Context, merchant payments.Resource, from, to time.Time) ([]payments.FeedEntry, error) {
	var out []payments.FeedEntry
	err := s.ExportFeed(ctx, merchant, from, to, func(d EntryDates) error {
		out = append(out, d.Entry)
		return nil
	})
	return out, err
}

// checkOperatorEntry checks a feed entry against the operator transaction
// it is; ok is false when the entry is none (it came from a Balanced
// resource).
func checkOperatorEntry(recorded map[string]OperatorTransaction, e payments.FeedEntry) (problem string, ok bool) {
	if !strings.HasPrefix(e.SourceID, operatorTxnPrefix) {
		return "", false
	}
	o, found := recorded[e.SourceID]
	switch {
	case !found:
		return fmt.Sprintf("%s entry names no recorded transaction", e.Type), true
	case o.EntryID != e.ID:
		return fmt.Sprintf("transaction %s was recorded as entry %s, not %s", o.ID, o.EntryID, e.ID), true
	case o.Type != e.Type || o.AmountMinor != e.AmountMinor || o.Currency != e.Currency:
		return fmt.Sprintf("%s entry of %d %s, but the recorded transaction is a %s of %d %s", e.Type, e.AmountMinor, e.Currency, o.Type, o.AmountMinor, o.Currency), true
	}
	return "", true
}
