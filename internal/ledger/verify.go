package ledger

import (
	"context"
	"fmt"
	"sort"
)

// Mismatch is one difference the verifier found.
type Mismatch struct {
	AccountID string // empty for a journal-wide problem
	Problem   string
}

func (m Mismatch) String() string {
	if m.AccountID == "" {
		return m.Problem
	}
	return m.AccountID + ": " + m.Problem
}

// Verify replays the whole journal, recomputes every balance from it, and
// compares them with the materialized balances and with the per-account
// posted journal. It also checks that every
// transfer sums to zero, that every currency sums to zero across accounts,
// and that no account breaks its rule. An empty result means the ledger is
// consistent.
func Verify(ctx context.Context, s Store) ([]Mismatch, error) {
	want := make(map[string]*Balance)
	var found []Mismatch
	at := func(aid string) *Balance {
		b := want[aid]
		if b == nil {
			b = &Balance{}
			want[aid] = b
		}
		return b
	}
	err := s.ScanJournal(ctx, func(t Transfer) error {
		sums := map[string]int64{}
		for _, p := range t.Postings {
			sums[p.Currency] += p.AmountMinor
			b := at(p.AccountID)
			switch {
			case t.Kind.MovesPosted():
				b.PostedMinor += p.AmountMinor
			case t.Kind == KindPending && t.Status == StatusPending && p.AmountMinor > 0:
				b.PendingInMinor += p.AmountMinor
			case t.Kind == KindPending && t.Status == StatusPending:
				b.PendingOutMinor -= p.AmountMinor
			}
		}
		for cur, sum := range sums {
			if sum != 0 {
				found = append(found, Mismatch{Problem: fmt.Sprintf("transfer %s: %s postings sum to %d", t.ID, cur, sum)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	inPostings := map[string]bool{}
	err = s.ScanPostedSums(ctx, func(aid string, sum int64) error {
		inPostings[aid] = true
		var posted int64
		if b := want[aid]; b != nil {
			posted = b.PostedMinor
		}
		if sum != posted {
			found = append(found, Mismatch{AccountID: aid, Problem: fmt.Sprintf("posted journal sums to %d, transfers say %d", sum, posted)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for aid, b := range want {
		if b.PostedMinor != 0 && !inPostings[aid] {
			found = append(found, Mismatch{AccountID: aid, Problem: fmt.Sprintf("transfers say %d posted but the posted journal has no rows", b.PostedMinor)})
		}
	}
	totals := map[string]int64{}
	seen := map[string]bool{}
	err = s.ScanAccounts(ctx, func(a Account) error {
		seen[a.ID] = true
		totals[a.Currency] += a.PostedMinor
		w := Balance{}
		if b := want[a.ID]; b != nil {
			w = *b
		}
		if w != a.Balance {
			found = append(found, Mismatch{AccountID: a.ID, Problem: fmt.Sprintf("stored %+v, journal says %+v", a.Balance, w)})
		}
		if !a.guarded() {
			found = append(found, Mismatch{AccountID: a.ID, Problem: fmt.Sprintf("breaks its rule: %+v", a.Balance)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for aid := range want {
		if !seen[aid] {
			found = append(found, Mismatch{AccountID: aid, Problem: "has postings but no account"})
		}
	}
	for cur, sum := range totals {
		if sum != 0 {
			found = append(found, Mismatch{Problem: fmt.Sprintf("accounts in %s sum to %d, not zero", cur, sum)})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
	return found, nil
}
