package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/poise-payments/poise/internal/bench"
)

// maxShownMismatches bounds how many escrow mismatches are printed: the
// first few say what went wrong, thousands would bury it.
const maxShownMismatches = 20

// benchHTTP starts a server on the configured store, makes a marketplace
// with its orders, runs every case against it, checks the escrow through
// the API, stops the server and verifies the ledger.
func benchHTTP(ctx context.Context, cfg benchConfig, env Env) error {
	binary := cfg.server
	if binary == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this program to start it as the server: %w (give --server)", err)
		}
		binary = self
	}
	storage := []string{"--database-url", cfg.databaseURL}
	storeName, where := "postgres", "PostgreSQL, the database --database-url names"
	if cfg.databaseURL == "" {
		dir, err := os.MkdirTemp("", "poise-bench-http-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		storage = []string{"--data-dir", dir}
		storeName, where = "sqlite", "SQLite in a fresh temporary directory"
	}
	if cfg.profileDir != "" {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return err
		}
	}

	srv, err := startServer(ctx, binary, storage, cfg.profileDir != "")
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.kill()
		}
	}()
	fmt.Fprintf(env.Stdout, "bench --http: %s; server %s (pid %d) at %s; %s per case\n",
		where, binary, srv.cmd.Process.Pid, srv.url, cfg.duration)

	began := time.Now()
	m, err := bench.SetUp(ctx, srv.url, cfg.orders)
	if err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	fmt.Fprintf(env.Stdout, "set up a marketplace, a tokenized card and %d orders in %s\n",
		m.Orders(), time.Since(began).Round(10*time.Millisecond))

	for _, shape := range cfg.shapes {
		for _, n := range cfg.submitters {
			line, err := benchHTTPCase(ctx, srv, m, storeName, cfg, bench.HTTPOptions{Shape: shape, Clients: n, Duration: cfg.duration})
			if err != nil {
				return fmt.Errorf("%s with %d clients: %w", shape, n, err)
			}
			fmt.Fprintln(env.Stdout, line)
		}
	}

	check, err := m.CheckEscrow(ctx)
	if err != nil {
		return fmt.Errorf("check the escrow: %w", err)
	}
	fmt.Fprintln(env.Stdout, check)
	for i, mm := range check.Mismatches {
		if i == maxShownMismatches {
			fmt.Fprintf(env.Stdout, "  ... and %d more\n", len(check.Mismatches)-i)
			break
		}
		fmt.Fprintln(env.Stdout, "  "+mm)
	}
	stopped = true
	if err := srv.stop(); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, srv.logSummary())
	// The server has drained its queue: every acknowledged operation is in
	// the ledger the verifier reads.
	// Only the flags above say which database: a POISE_DATABASE_URL in the
	// shell must not send the verifier elsewhere.
	verifyEnv := env
	verifyEnv.Lookup = func(string) (string, bool) { return "", false }
	if code := runVerify(ctx, storage, verifyEnv); code != exitOK {
		return errors.New("poise verify found the ledger inconsistent")
	}
	if len(check.Mismatches) > 0 {
		return errors.New("the escrow does not match the acknowledged operations")
	}
	return nil
}

// benchHTTPCase runs one case, with the server's peak memory measured over
// it and, when asked for, its CPU profiled throughout; it returns the
// case's line of the report.
func benchHTTPCase(ctx context.Context, srv *serverProcess, m *bench.Marketplace, storeName string, cfg benchConfig, opts bench.HTTPOptions) (string, error) {
	peakNote := ""
	if err := srv.resetPeakRSS(); err != nil {
		peakNote = " (since start)"
	}
	profiled := make(chan error, 1)
	if cfg.profileDir != "" {
		file := filepath.Join(cfg.profileDir, fmt.Sprintf("%s-%s-%d.pprof", storeName, opts.Shape, opts.Clients))
		go func() { profiled <- saveCPUProfile(ctx, srv.profilesAddr, opts.Duration, file) }()
	} else {
		profiled <- nil
	}
	r, err := m.Run(ctx, opts)
	if err != nil {
		return "", err
	}
	if err := <-profiled; err != nil {
		return "", fmt.Errorf("CPU profile: %w", err)
	}
	line := fmt.Sprintf("%-8s %s", storeName, r)
	if peak, err := srv.peakRSSBytes(); err == nil {
		line += fmt.Sprintf("  server peak RSS%s %d MB", peakNote, peak>>20)
	}
	return line, nil
}

// saveCPUProfile asks the server for a CPU profile of the next duration
// (whole seconds, at least one) and writes it to file.
func saveCPUProfile(ctx context.Context, addr string, duration time.Duration, file string) error {
	seconds := max(1, int(math.Round(duration.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
