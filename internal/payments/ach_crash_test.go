package payments_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

const (
	closeChildURLEnv  = "POISE_ACH_CLOSE_CHILD_URL"
	closeChildTimeEnv = "POISE_ACH_CLOSE_CHILD_TIME"
)

// A process closing a window is killed with SIGKILL while it waits inside
// the close: on PostgreSQL mid-transaction (its insert of the window's row
// waits on a row the test holds), on SQLite at the start of its write
// transaction (the test holds the write lock). After the kill the window
// has no file; the next run, once the dead process's lease is over, writes
// exactly one, and the next window's close is scheduled once.
func TestACHWindowCloseKilledMidwayWritesOneFile(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		u := storetest.URL(t, kind)
		db := storetest.OpenURL(t, u)
		w := newLiveWorldOn(t, db)
		if _, err := w.s.SetACHSettings(ctx, w.mp, liveSettings); err != nil {
			t.Fatal(err)
		}
		alice := w.bank(t, "Alice Buyer", "123456789", "231380104", "checking", false)
		bz, _ := w.s.CreateVerification(ctx, w.mp, alice.ID)
		w.verify(t, bz.ID)
		in := amount(3_000)
		in.Instrument = alice.ID
		debit, err := w.s.Debit(ctx, w.mp, in)
		if err != nil {
			t.Fatal(err)
		}
		cutoff := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)
		at := cutoff.Add(5 * time.Minute)

		cmd := exec.Command(os.Args[0], "-test.run=^TestACHCloseChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), closeChildURLEnv+"="+u, closeChildTimeEnv+"="+at.Format(time.RFC3339Nano))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		for lines.Scan() && lines.Text() != "closing" {
		}
		if lines.Text() != "closing" {
			t.Fatal("the child never started the close")
		}
		// The child has claimed the job and waits. The test's own
		// transaction now holds what the child's close needs, then lets
		// the child go on into it.
		holding, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- db.Update(ctx, func(tx *store.Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO ach_windows (marketplace_id, cutoff_at_us, file_id, closed_at_us) VALUES (?, ?, '', 0)", w.mp, cutoff.UnixMicro()); err != nil {
					return err
				}
				close(holding)
				<-release
				return errHeldOnly
			})
		}()
		<-holding

		stdin.Write([]byte("go\n"))
		if kind == "postgres" {
			waitForLockWait(t, db)
		} else {
			time.Sleep(200 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(release)
		if err := <-done; err != errHeldOnly {
			t.Fatalf("the holding transaction: %v", err)
		}

		if fs := w.files(t); len(fs) != 0 {
			t.Fatalf("%d files after the kill", len(fs))
		}
		if d, _ := w.s.Get(ctx, w.mp, debit.ID); d.Fields["trace_number"] != nil {
			t.Fatal("a trace number survived the killed close")
		}
		// The dead process's lease runs out; this process takes the job.
		w.runAt(t, at.Add(2*time.Minute))
		fs := w.files(t)
		if len(fs) != 1 || fs[0].EntryCount != 3 {
			t.Fatalf("files after restart: %+v", fs)
		}
		readBack(t, w.s, w.mp, fs[0].ID)
		var next int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM jobs WHERE kind = ? AND status = 'pending'", payments.JobCloseACHWindow).Scan(&next); err != nil || next != 1 {
			t.Fatalf("%d next-window jobs pending, %v", next, err)
		}
	})
}

type heldOnly struct{}

func (heldOnly) Error() string { return "held only to block the child" }

var errHeldOnly error = heldOnly{}

// waitForLockWait returns once the child's PostgreSQL session waits on a
// lock with its insert of the window's row, inside its close's transaction.
func waitForLockWait(t *testing.T, db *store.DB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO ach_windows%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the child never waited inside its close")
}

// TestACHCloseChild is the process TestACHWindowCloseKilledMidwayWritesOneFile
// kills: it runs the due window close at the time it is given.
func TestACHCloseChild(t *testing.T) {
	u := os.Getenv(closeChildURLEnv)
	if u == "" {
		t.Skip("run by TestACHWindowCloseKilledMidwayWritesOneFile")
	}
	at, err := time.Parse(time.RFC3339Nano, os.Getenv(closeChildTimeEnv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(at)
	l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
	v, _ := vault.New(make([]byte, vault.KeyLen))
	s := payments.NewService(l, db, v)
	sched := scheduler.New(db, clk)
	sched.Handle(payments.JobCloseACHWindow, func(ctx context.Context, j scheduler.Job) error {
		os.Stdout.WriteString("closing\n")
		bufio.NewReader(os.Stdin).ReadString('\n')
		return s.CloseACHWindow(ctx, j)
	})
	sched.RunDue(ctx)
	// Reached only if the parent failed to kill this process.
	if strings.TrimSpace(os.Getenv(closeChildURLEnv)) != "" {
		t.Fatal("the close finished; the parent should have killed this process")
	}
}
