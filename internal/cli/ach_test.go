package cli_test

import (
	"context"
	"fmt"
	"github.com/poise-payments/poise/internal/achfile/achfiletest"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/ach"

	"github.com/poise-payments/poise/internal/api/balanced"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// poise ach files lists and downloads a live marketplace's files, and
// poise ach returns uploads what the bank sent back, against a real server.
func TestACHCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC))
		db := storetest.Open(t, kind)
		l := ledger.New(db.Ledger(), clk, ledger.CommitterOptions{})
		t.Cleanup(func() { l.Close(ctx) })
		v, _ := vault.New(make([]byte, vault.KeyLen))
		svc := payments.NewService(l, db, v)
		sched := scheduler.New(db, clk)
		sched.Handle(payments.JobCloseACHWindow, svc.CloseACHWindow)
		srv := httptest.NewServer(balanced.New(svc, merchants.New(svc, db, v), nil))
		t.Cleanup(srv.Close)

		key, secret, _ := svc.CreateAPIKey(ctx, nil, nil)
		mp, err := svc.CreateMarketplace(ctx, key, map[string]any{"production": true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetACHSettings(ctx, mp.ID, payments.ACHSettings{ODFIRouting: "121042882", CompanyID: "1234567890",
			CompanyName: "Rent Market", OriginName: "Rent Market Inc", DestinationName: "Wells Fargo"}); err != nil {
			t.Fatal(err)
		}
		bank, _ := svc.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "Alice", AccountNumber: "123456789", RoutingNumber: "231380104"})
		bz, err := svc.CreateVerification(ctx, mp.ID, bank.ID)
		if err != nil {
			t.Fatal(err)
		}
		clk.Set(time.Date(2026, 11, 25, 23, 40, 0, 0, time.UTC))
		if n, err := sched.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("close ran %d, %v", n, err)
		}
		files, _, _ := svc.ListACHFiles(ctx, mp.ID, 10, 0)
		if len(files) != 1 {
			t.Fatalf("%d files", len(files))
		}
		id := files[0].ID

		// The key comes from the environment, like every flag.
		vars := map[string]string{"POISE_CLIENT_URL": srv.URL, "POISE_CLIENT_API_KEY": secret}
		code, stdout, stderr := run(t, ctx, vars, "ach", "files")
		stored, _ := db.GetResource(ctx, mp.ID, bz.ID)
		deposits := payments.Int(stored.Private["amount_1"]) + payments.Int(stored.Private["amount_2"])
		if code != 0 || !strings.Contains(stdout, id) || !strings.Contains(stdout, fmt.Sprintf("%d.%02d", deposits/100, deposits%100)) {
			t.Fatalf("ach files exited %d: %s %s", code, stdout, stderr)
		}
		code, stdout, stderr = run(t, ctx, vars, "ach", "files", "--download", id)
		if code != 0 {
			t.Fatalf("download exited %d: %s", code, stderr)
		}
		file, err := ach.NewReader(strings.NewReader(stdout)).Read()
		if err != nil || file.Validate() != nil || file.Control.EntryAddendaCount != 2 {
			t.Fatalf("downloaded file: %v, %d entries", err, file.Control.EntryAddendaCount)
		}
		if code, _, stderr := run(t, ctx, vars, "ach", "files", "--download", "AF-nope"); code != 1 || !strings.Contains(stderr, "404") {
			t.Fatalf("missing file exited %d: %s", code, stderr)
		}
		if code, _, stderr := run(t, ctx, map[string]string{"POISE_CLIENT_URL": srv.URL}, "ach", "files"); code != 2 || !strings.Contains(stderr, "--api-key") {
			t.Fatalf("no key exited %d: %s", code, stderr)
		}

		path := filepath.Join(t.TempDir(), "returns.ach")
		first := file.Batches[0].GetEntries()[0]
		os.WriteFile(path, achfiletest.ReturnsFile(t, achfiletest.Entry{Trace: first.TraceNumber, Code: "R03", AmountMinor: int64(first.Amount)}), 0o600)
		code, stdout, stderr = run(t, ctx, vars, "ach", "returns", path)
		if code != 0 || !strings.Contains(stdout, "R03") || !strings.Contains(stdout, "applied") || !strings.Contains(stdout, bz.ID) {
			t.Fatalf("returns exited %d: %s %s", code, stdout, stderr)
		}
		if _, stdout, _ = run(t, ctx, vars, "ach", "returns", path); !strings.Contains(stdout, "already_applied") {
			t.Fatalf("second upload: %s", stdout)
		}
		garbage := filepath.Join(t.TempDir(), "garbage.ach")
		os.WriteFile(garbage, []byte("not nacha\n"), 0o600)
		if code, _, stderr := run(t, ctx, vars, "ach", "returns", garbage); code != 1 || !strings.Contains(stderr, "ach-file-not-valid") {
			t.Fatalf("garbage exited %d: %s", code, stderr)
		}
		for _, args := range [][]string{{"ach"}, {"ach", "frobnicate"}, {"ach", "returns"}, {"ach", "returns", "a", "b"}} {
			if code, _, _ := run(t, ctx, vars, args...); code != 2 {
				t.Errorf("%v exited %d, want a usage error", args, code)
			}
		}
		for _, sub := range []string{"files", "returns"} {
			code, stdout, _ := run(t, ctx, nil, "ach", sub, "--help")
			for _, p := range []string{"--url", "POISE_CLIENT_URL", "--api-key", "POISE_CLIENT_API_KEY"} {
				if code != 0 || !strings.Contains(stdout, p) {
					t.Errorf("ach %s --help does not mention %s", sub, p)
				}
			}
		}
	})
}
