package cli_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/poise-payments/poise/internal/cli"
)

// runAsPoise, set in a child's environment, makes this test binary behave
// as the poise binary (as cmd/poise does), so that tests can start a real
// 'poise serve' process without building one.
const runAsPoise = "CLI_TEST_RUN_AS_POISE"

func TestMain(m *testing.M) {
	if os.Getenv(runAsPoise) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, os.Args[1:], cli.ProcessEnv("test"))
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
