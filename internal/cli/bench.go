package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/bench"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store"
)

// benchEnvPrefix keeps bench's variables apart from the server's: a shell
// set up to run a server must not point a benchmark, which writes
// thousands of accounts, at that server's database.
const benchEnvPrefix = "POISE_BENCH_"

// maxBenchSubmitters bounds one case's goroutines. The committer's queue
// holds a few thousand operations; far more submitters than that measure
// only how fast the queue refuses them.
const maxBenchSubmitters = 4096

type benchConfig struct {
	shapes      []bench.Shape
	submitters  []int
	duration    time.Duration
	accounts    int
	databaseURL string
}

func runBench(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet(env, "bench", "[flags]", benchEnvPrefix, `
Measures transfers per second through the ledger's write path, one case per
shape and number of concurrent submitters, and prints one line per case.
Shapes: spread moves money between random pairs of many accounts; hot sends
every transfer into one account, as debits without an order do with a
marketplace's escrow.

Without --database-url each case runs on a fresh SQLite database in a
temporary directory, removed afterwards. With it, every case writes its
accounts and transfers into that PostgreSQL database: give it a scratch
database, never one that holds real money.`)
	shape := fs.String("shape", "both", "`shape` of the load: spread, hot or both")
	submitters := fs.String("submitters", "1,16,64", "comma-separated `counts` of concurrent submitters, one case each")
	duration := fs.Duration("duration", 3*time.Second, "how long each case runs, as a Go `duration` (500ms, 3s, 1m)")
	accounts := fs.Int("accounts", 10_000, "how many funded `accounts` the money comes from")
	databaseURL := fs.String("database-url", "", "PostgreSQL `url` of a scratch database; empty means a temporary SQLite")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	cfg, err := benchConfigOf(*shape, *submitters, *duration, *accounts, *databaseURL)
	if err != nil {
		return fs.fail(err)
	}
	if err := benchCases(ctx, cfg, env); err != nil {
		fmt.Fprintf(env.Stderr, "poise bench: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func benchConfigOf(shape, submitters string, duration time.Duration, accounts int, databaseURL string) (benchConfig, error) {
	cfg := benchConfig{duration: duration, accounts: accounts, databaseURL: databaseURL}
	switch shape {
	case "spread":
		cfg.shapes = []bench.Shape{bench.Spread}
	case "hot":
		cfg.shapes = []bench.Shape{bench.Hot}
	case "both":
		cfg.shapes = []bench.Shape{bench.Spread, bench.Hot}
	default:
		return cfg, fmt.Errorf("--shape must be spread, hot or both, not %q", shape)
	}
	for _, s := range strings.Split(submitters, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > maxBenchSubmitters {
			return cfg, fmt.Errorf("--submitters: %q is not a count from 1 to %d", s, maxBenchSubmitters)
		}
		cfg.submitters = append(cfg.submitters, n)
	}
	if duration <= 0 {
		return cfg, errors.New("--duration must be positive")
	}
	if accounts < 2 {
		return cfg, errors.New("--accounts must be at least 2")
	}
	return cfg, checkDatabaseURL(databaseURL)
}

func benchCases(ctx context.Context, cfg benchConfig, env Env) error {
	var shared *store.DB
	if cfg.databaseURL != "" {
		db, err := openMigrated(ctx, cfg.databaseURL)
		if err != nil {
			return err
		}
		defer db.Close()
		shared = db
		fmt.Fprintf(env.Stdout, "bench: PostgreSQL, every case in the one database, %s per case\n", cfg.duration)
	} else {
		fmt.Fprintf(env.Stdout, "bench: SQLite, a fresh database per case, %s per case\n", cfg.duration)
	}
	for _, shape := range cfg.shapes {
		for _, n := range cfg.submitters {
			opts := bench.Options{Shape: shape, Submitters: n, Duration: cfg.duration, Accounts: cfg.accounts}
			r, err := benchCase(ctx, shared, opts)
			if err != nil {
				return fmt.Errorf("%s with %d submitters: %w", shape, n, err)
			}
			fmt.Fprintln(env.Stdout, r.String())
		}
	}
	return nil
}

// benchCase runs one case on db, or on a fresh temporary SQLite database
// when db is nil.
func benchCase(ctx context.Context, db *store.DB, opts bench.Options) (bench.Result, error) {
	if db == nil {
		dir, err := os.MkdirTemp("", "poise-bench-")
		if err != nil {
			return bench.Result{}, err
		}
		defer os.RemoveAll(dir)
		if db, err = openMigrated(ctx, filepath.Join(dir, sqliteFileName)); err != nil {
			return bench.Result{}, err
		}
		defer db.Close()
	}
	opts.Settle = db.Analyze
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	r, err := bench.Run(ctx, l, opts)
	if cerr := l.Close(context.WithoutCancel(ctx)); err == nil {
		err = cerr
	}
	return r, err
}

func openMigrated(ctx context.Context, location string) (*store.DB, error) {
	db, err := store.Open(ctx, location)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
