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

// defaultBenchOrders is how many orders the HTTP spread shape debits into:
// enough that two concurrent debits rarely meet on one order, few enough
// to make in seconds before the timing starts.
const defaultBenchOrders = 5000

// maxBenchOrders bounds setup, which makes every order through the API.
const maxBenchOrders = 100_000

type benchConfig struct {
	shapes      []bench.Shape
	submitters  []int
	duration    time.Duration
	accounts    int
	databaseURL string
	// http runs the load through a server over HTTP instead of against the
	// ledger; orders, server and profileDir apply to it alone.
	http       bool
	orders     int
	server     string
	profileDir string
}

func runBench(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet(env, "bench", "[flags]", benchEnvPrefix, `
Measures transfers per second through the ledger's write path, one case per
shape and number of concurrent submitters, and prints one line per case.
Shapes: spread moves money between random pairs of many accounts; hot sends
every transfer into one account, as debits without an order do with a
marketplace's escrow.

With --http it measures what a client sees instead: it starts 'poise serve'
as a child process on a loopback port and drives the Balanced API, each
submitter a client that sends a request, waits for the answer and sends the
next over a keep-alive connection of its own. Shapes: spread debits a
tokenized card into many orders (--orders), hot into one order, credits pays
the merchant's bank account out of one funded order. Each case prints
operations per second, the 50th and 99th percentile and the longest latency
of answered requests, the answers other than 2xx by status (503s with
Retry-After counted), and the server's peak resident memory over the case.
Afterwards it checks through the API that every order's escrow and amount
are what the acknowledged operations made them, stops the server and runs
'poise verify'.

Without --database-url each case (with --http, the server) runs on a fresh
SQLite database in a temporary directory, removed afterwards. With it,
everything is written into that PostgreSQL database: give it a scratch
database, never one that holds real money.`)
	shape := fs.String("shape", "all", "`shapes` of the load, comma-separated: spread, hot, credits (--http only); both is spread,hot; all is every shape of the mode")
	submitters := fs.String("submitters", "1,16,64", "comma-separated `counts` of concurrent submitters (with --http, clients), one case each")
	duration := fs.Duration("duration", 3*time.Second, "how long each case runs, as a Go `duration` (500ms, 3s, 1m)")
	accounts := fs.Int("accounts", 10_000, "how many funded `accounts` the money comes from (not with --http)")
	databaseURL := fs.String("database-url", "", "PostgreSQL `url` of a scratch database; empty means a temporary SQLite")
	overHTTP := fs.Bool("http", false, "drive a real 'poise serve' over HTTP through the Balanced API instead of the ledger alone")
	orders := fs.Int("orders", defaultBenchOrders, "with --http: how many `orders` the spread shape debits into")
	server := fs.String("server", "", "with --http: the poise `binary` to start as the server; empty means this one")
	profileDir := fs.String("profile-dir", "", "with --http: a `directory` to write the server's CPU profile of each case to (STORE-SHAPE-CLIENTS.pprof)")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	cfg, err := benchConfigOf(*shape, *submitters, *duration, *accounts, *databaseURL, *overHTTP)
	if err == nil {
		err = cfg.withHTTP(*overHTTP, *orders, *server, *profileDir)
	}
	if err != nil {
		return fs.fail(err)
	}
	run := benchCases
	if cfg.http {
		run = benchHTTP
	}
	if err := run(ctx, cfg, env); err != nil {
		fmt.Fprintf(env.Stderr, "poise bench: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func benchConfigOf(shape, submitters string, duration time.Duration, accounts int, databaseURL string, overHTTP bool) (benchConfig, error) {
	cfg := benchConfig{duration: duration, accounts: accounts, databaseURL: databaseURL}
	for _, s := range strings.Split(shape, ",") {
		switch s = strings.TrimSpace(s); s {
		case "spread", "hot":
			cfg.shapes = append(cfg.shapes, bench.Shape(s))
		case "credits":
			if !overHTTP {
				return cfg, errors.New("--shape credits needs --http: the ledger alone has no orders to pay out of")
			}
			cfg.shapes = append(cfg.shapes, bench.Credits)
		case "both":
			cfg.shapes = append(cfg.shapes, bench.Spread, bench.Hot)
		case "all":
			cfg.shapes = append(cfg.shapes, bench.Spread, bench.Hot)
			if overHTTP {
				cfg.shapes = append(cfg.shapes, bench.Credits)
			}
		default:
			return cfg, fmt.Errorf("--shape must name spread, hot, credits, both or all, not %q", s)
		}
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

// withHTTP applies the flags of the HTTP load.
func (cfg *benchConfig) withHTTP(overHTTP bool, orders int, server, profileDir string) error {
	cfg.http, cfg.orders, cfg.server, cfg.profileDir = overHTTP, orders, server, profileDir
	if orders < 1 || orders > maxBenchOrders {
		return fmt.Errorf("--orders must be from 1 to %d", maxBenchOrders)
	}
	if !overHTTP && (server != "" || profileDir != "") {
		return errors.New("--server and --profile-dir apply only with --http")
	}
	return nil
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
