// Command poise is Poise's one binary: the server and its operational
// commands. Everything it does lives in internal/cli; run 'poise --help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/poise-payments/poise/internal/cli"
)

// version is stamped at build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/poise
//
// Unstamped builds report what the Go toolchain recorded.
var version string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful stop, a second one
		// kills the process the default way.
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], cli.ProcessEnv(cli.VersionOf(version)))
	stop()
	os.Exit(code)
}
