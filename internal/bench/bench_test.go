package bench_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/bench"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// BenchmarkWritePath reports transfers per second through the committer
// for each store, shape and number of concurrent submitters:
//
//	go test -run '^$' -bench WritePath -benchtime 1x ./internal/bench/
//
// POISE_BENCH_SECONDS sets how long each case runs (default 3).
func BenchmarkWritePath(b *testing.B) {
	seconds := 3
	if s := os.Getenv("POISE_BENCH_SECONDS"); s != "" {
		fmt.Sscan(s, &seconds)
	}
	for _, kind := range storetest.Kinds {
		for _, shape := range []bench.Shape{bench.Spread, bench.Hot} {
			for _, submitters := range []int{1, 16, 64} {
				b.Run(fmt.Sprintf("%s/%s/%d", kind, shape, submitters), func(b *testing.B) {
					db := storetest.Open(b, kind)
					l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
					defer l.Close(context.Background())
					var last bench.Result
					for i := 0; i < b.N; i++ {
						r, err := bench.Run(context.Background(), l, bench.Options{
							Shape: shape, Submitters: submitters, Duration: time.Duration(seconds) * time.Second, Accounts: 10_000, Settle: db.Analyze})
						if err != nil {
							b.Fatal(err)
						}
						last = r
					}
					b.ReportMetric(last.PerSecond, "transfers/s")
					b.ReportMetric(last.AvgBatchSize, "transfers/batch")
				})
			}
		}
	}
}
