package cli

import (
	"context"
	"fmt"
	"github.com/poise-payments/poise/internal/merchants"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/poise-payments/poise/internal/api/balanced"
	"github.com/poise-payments/poise/internal/api/paynet"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/dashboard"
	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/server"
	"github.com/poise-payments/poise/internal/vault"
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
	if gc, limit := tuneGC(env.Lookup); gc > 0 || limit > 0 {
		log.Debug("garbage collector tuned for a server", "gc_percent", gc, "memory_limit_bytes", limit)
	}
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
	admission := fs.Duration("write-admission-timeout", ledger.DefaultAdmissionTimeout, "how long a request may wait for the write path to start its write before it is answered 503 with Retry-After (a `duration` such as 250ms)")
	openSignup := fs.Bool("open-signup", false, "let anyone who reaches the server open a marketplace (POST /api_keys without a key): a declared test deployment; always so on a loopback --listen address")
	operatorToken := fs.String("operator-token", "", "the `secret` that may open a marketplace on a server not open to signup, sent to POST /api_keys as 'Authorization: Bearer <secret>' (or curl -u :<secret>); empty: nobody may")
	encryptionKey := fs.String("encryption-key", "", "64 hex digits: the AES-256 `key` card and account numbers are sealed with; empty means a key file created (mode 0600) in --data-dir")
	pprofListen := fs.String("pprof", "", "loopback `address` (127.0.0.1:6060) serving Go's runtime profiles under /debug/pprof/; empty means off")
	if ok, code := fs.parse(args); !ok {
		return cfg, false, code
	}
	if err := storage.validate(); err != nil {
		return cfg, false, fs.fail(err)
	}
	if *admission <= 0 {
		return cfg, false, fs.fail(fmt.Errorf("--write-admission-timeout must be positive, not %s", *admission))
	}
	if *pprofListen != "" {
		if err := server.CheckProfilesAddress(*pprofListen); err != nil {
			return cfg, false, fs.fail(fmt.Errorf("--pprof: %v", err))
		}
	}
	cfg = serverConfig{listen: *listen, storage: storage, migrate: !*noMigrate, version: env.Version, encryptionKey: *encryptionKey,
		pprofListen: *pprofListen, admission: *admission, openSignup: *openSignup, operatorToken: *operatorToken}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, false, fs.fail(fmt.Errorf("--log-level: %v", err))
	}
	return cfg, true, exitOK
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

type serverConfig struct {
	encryptionKey string
	admission     time.Duration
	openSignup    bool
	operatorToken string
	listen        string
	// pprofListen, when set, is a loopback address serving runtime profiles.
	pprofListen string
	storage     storageFlags
	migrate     bool
	version     string
	logLevel    slog.Level
}

// signup says who may open a marketplace: anyone on a loopback address
// (only this machine reaches it) or in a declared test deployment; the
// holder of the operator token elsewhere.
func (cfg serverConfig) signup() balanced.Signup {
	return balanced.Signup{Open: cfg.openSignup || loopbackOnly(cfg.listen), OperatorToken: cfg.operatorToken}
}

// loopbackOnly reports whether a listen address is reachable only from
// this machine. An empty host (":5000") is every interface.
func loopbackOnly(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// How often due work and callback deliveries are looked for. A second
// keeps webhooks prompt; an empty look is one indexed query.
const (
	schedulerInterval = time.Second
	deliveryInterval  = time.Second
)

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
	key, err := vault.LoadKey(cfg.encryptionKey, *cfg.storage.dataDir)
	if err != nil {
		return err
	}
	v, err := vault.New(key)
	if err != nil {
		return err
	}
	clk := clock.System()
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{AdmissionTimeout: cfg.admission})
	svc := payments.NewService(l, db, v)
	// Merchant balances receive every Balanced transaction that reaches a
	// merchant; a service without them, or over a store that cannot keep
	// them, must not serve.
	mer := merchants.New(svc, db, v)
	if err := svc.Ready(ctx); err != nil {
		l.Close(ctx)
		return fmt.Errorf("merchant balances: %w", err)
	}
	// Before any request: fingerprints stored before they were keyed are
	// rewritten once, which needs the encryption key a migration lacks.
	if n, err := svc.KeyFingerprints(ctx, db); err != nil {
		l.Close(ctx)
		return fmt.Errorf("key stored fingerprints: %w", err)
	} else if n > 0 {
		log.Info("rewrote unkeyed fingerprints", "instruments", n)
	}
	api := balanced.New(svc, mer, log)
	api.ShowDeliveries(db)
	signup := cfg.signup()
	api.SetSignup(signup)
	log.Info("who may open a marketplace", "anyone", signup.Open, "operator_token_set", signup.OperatorToken != "")
	balances := paynet.New(svc, mer, &paynet.Verifier{Secrets: mer, Nonces: db, Clock: clk}, log)
	deliverer := events.NewDeliverer(db, clk, nil, api.RenderEvent)
	dash, err := dashboard.New(svc, mer, l, dashboard.Options{Logger: log, Deliveries: db, History: db, Retrier: deliverer})
	if err != nil {
		l.Close(ctx)
		return err
	}
	srv, err := server.New(server.Options{Logger: log, Store: db, Ledger: l, API: surfaces(api, balances, dash)})
	if err != nil {
		l.Close(ctx)
		return err
	}
	// A server upgraded from before balances were ledger accounts posts
	// the history of its merchants once, before it takes requests.
	posted, err := mer.PostPendingHistory(ctx)
	if err != nil {
		l.Close(ctx)
		return err
	}
	if posted > 0 {
		log.Info("balance history posted", "parties", posted)
	}
	sched := scheduler.New(db, clk)
	sched.Handle(payments.JobSettleACH, svc.SettleACH)
	sched.Handle(payments.JobCloseACHWindow, svc.CloseACHWindow)
	sched.Handle(payments.JobSandboxReturn, svc.SandboxReturn)
	sched.Handle(payments.JobFundsAging, svc.FundsAging)
	sched.Handle(payments.JobEndDispute, svc.EndDispute)
	sched.Handle(merchants.JobScheduledAdjustment, mer.RunScheduledAdjustment)
	sched.Handle(merchants.JobBalanceRelease, mer.RunBalanceRelease)
	sched.Handle(payments.JobExpireHold, svc.ExpireHold)
	// Profiles are served before the API listens, so that whoever waits for
	// "listening" can profile from the first request on.
	profilesCtx, stopProfiles := context.WithCancel(ctx)
	profilesDone, err := serveProfiles(profilesCtx, log, cfg.pprofListen)
	if err != nil {
		stopProfiles()
		l.Close(ctx)
		return err
	}
	defer func() {
		stopProfiles()
		<-profilesDone
	}()
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
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			sched.Run(upkeepCtx, schedulerInterval, svc.Wake(), func(err error) { log.Error("scheduler", "error", err) })
		}()
		go func() {
			defer wg.Done()
			deliverer.Run(upkeepCtx, deliveryInterval, func(err error) { log.Error("callback delivery", "error", err) })
		}()
		(&upkeep{log: log, ledger: l, records: db, nonces: db, markers: db, clock: clk}).run(upkeepCtx)
		wg.Wait()
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

// serveProfiles serves runtime profiles on addr until ctx ends, when addr
// is set; the channel closes once they are no longer served.
func serveProfiles(ctx context.Context, log *slog.Logger, addr string) (<-chan struct{}, error) {
	done := make(chan struct{})
	if addr == "" {
		close(done)
		return done, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof: %w", err)
	}
	log.Info("serving profiles", "addr", ln.Addr().String())
	go func() {
		defer close(done)
		if err := server.ServeProfiles(ctx, ln, log); err != nil {
			log.Error("profiles", "error", err)
		}
	}()
	return done, nil
}

// surfaces routes the merchant balance API's paths to it, the dashboard's
// pages to the dashboard, and every other path to the Balanced API. (A
// plain prefix test: http.ServeMux would answer some paths with redirects,
// which the Balanced clients refuse.)
func surfaces(balancedAPI, balanceAPI, dash http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, paynet.Prefix) || r.URL.Path == paynet.AdjustmentsPath {
			balanceAPI.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == strings.TrimSuffix(dashboard.Prefix, "/") || strings.HasPrefix(r.URL.Path, dashboard.Prefix) {
			dash.ServeHTTP(w, r)
			return
		}
		balancedAPI.ServeHTTP(w, r)
	})
}
