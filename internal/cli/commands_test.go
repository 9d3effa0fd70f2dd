package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/cli"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// output is a writer several goroutines may use at once, as a server's
// logger and a test reading its logs do.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// run runs a poise command with vars as its whole environment.
func run(t *testing.T, ctx context.Context, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs output
	env := cli.Env{
		Lookup:  func(name string) (string, bool) { v, ok := vars[name]; return v, ok },
		Stdout:  &out,
		Stderr:  &errs,
		Version: "v0.0.0-test",
	}
	code = cli.Run(ctx, args, env)
	return code, out.String(), errs.String()
}

// storageArgs points a command at the store behind u, as storetest made it.
func storageArgs(kind, u string) []string {
	if kind == "sqlite" {
		// storetest names the file as the data directory would.
		return []string{"--data-dir", filepath.Dir(u)}
	}
	return []string{"--database-url", u}
}

func TestVerifyDetectsATamperedBalance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		u := storetest.URL(t, kind)
		db := storetest.OpenURL(t, u)
		l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
		card, _ := l.CreateAccount(ctx, ledger.Account{Owner: "MP1", Kind: "card", Currency: "USD", MayGoNegative: true})
		escrow, _ := l.CreateAccount(ctx, ledger.Account{Owner: "MP1", Kind: "escrow", Currency: "USD"})
		bank, err := l.CreateAccount(ctx, ledger.Account{Owner: "MP1", Kind: "bank", Currency: "USD", MayGoNegative: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range [][2]string{{card.ID, escrow.ID}, {escrow.ID, bank.ID}} {
			if _, err := l.Transfer(ctx, ledger.TransferRequest{Postings: []ledger.Posting{
				{AccountID: p[0], AmountMinor: -1_000}, {AccountID: p[1], AmountMinor: 1_000}}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}

		code, stdout, stderr := run(t, ctx, nil, append([]string{"verify"}, storageArgs(kind, u)...)...)
		if code != 0 || !strings.Contains(stdout, "ledger verified: 3 accounts and 2 transfers ok") {
			t.Fatalf("verify of a sound ledger = %d\n%s%s", code, stdout, stderr)
		}

		// A balance changed behind the ledger's back, as a bad manual fix would.
		err = db.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE accounts SET posted = posted + 1 WHERE id = ?", escrow.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr = run(t, ctx, nil, append([]string{"verify"}, storageArgs(kind, u)...)...)
		if code != 1 {
			t.Fatalf("verify of a tampered ledger exited %d, want 1\n%s%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "mismatch: "+escrow.ID+": ") || !strings.Contains(stdout, "FAILED") {
			t.Errorf("verify does not name the tampered account:\n%s", stdout)
		}
	})
}

func TestVerifyRefusesAMissingDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing-here")
	code, _, stderr := run(t, context.Background(), nil, "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(stderr, "no database at") {
		t.Fatalf("verify of a missing database = %d %s", code, stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("verify created the data directory it was asked to inspect")
	}
}

func TestMigratePrintsWhatItApplied(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := run(t, context.Background(), nil, "migrate", "--data-dir", dir)
	if code != 0 || !strings.Contains(stdout, "applied 0001_ledger\n") {
		t.Fatalf("first migrate = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = run(t, context.Background(), nil, "migrate", "--data-dir", dir)
	if code != 0 || strings.Contains(stdout, "applied") || !strings.Contains(stdout, "up to date") {
		t.Fatalf("second migrate = %d\n%s", code, stdout)
	}
}

func TestEnvironmentSetsFlagsAndTheCommandLineWins(t *testing.T) {
	fromEnv, fromFlag := t.TempDir(), t.TempDir()
	vars := map[string]string{"POISE_DATA_DIR": fromEnv}
	if code, _, stderr := run(t, context.Background(), vars, "migrate"); code != 0 {
		t.Fatalf("migrate = %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(fromEnv, "poise.db")); err != nil {
		t.Errorf("POISE_DATA_DIR was not used: %v", err)
	}
	if code, _, stderr := run(t, context.Background(), vars, "migrate", "--data-dir", fromFlag); code != 0 {
		t.Fatalf("migrate = %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(fromFlag, "poise.db")); err != nil {
		t.Errorf("--data-dir did not win over POISE_DATA_DIR: %v", err)
	}
}

func TestABadVariableIsAUsageError(t *testing.T) {
	code, _, stderr := run(t, context.Background(), map[string]string{"POISE_NO_MIGRATE": "maybe"}, "serve")
	if code != 2 || !strings.Contains(stderr, "POISE_NO_MIGRATE") {
		t.Fatalf("serve with POISE_NO_MIGRATE=maybe = %d %s", code, stderr)
	}
}

// A shell set up for a server must not aim a benchmark at its database.
func TestBenchIgnoresTheServersDatabaseVariable(t *testing.T) {
	vars := map[string]string{"POISE_DATABASE_URL": "postgres://nobody@127.0.0.1:1/production"}
	code, stdout, stderr := run(t, context.Background(), vars,
		"bench", "--shape", "hot", "--submitters", "2", "--duration", "100ms", "--accounts", "10")
	if code != 0 || !strings.Contains(stdout, "SQLite") || !regexp.MustCompile(`(?m)^hot +submitters=2 `).MatchString(stdout) {
		t.Fatalf("bench = %d\n%s%s", code, stdout, stderr)
	}
}

func TestBenchReadsItsOwnVariables(t *testing.T) {
	code, _, stderr := run(t, context.Background(), map[string]string{"POISE_BENCH_SHAPE": "sideways"}, "bench")
	if code != 2 || !strings.Contains(stderr, "sideways") {
		t.Fatalf("bench with POISE_BENCH_SHAPE=sideways = %d %s", code, stderr)
	}
}

func TestHelpIsCompleteForEveryCommand(t *testing.T) {
	ctx := context.Background()
	code, root, _ := run(t, ctx, nil, "--help")
	if code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	want := map[string][]string{
		"serve":   {"--listen", "POISE_LISTEN", "127.0.0.1:5000", "--data-dir", "POISE_DATA_DIR", "./poise-data", "--database-url", "POISE_DATABASE_URL", "--no-migrate", "POISE_NO_MIGRATE", "--log-level", "POISE_LOG_LEVEL", "--pprof", "POISE_PPROF", "--write-admission-timeout", "POISE_WRITE_ADMISSION_TIMEOUT", "250ms", "--open-signup", "POISE_OPEN_SIGNUP", "--operator-token", "POISE_OPERATOR_TOKEN"},
		"migrate": {"--data-dir", "POISE_DATA_DIR", "--database-url", "POISE_DATABASE_URL"},
		"verify":  {"--data-dir", "POISE_DATA_DIR", "--database-url", "POISE_DATABASE_URL"},
		"bench": {"--shape", "POISE_BENCH_SHAPE", "--submitters", "POISE_BENCH_SUBMITTERS", "1,16,64", "--duration", "POISE_BENCH_DURATION", "--accounts", "POISE_BENCH_ACCOUNTS", "--database-url", "POISE_BENCH_DATABASE_URL",
			"--http", "POISE_BENCH_HTTP", "--orders", "POISE_BENCH_ORDERS", "--server", "POISE_BENCH_SERVER", "--profile-dir", "POISE_BENCH_PROFILE_DIR"},
		"version": {"Prints the version"},
	}
	for name, phrases := range want {
		if !strings.Contains(root, "  "+name+" ") {
			t.Errorf("root help does not list %s", name)
		}
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			code, stdout, stderr := run(t, ctx, nil, args...)
			if code != 0 || stderr != "" {
				t.Errorf("%v exited %d, stderr %q", args, code, stderr)
			}
			for _, p := range phrases {
				if !strings.Contains(stdout, p) {
					t.Errorf("%v does not mention %q", args, p)
				}
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"serve", "--no-such-flag"}, {"verify", "extra"}, {"serve", "--database-url", "mysql://x"}} {
		if code, _, stderr := run(t, context.Background(), nil, args...); code != 2 || stderr == "" {
			t.Errorf("%v exited %d with stderr %q, want 2 and a reason", args, code, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := run(t, context.Background(), nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "poise v0.0.0-test (go") {
		t.Fatalf("version = %d %q", code, stdout)
	}
	if got := cli.VersionOf("v1.2.3"); got != "v1.2.3" {
		t.Errorf("a stamped version reads %q", got)
	}
	if got := cli.VersionOf(""); got == "" {
		t.Error("an unstamped build has no version")
	}
}

// serve starts with zero configuration but a data directory and a free
// port, answers, and stops cleanly when its context ends (as on SIGTERM).
func TestServeAnswersAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr output
	env := cli.Env{Lookup: func(string) (string, bool) { return "", false }, Stdout: &stdout, Stderr: &stderr, Version: "test"}
	exited := make(chan int, 1)
	go func() { exited <- cli.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dir}, env) }()

	addr := waitForListening(t, &stderr, exited)
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "poise.db")); err != nil {
		t.Errorf("no database in the data directory: %v", err)
	}

	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped cleanly"`) {
		t.Errorf("no clean stop in the logs:\n%s", stderr.String())
	}
}

// waitForListening reads the server's JSON logs until it says where it listens.
func waitForListening(t *testing.T, logs *output, exited <-chan int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
				return entry.Addr
			}
		}
		select {
		case code := <-exited:
			t.Fatalf("serve exited %d before listening\n%s", code, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not listen within 10s\n%s", logs.String())
	return ""
}
