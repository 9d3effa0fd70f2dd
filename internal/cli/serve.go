package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/server"
)

// defaultListen keeps a zero-configuration server private to the machine
// it runs on; exposing it is a decision, made with --listen :5000.
const defaultListen = "127.0.0.1:5000"

// drainTimeout bounds how long the committer may take to finish queued
// work at shutdown. The queue holds a few batches, each one commit, so
// anything slower means the database is gone and waiting will not help.
const drainTimeout = 30 * time.Second

func runServe(ctx context.Context, args []string, env Env) int {
	cfg, ok, code := parseServe(args, env)
	if !ok {
		return code
	}
	log := newLogger(env.Stderr, cfg.logLevel)
	if err := runServer(ctx, log, cfg); err != nil {
		log.Error("poise stopped on an error", "err", err)
		return exitFailure
	}
	return exitOK
}

// parseServe reads serve's flags and variables; ok is false when the server
// should not start, with code the exit code.
func parseServe(args []string, env Env) (cfg serverConfig, ok bool, code int) {
	fs := newFlagSet(env, "serve", "[flags]", serverEnvPrefix, `
Runs the Poise server until SIGINT or SIGTERM. With no flags it keeps its data
in SQLite under ./poise-data and listens on `+defaultListen+`; give
--database-url to run on PostgreSQL. Migrations are applied at start unless
--no-migrate is given. Logs are JSON lines on stderr.

On SIGINT or SIGTERM it stops taking requests, lets those in flight finish,
then drains the write path, so that every acknowledged transfer is committed.
Every minute it expires due holds and deletes idempotency records past
their retention.`)
	listen := fs.String("listen", defaultListen, "`address` (host:port) the HTTP server listens on; :5000 for every interface")
	storage := addStorageFlags(fs)
	noMigrate := fs.Bool("no-migrate", false, "do not apply migrations at start (apply them with 'poise migrate')")
	logLevel := fs.String("log-level", "info", "least `level` logged: debug, info, warn or error")
	if ok, code := fs.parse(args); !ok {
		return cfg, false, code
	}
	if err := storage.validate(); err != nil {
		return cfg, false, fs.fail(err)
	}
	cfg = serverConfig{listen: *listen, storage: storage, migrate: !*noMigrate, version: env.Version}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, false, fs.fail(fmt.Errorf("--log-level: %v", err))
	}
	return cfg, true, exitOK
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

type serverConfig struct {
	listen   string
	storage  storageFlags
	migrate  bool
	version  string
	logLevel slog.Level
}

// runServer opens the store, serves until ctx ends, and shuts down in the
// order that loses nothing: HTTP first (no new work), then upkeep, then
// the committer (queued work committed), then the store.
func runServer(ctx context.Context, log *slog.Logger, cfg serverConfig) error {
	log.Info("starting poise", "version", cfg.version, "database", cfg.storage.describe())
	db, err := cfg.storage.open(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		log.Info("migrations applied", "versions", applied)
	}
	clk := clock.System()
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	srv, err := server.New(server.Options{Logger: log, Store: db, Ledger: l})
	if err != nil {
		l.Close(ctx)
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		l.Close(ctx)
		return err
	}
	log.Info("listening", "addr", ln.Addr().String())

	upkeepCtx, stopUpkeep := context.WithCancel(ctx)
	upkeepDone := make(chan struct{})
	go func() {
		defer close(upkeepDone)
		(&upkeep{log: log, ledger: l, records: db, clock: clk}).run(upkeepCtx)
	}()

	serveErr := srv.Serve(ctx, ln)
	stopUpkeep()
	<-upkeepDone
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	drainErr := l.Close(drainCtx)
	if serveErr != nil {
		return serveErr
	}
	if drainErr != nil {
		return fmt.Errorf("drain the committer: %w", drainErr)
	}
	log.Info("stopped cleanly")
	return nil
}
