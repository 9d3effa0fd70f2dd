package ledger_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

const (
	crashURLEnv      = "POISE_CRASH_CHILD_URL"
	crashAccountsEnv = "POISE_CRASH_CHILD_ACCOUNTS"
	// crashAcksBeforeKill is how many acknowledged transfers the parent
	// waits for before it kills the child: enough for many batches.
	crashAcksBeforeKill = 3000
)

// A child process runs the committer under load and reports, one line at
// a time, each transfer it was told committed ("ack ID") or refused
// ("refused ID"). The parent kills it with SIGKILL mid-stream, then checks
// that every acknowledged transfer survived, no refused one exists, and the
// journal verifies.
func TestCrashKeepsEveryAcknowledgedTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	storetest.Each(t, func(t *testing.T, kind string) {
		u := storetest.URL(t, kind)
		f := newFixtureOn(t, storetest.OpenURL(t, u))
		source, escrow, bank := f.account("mp1", "card", true), f.account("mp1", "escrow", false), f.account("mp1", "bank", true)
		f.mustMove(source, escrow, 1_000)

		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashURLEnv+"="+u, crashAccountsEnv+"="+strings.Join([]string{source, escrow, bank}, ","))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked, refused := map[string]bool{}, map[string]bool{}
		scanner := bufio.NewScanner(out)
		killed := false
		for scanner.Scan() {
			verb, tid, ok := strings.Cut(scanner.Text(), " ")
			if !ok {
				continue
			}
			switch verb {
			case "ack":
				acked[tid] = true
			case "refused":
				refused[tid] = true
			}
			if !killed && len(acked) >= crashAcksBeforeKill {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("the child stopped after %d acks without being killed", len(acked))
		}
		if len(refused) == 0 {
			t.Fatalf("no transfer was refused; the load tests nothing")
		}

		db := storetest.OpenURL(t, u)
		ctx := context.Background()
		for tid := range acked {
			if _, err := db.Ledger().Transfer(ctx, tid); err != nil {
				t.Fatalf("acknowledged transfer %s is missing after the crash: %v", tid, err)
			}
		}
		for tid := range refused {
			if _, err := db.Ledger().Transfer(ctx, tid); err != ledger.ErrNotFound {
				t.Fatalf("refused transfer %s exists after the crash: %v", tid, err)
			}
		}
		found, err := ledger.Verify(ctx, db.Ledger())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range found {
			t.Errorf("verify after crash: %s", m)
		}
		t.Logf("%d acknowledged, %d refused before SIGKILL", len(acked), len(refused))
	})
}

// TestCrashChild is the child process of the crash test; it does nothing
// unless started by it.
func TestCrashChild(t *testing.T) {
	u := os.Getenv(crashURLEnv)
	if u == "" {
		t.Skip("run by TestCrashKeepsEveryAcknowledgedTransfer")
	}
	ids := strings.Split(os.Getenv(crashAccountsEnv), ",")
	source, escrow, bank := ids[0], ids[1], ids[2]
	db, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	report := func(verb, tid string) {
		mu.Lock()
		fmt.Fprintln(w, verb, tid)
		w.Flush()
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				tid := fmt.Sprintf("TRcrash%02d%07d", g, i)
				var postings []ledger.Posting
				if i%3 == 0 {
					// Payouts that soon drain the escrow and then get refused.
					postings = []ledger.Posting{{AccountID: escrow, AmountMinor: -10}, {AccountID: bank, AmountMinor: 10}}
				} else {
					postings = []ledger.Posting{{AccountID: source, AmountMinor: -1}, {AccountID: escrow, AmountMinor: 1}}
				}
				_, err := l.Transfer(context.Background(), ledger.TransferRequest{ID: tid, Postings: postings})
				switch {
				case err == nil:
					report("ack", tid)
				case apperr.Is(err, apperr.InsufficientFunds):
					report("refused", tid)
				case apperr.Is(err, apperr.Overloaded):
					time.Sleep(time.Millisecond)
				default:
					fmt.Fprintln(os.Stderr, "crash child:", err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
