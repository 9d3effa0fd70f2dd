package cli

import (
	"io"
	"log/slog"
	"testing"
)

func TestEveryServeFlagHasItsVariable(t *testing.T) {
	vars := map[string]string{
		"POISE_LISTEN":       ":6000",
		"POISE_DATA_DIR":     "/var/lib/poise",
		"POISE_DATABASE_URL": "postgres://poise@db:5432/poise",
		"POISE_NO_MIGRATE":   "true",
		"POISE_LOG_LEVEL":    "debug",
		"POISE_PPROF":        "127.0.0.1:6060",
	}
	env := Env{Lookup: func(n string) (string, bool) { v, ok := vars[n]; return v, ok }, Stdout: io.Discard, Stderr: io.Discard}
	cfg, ok, code := parseServe(nil, env)
	if !ok {
		t.Fatalf("parse failed with %d", code)
	}
	if cfg.listen != ":6000" || *cfg.storage.dataDir != "/var/lib/poise" || cfg.storage.location() != "postgres://poise@db:5432/poise" ||
		cfg.migrate || cfg.logLevel != slog.LevelDebug || cfg.pprofListen != "127.0.0.1:6060" {
		t.Errorf("config from the environment: %+v, data dir %s, database %s", cfg, *cfg.storage.dataDir, cfg.storage.location())
	}

	cfg, _, _ = parseServe([]string{"--listen", "127.0.0.1:7000", "--no-migrate=false"}, env)
	if cfg.listen != "127.0.0.1:7000" || !cfg.migrate {
		t.Errorf("the command line did not win: listen %s, migrate %v", cfg.listen, cfg.migrate)
	}
}

func TestServeDefaultsNeedNoConfiguration(t *testing.T) {
	env := Env{Lookup: func(string) (string, bool) { return "", false }, Stdout: io.Discard, Stderr: io.Discard}
	cfg, ok, _ := parseServe(nil, env)
	if !ok || cfg.listen != "127.0.0.1:5000" || cfg.storage.location() != "poise-data/poise.db" || !cfg.migrate || cfg.logLevel != slog.LevelInfo {
		t.Errorf("defaults: ok=%v listen %s database %s migrate %v level %v", ok, cfg.listen, cfg.storage.location(), cfg.migrate, cfg.logLevel)
	}
}

// Profiles show the program's internals: serve refuses to offer them
// beyond the machine it runs on.
func TestServeProfilesOnlyOnLoopback(t *testing.T) {
	env := Env{Lookup: func(string) (string, bool) { return "", false }, Stdout: io.Discard, Stderr: io.Discard}
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:0": true, "127.0.0.2:6060": true,
		":6060": false, "0.0.0.0:6060": false, "10.1.2.3:6060": false, "example.com:6060": false, "127.0.0.1": false,
	} {
		_, parsed, code := parseServe([]string{"--pprof", addr}, env)
		if parsed != ok || (!ok && code != exitUsage) {
			t.Errorf("--pprof %s: accepted %v (exit %d), want accepted %v", addr, parsed, code, ok)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.8.0.1:5000": true, "[::1]:5000": true, "localhost:5000": true, "LOCALHOST:1": true,
		":5000": false, "0.0.0.0:5000": false, "[::]:5000": false, "10.0.0.5:5000": false, "example.com:5000": false, "garbage": false,
	} {
		if got := loopbackOnly(addr); got != want {
			t.Errorf("loopbackOnly(%q) = %v, want %v", addr, got, want)
		}
	}
}
