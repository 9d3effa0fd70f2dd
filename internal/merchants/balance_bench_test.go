package merchants_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// realSalesSeeded are the sales a benchmark makes through the service; the
// rest of its history is copies of them, inserted in bulk.
const realSalesSeeded = 1_000

// seedMerchant makes one merchant with a history of n transactions: the
// first realSalesSeeded are real sales through the service (posted into
// its balance accounts, with their releases booked), the others copies of
// their feed entries, effects and transfers, dated up to n/1000 days
// earlier, inserted in bulk so that setup takes seconds.
func seedMerchant(b *testing.B, kind string, n int) (*services, payments.Resource, *store.DB) {
	b.Helper()
	ctx := context.Background()
	db := storetest.Open(b, kind)
	clk := clock.NewManual(time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC))
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	b.Cleanup(func() { l.Close(context.Background()) })
	s := newServices(l, db)
	key, _, _ := s.CreateAPIKey(ctx, nil, nil)
	mp, _ := s.CreateMarketplace(ctx, key, nil, nil)
	cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
	m, err := s.CreateMerchant(ctx, mp.ID, merchants.PartyInput{Login: "bench-" + kind, ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
	if err != nil {
		b.Fatal(err)
	}
	fee, _ := money.ParseRate("2.9")
	reserve, _ := money.ParseRate("10")
	s.SetBalanceRule(ctx, mp.ID, m.ID, merchants.BalanceRule{Type: "sale", Action: "add", FeeRate: fee, FeeFixedMinor: 30,
		ReserveRate: reserve, ReservePeriodDays: 90, DateBump: "BDAY+2"})
	card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
	order, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
	for i := range min(n, realSalesSeeded) {
		in := amount(1_000 + int64(i))
		in.Instrument, in.Order = card.ID, order.ID
		if _, err := s.Debit(ctx, mp.ID, in); err != nil {
			b.Fatal(err)
		}
		clk.Advance(7 * time.Minute)
	}
	if copies := n/realSalesSeeded - 1; copies > 0 {
		const day = int64(24 * time.Hour / time.Microsecond)
		numbers := "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < " + strconv.Itoa(copies) + ") "
		for _, q := range []string{
			`INSERT INTO balance_transactions (id, marketplace_id, merchant_id, type, amount, currency, gate, source_id, occurred_at_us, endpoint_id) ` +
				numbers + `SELECT t.id || '-' || n.k, t.marketplace_id, t.merchant_id, t.type, t.amount, t.currency, t.gate, t.source_id,
				t.occurred_at_us - n.k * ` + strconv.FormatInt(day, 10) + `, t.endpoint_id FROM balance_transactions t, n`,
			`INSERT INTO balance_effects (entry_id, balance_key, party_id, balance_name, source_id, rule, signed_amount, fee, reserve, sth, live, buffer,
				reserve_until_us, sth_until_us) ` + numbers + `SELECT e.entry_id || '-' || n.k, e.balance_key, e.party_id, e.balance_name, e.source_id,
				e.rule, e.signed_amount, e.fee, e.reserve, e.sth, e.live, e.buffer, e.reserve_until_us, e.sth_until_us FROM balance_effects e, n`,
			`INSERT INTO transfers (id, kind, status, pending_id, code, ref, legs, created_at_us, expires_at_us, resolved_at_us, resolved_by) ` +
				numbers + `SELECT t.id || '-' || n.k, t.kind, t.status, t.pending_id, t.code, t.ref, t.legs, t.created_at_us - n.k * ` + strconv.FormatInt(day, 10) +
				`, t.expires_at_us, t.resolved_at_us, t.resolved_by FROM transfers t, n WHERE t.code = 'balance'`,
		} {
			if err := db.Update(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, q); return err }); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.Analyze(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var rows int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM balance_transactions WHERE merchant_id = ?", cu.ID).Scan(&rows); err != nil || rows != n {
		b.Fatalf("seeded %d transactions, want %d: %v", rows, n, err)
	}
	// Halfway between two of the real sales' due instants: reads see both
	// posted releases and ones due but not yet run.
	clk.Advance(3 * 24 * time.Hour)
	return s, m, db
}

// benchSizes are the history sizes the balance benchmarks run at; the
// environment variable POISE_BENCH_BALANCE_SIZES (comma-separated) narrows
// them.
func benchSizes() []int {
	sizes := []int{1_000, 100_000, 1_000_000}
	if v := os.Getenv("POISE_BENCH_BALANCE_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// eachSize runs bench once per store and history size.
func eachSize(b *testing.B, bench func(b *testing.B, kind string, n int)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		for _, n := range benchSizes() {
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				if kind == "postgres" {
					storetest.RequirePostgres(b)
				}
				bench(b, kind, n)
			})
		}
	}
}

// measure runs read b.N times and reports the p50 and p99 of its time.
func measure(b *testing.B, read func() error) {
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := read(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkGetBalance reads one merchant's balance through the service
// (what get-balance serves after authentication), at several history
// sizes, and reports the p50 and p99 of the read's time.
func BenchmarkGetBalance(b *testing.B) {
	eachSize(b, func(b *testing.B, kind string, n int) {
		s, m, _ := seedMerchant(b, kind, n)
		ctx := context.Background()
		measure(b, func() error {
			_, err := s.MerchantBalances(ctx, m)
			return err
		})
	})
}

// BenchmarkGetBalanceHTTP asks for one merchant's balance as a client
// does: a signed POST over loopback to the balance API, OAuth verified
// (its nonce stored) and the answer written, at several history sizes. It
// reports the p50 and p99 of the whole round trip.
func BenchmarkGetBalanceHTTP(b *testing.B) {
	eachSize(b, func(b *testing.B, kind string, n int) {
		s, m, db := seedMerchant(b, kind, n)
		api := paynet.New(s.payService, s.merService, &paynet.Verifier{Secrets: s.merService, Nonces: db, Clock: clock.System()}, nil)
		srv := httptest.NewServer(api)
		defer srv.Close()
		login := payments.Str(m.Fields["login"])
		url := srv.URL + paynet.Prefix + "merchant/" + login
		measure(b, func() error {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := paynet.SignRequest(req, nil, login, "a control key 12345", time.Now()); err != nil {
				return err
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("get-balance = %d", resp.StatusCode)
			}
			return nil
		})
	})
}

// BenchmarkExport streams one merchant's whole history as the CSV export
// writes it, and reports the peak resident memory of the export alone
// (the peak is reset after seeding; Linux only).
func BenchmarkExport(b *testing.B) {
	eachSize(b, func(b *testing.B, kind string, n int) {
		s, m, _ := seedMerchant(b, kind, n)
		ctx := context.Background()
		runtime.GC()
		debug.FreeOSMemory()
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			b.Skipf("cannot reset the peak RSS: %v", err)
		}
		before := peakRSSKiB(b)
		b.ResetTimer()
		for range b.N {
			w := csv.NewWriter(io.Discard)
			rows := 0
			err := s.ExportFeed(ctx, m, time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), func(d merchants.EntryDates) error {
				rows++
				return w.Write([]string{d.Entry.ID, d.Entry.Type, strconv.FormatInt(d.Entry.AmountMinor, 10), strconv.FormatInt(d.FeeMinor, 10),
					d.ReserveDate.Format(time.RFC3339), d.ShortTermHoldEnd.Format(time.RFC3339), d.Rule.DateBump})
			})
			w.Flush()
			if err != nil || rows != n {
				b.Fatalf("exported %d rows of %d: %v", rows, n, err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(before)/1024, "rss-before-MiB")
		b.ReportMetric(float64(peakRSSKiB(b))/1024, "peak-rss-MiB")
	})
}

// peakRSSKiB reads the process's peak resident set (VmHWM).
func peakRSSKiB(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	b.Skip("no VmHWM")
	return 0
}
