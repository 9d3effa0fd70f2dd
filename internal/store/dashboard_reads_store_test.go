package store_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// IntervalPostings sums an account's journal over each interval, the
// last one open, with its balance: checked against a model of the
// transfers made, at instants on, before and after the bounds.
func TestIntervalPostingsSumsEachIntervalOfTheJournal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		clk := clock.NewManual(start)
		l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(context.Background()) })
		for _, a := range []ledger.Account{
			{ID: "world", Owner: "t", Kind: "card", Currency: "USD", MayGoNegative: true},
			{ID: "pot", Owner: "t", Kind: "escrow", Currency: "USD"},
		} {
			if _, err := l.CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		bounds := []time.Time{start.Add(24 * time.Hour), start.Add(48 * time.Hour), start.Add(72 * time.Hour)}
		// intervalOf is the model: the interval an instant falls in, -1
		// before the first bound; an instant on a bound opens its interval.
		intervalOf := func(at time.Time) int {
			i := -1
			for j, b := range bounds {
				if !at.Before(b) {
					i = j
				}
			}
			return i
		}
		type flow struct{ in, out int64 }
		model := make([]flow, len(bounds))
		var posted int64
		rng := rand.New(rand.NewPCG(7, 11))
		instants := []time.Time{start.Add(time.Second), bounds[0].Add(-time.Microsecond), bounds[0], bounds[1], bounds[2], bounds[2].Add(time.Hour)}
		for range 40 {
			instants = append(instants, start.Add(time.Second+time.Duration(rng.Int64N(int64(96*time.Hour)))).Truncate(time.Microsecond))
		}
		slices.SortFunc(instants, func(a, b time.Time) int { return a.Compare(b) })
		for _, at := range instants {
			if err := clk.Set(at); err != nil {
				t.Fatal(err)
			}
			amount := 1 + rng.Int64N(10_000)
			from, to := "world", "pot"
			if posted >= amount && rng.IntN(3) == 0 {
				from, to = "pot", "world"
			}
			if _, err := l.Transfer(ctx, ledger.TransferRequest{Code: "test", Postings: []ledger.Posting{
				{AccountID: from, AmountMinor: -amount}, {AccountID: to, AmountMinor: amount}}}); err != nil {
				t.Fatal(err)
			}
			if to == "pot" {
				posted += amount
			} else {
				posted -= amount
			}
			if i := intervalOf(at); i >= 0 {
				if to == "pot" {
					model[i].in += amount
				} else {
					model[i].out += amount
				}
			}
		}
		got := make([]flow, len(bounds))
		seen := make([]bool, len(bounds))
		balance, err := db.IntervalPostings(ctx, "pot", bounds, func(i int, in, out int64) {
			got[i], seen[i] = flow{in, out}, true
		})
		if err != nil {
			t.Fatal(err)
		}
		if balance != posted {
			t.Fatalf("balance %d, want %d", balance, posted)
		}
		for i := range bounds {
			if !seen[i] || got[i] != model[i] {
				t.Errorf("interval %d: %+v (reported %v), want %+v", i, got[i], seen[i], model[i])
			}
		}
		// An account nothing posted to holds nothing and moved nothing.
		balance, err = db.IntervalPostings(ctx, "nowhere", bounds, func(i int, in, out int64) {
			if in != 0 || out != 0 {
				t.Errorf("interval %d of no account: %d %d", i, in, out)
			}
		})
		if err != nil || balance != 0 {
			t.Fatalf("no account: %d %v", balance, err)
		}
	})
}
