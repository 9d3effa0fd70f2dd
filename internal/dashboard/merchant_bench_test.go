package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// Seeding of the merchant pages' benchmark: merchantSalesMade sales go
// through the services (posted into the balance's accounts, with fees,
// reserves, holds and their releases booked); the rest of the 10^5 are
// copies of their feed rows, effects and journal rows, each batch dated
// one more day back, written in bulk so that setup takes seconds.
const (
	merchantSalesMade = 1_000
	// saleSpacing spaces the real sales so that they cover five days.
	saleSpacing = 7 * time.Minute
)

// seedMerchantHistory makes a merchant of n balance transactions and
// returns the site, the merchant and its login.
func seedMerchantHistory(b *testing.B, kind string, n int) (*site, *shop, string) {
	b.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC))
	s := startSiteAt(b, storetest.Open(b, kind), clk)
	api := newMarketplace(b, s.base)
	_, body := api.do("GET", "/marketplaces", nil)
	sh := &shop{t: b, s: s, api: api, mp: first(body, "marketplaces")["id"].(string)}
	m, cu := sh.merchant("bench-"+kind, "EXT-BENCH")
	fee, _ := money.ParseRate("2.9")
	reserve, _ := money.ParseRate("10")
	if _, err := s.mer.SetBalanceRule(ctx, sh.mp, m, merchants.BalanceRule{Type: "sale", Action: "add", FeeRate: fee, FeeFixedMinor: 30,
		ReserveRate: reserve, ReservePeriodDays: 90, DateBump: "BDAY+2"}); err != nil {
		b.Fatal(err)
	}
	card, err := s.pay.CreateCard(ctx, sh.mp, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
	if err != nil {
		b.Fatal(err)
	}
	order, err := s.pay.CreateOrder(ctx, sh.mp, cu, payments.OrderInput{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range min(n, merchantSalesMade) {
		if _, err := s.pay.Debit(ctx, sh.mp, payments.TxInput{AmountMinor: 1_000 + int64(i), HasAmount: true, Instrument: card.ID, Order: order.ID}); err != nil {
			b.Fatal(err)
		}
		clk.Advance(saleSpacing)
	}
	for i := range 50 {
		if _, err := s.mer.Adjust(ctx, sh.mp, m, merchants.AdjustmentInput{AmountMinor: int64(100 + i), ExternalSource: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	if copies := n/merchantSalesMade - 1; copies > 0 {
		day := strconv.FormatInt(int64(24*time.Hour/time.Microsecond), 10)
		series := "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < " + strconv.Itoa(copies) + ") "
		for _, q := range []string{
			`INSERT INTO balance_transactions (id, marketplace_id, merchant_id, type, amount, currency, gate, source_id, occurred_at_us, endpoint_id) ` +
				series + `SELECT t.id || '.' || n.k, t.marketplace_id, t.merchant_id, t.type, t.amount, t.currency, t.gate, t.source_id,
				t.occurred_at_us - n.k * ` + day + `, t.endpoint_id FROM balance_transactions t, n WHERE t.type = 'sale'`,
			`INSERT INTO balance_effects (entry_id, balance_key, party_id, balance_name, source_id, rule, signed_amount, fee, reserve, sth, live, buffer,
				reserve_until_us, sth_until_us) ` + series + `SELECT e.entry_id || '.' || n.k, e.balance_key, e.party_id, e.balance_name, e.source_id,
				e.rule, e.signed_amount, e.fee, e.reserve, e.sth, e.live, e.buffer, e.reserve_until_us - n.k * ` + day + `, e.sth_until_us - n.k * ` + day + `
				FROM balance_effects e, n WHERE e.entry_id IN (SELECT id FROM balance_transactions WHERE type = 'sale' AND id NOT LIKE '%.%')`,
			// The journal of every account the sales moved (the balance's
			// buckets, the card network): its per-account rows, dated back
			// like their transactions, which the charts sum per hour.
			`INSERT INTO postings (account_id, created_at_us, transfer_id, seq, amount) ` + series +
				`SELECT p.account_id, p.created_at_us - n.k * ` + day + `, p.transfer_id || '.' || n.k, p.seq, p.amount FROM postings p, n`,
		} {
			if err := s.db.Update(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, q); return err }); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.db.Analyze(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var rows int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = ?", cu).Scan(&rows); err != nil || rows < n {
		b.Fatalf("seeded %d transactions, want %d: %v", rows, n, err)
	}
	// Two days on: some holds are due and not yet posted, more to come.
	clk.Advance(2 * 24 * time.Hour)
	return s, sh, m
}

// BenchmarkMerchantPages measures one signed-in request of each merchant
// page, served over loopback and rendered whole, for a merchant of 10^5
// balance transactions: the balance page (buckets, release calendar,
// chart), configuration, adjustments, schedules, a month of transactions
// and a day's export, and the overview with its chart. Reconciliation is
// BenchmarkReconciliationPage's: it checks every transaction the balance
// ever had, so it grows with the history.
func BenchmarkMerchantPages(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(kind, func(b *testing.B) {
			if kind == "postgres" {
				storetest.RequirePostgres(b)
			}
			s, sh, m := seedMerchantHistory(b, kind, benchTransactions)
			op := newBrowser(b, s.base)
			op.signIn(sh.api.secret)
			merchant := newBrowser(b, s.base)
			if p := merchant.signInParty("bench-"+kind, controlKey); p.status != http.StatusSeeOther {
				b.Fatalf("merchant sign-in: %d", p.status)
			}
			for _, tc := range []struct {
				name string
				who  *browser
				path string
			}{
				{"balances", merchant, "/dashboard/merchants/" + m},
				{"configuration", op, "/dashboard/merchants/" + m + "/configuration"},
				{"adjustments", op, "/dashboard/merchants/" + m + "/adjustments?sort=largest"},
				{"scheduled", op, "/dashboard/merchants/" + m + "/scheduled"},
				{"transactions_month", merchant, "/dashboard/merchants/" + m + "/transactions"},
				{"export_day", merchant, "/dashboard/merchants/" + m + "/export?from=2026-11-10&to=2026-11-11"},
				{"merchants_list", op, "/dashboard/merchants"},
				{"overview", op, "/dashboard/"},
			} {
				b.Run(tc.name, func(b *testing.B) {
					// Once untimed: the first read of rows just bulk-written
					// sets their hint bits on PostgreSQL, a cost of the
					// seeding, not of the page.
					tc.who.get(tc.path)
					for b.Loop() {
						if p := tc.who.get(tc.path); p.status != http.StatusOK {
							b.Fatalf("%s: %d %s", tc.path, p.status, p.body)
						}
					}
				})
			}
			// A server's first read of the balance page reads every day of
			// its chart from the journal; later reads only today's.
			b.Run("balances_first_read", func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					fresh := httptest.NewServer(s.newDashboard())
					who := newBrowser(b, fresh.URL)
					if p := who.signInParty("bench-"+kind, controlKey); p.status != http.StatusSeeOther {
						b.Fatalf("merchant sign-in: %d", p.status)
					}
					b.StartTimer()
					if p := who.get("/dashboard/merchants/" + m); p.status != http.StatusOK {
						b.Fatalf("first read: %d %s", p.status, p.body)
					}
					b.StopTimer()
					fresh.Close()
					b.StartTimer()
				}
			})
		})
	}
}

// BenchmarkReconciliationPage measures the reconciliation page of a
// merchant of 10^5 balance transactions: the service compares each of them
// with the resource that caused it, so its cost is the history's.
func BenchmarkReconciliationPage(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(kind, func(b *testing.B) {
			if kind == "postgres" {
				storetest.RequirePostgres(b)
			}
			s, sh, m := seedMerchantHistory(b, kind, benchTransactions)
			op := newBrowser(b, s.base)
			op.signIn(sh.api.secret)
			for b.Loop() {
				if p := op.get("/dashboard/merchants/" + m + "/reconciliation?run=1"); p.status != http.StatusOK {
					b.Fatalf("reconciliation: %d %s", p.status, p.body)
				}
			}
		})
	}
}
