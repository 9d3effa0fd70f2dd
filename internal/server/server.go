// Package server is Poise's HTTP server: the operational endpoints
// (/healthz, /readyz, /metrics) every deployment needs, the request metrics
// around every handler, and a graceful start and stop. The API surfaces
// mount under it; it knows nothing of their routes.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/poise-payments/poise/internal/ledger"
)

// Limits of the HTTP server.
const (
	// readHeaderTimeout bounds how long a client may take to send its
	// headers, so idle half-open connections (slowloris) cannot pile up.
	// Ten seconds is far longer than any real client over any real link.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes keep-alive connections nobody uses; two minutes
	// outlives the keep-alive pools of common clients and load balancers.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds request headers; API keys, signatures and
	// idempotency keys fit many times over in 64 KiB.
	maxHeaderBytes = 64 << 10
	// ShutdownTimeout bounds how long requests in flight may finish after a
	// stop is asked for. Every API request is one short database
	// transaction, so requests still running after this long are stuck.
	ShutdownTimeout = 30 * time.Second
)

// Pinger is the store as readiness sees it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options wires a server.
type Options struct {
	Logger *slog.Logger
	// Store must answer a ping for the server to be ready.
	Store Pinger
	// Ledger must accept work through its committer for the server to be
	// ready; its committer's counters are exported as metrics.
	Ledger *ledger.Ledger
	// API serves every path the operational endpoints do not. Nil means
	// the server has no API (404 for everything else).
	API http.Handler
}

// Server is Poise's HTTP handler with its metrics.
type Server struct {
	log     *slog.Logger
	handler http.Handler
}

// New builds a server. Each server has a registry of its own, so two
// servers in one process (as in tests) never share or clash on metrics.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Store == nil || opts.Ledger == nil {
		return nil, errors.New("server: a store and a ledger are required")
	}
	reg := prometheus.NewRegistry()
	requests := newRequestMetrics()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCommitterCollector(opts.Ledger.Committer()),
		requests,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", handleHealth)
	mux.Handle("GET /readyz", &readiness{log: opts.Logger, store: opts.Store, ledger: opts.Ledger})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelError)}))
	if opts.API != nil {
		mux.Handle("/", opts.API)
	}
	return &Server{log: opts.Logger, handler: stampArrival(requests.instrument(asSent(mux, opts.API)))}, nil
}

// asSent hands a path that is not in its clean form ("/customers/../cards",
// "//cards") to the API as it was sent. A ServeMux would answer it with a
// 307 to the cleaned path, which a client that follows redirects repeats,
// body and all, at an endpoint it never named; the API matches paths as
// sent and answers 404.
func asSent(mux *http.ServeMux, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if api != nil && r.Method != http.MethodConnect && !isClean(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// isClean reports whether p is what ServeMux would leave alone: rooted, and
// free of empty, "." and ".." segments (a trailing slash is kept).
func isClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// stampArrival records when each request arrived, so that the ledger's
// admission timeout counts the time a request spent before it asked to
// write (authentication, reads) as part of its wait.
func stampArrival(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(ledger.WithArrival(r.Context(), time.Now())))
	})
}

// Handler returns the server's handler, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until ctx ends, then stops taking new
// connections and waits up to ShutdownTimeout for requests in flight. It
// returns nil after a clean stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests outlive the serve context: they finish during shutdown
		// instead of being cancelled halfway through.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	failed := make(chan error, 1)
	go func() { failed <- srv.Serve(ln) }()
	select {
	case err := <-failed:
		return err
	case <-ctx.Done():
	}
	s.log.Info("stopping the HTTP server", "timeout", ShutdownTimeout.String())
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(stopCtx); err != nil {
		srv.Close()
		return err
	}
	if err := <-failed; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
