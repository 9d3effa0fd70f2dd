// Package cli is the poise command: its subcommands, their flags and
// environment variables, and the wiring of store, ledger and server they
// start. Each command is a function of its arguments and environment that
// returns an exit code, so tests run commands without building or
// executing a binary; cmd/poise only hands it the process's own.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK = 0
	// exitFailure: the command ran and failed (or, for verify, found the
	// ledger inconsistent).
	exitFailure = 1
	// exitUsage: the command line or an environment variable is wrong.
	exitUsage = 2
)

// Env is what a command sees of its process.
type Env struct {
	// Lookup reads an environment variable, as os.LookupEnv does.
	Lookup func(name string) (string, bool)
	Stdout io.Writer
	Stderr io.Writer
	// Version is the binary's version; see VersionOf.
	Version string
}

// ProcessEnv is the Env of the running process.
func ProcessEnv(version string) Env {
	return Env{Lookup: os.LookupEnv, Stdout: os.Stdout, Stderr: os.Stderr, Version: version}
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env Env) int
}

func commands() []command {
	return []command{
		{"serve", "run the server", runServe},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"verify", "recompute every balance from the journal and compare", runVerify},
		{"bench", "measure the write path: the ledger alone, or a server over HTTP", runBench},
		{"get-balance", "ask a server for a merchant's or manager's balances (signed)", runGetBalance},
		{"ach", "list and download a live marketplace's NACHA files", runACH},
		{"version", "print the version", runVersion},
	}
}

// Run runs the command named by args[0] with the rest of args, and returns
// the process's exit code. A command that runs until stopped (serve) stops
// when ctx ends.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		rootUsage(env.Stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		rootUsage(env.Stdout)
		return exitOK
	case "help":
		if len(args) == 1 {
			rootUsage(env.Stdout)
			return exitOK
		}
		return Run(ctx, []string{args[1], "--help"}, env)
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args[1:], env)
		}
	}
	fmt.Fprintf(env.Stderr, "poise: unknown command %q\n\n", name)
	rootUsage(env.Stderr)
	return exitUsage
}

func rootUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`poise is a self-hosted payments, escrow and merchant-balance server.

Usage:
  poise <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString(`  help      print this help; 'poise help <command>' prints a command's

Every flag can also be set by an environment variable: POISE_ followed by the
flag's name in capitals with '-' as '_' (--database-url is POISE_DATABASE_URL;
bench's flags use POISE_BENCH_). A flag on the command line wins over its
variable. Run 'poise <command> --help' for a command's flags and defaults.

With no configuration, 'poise serve' keeps its data in SQLite under
./poise-data and listens on ` + defaultListen + `.
`)
	io.WriteString(w, b.String())
}
