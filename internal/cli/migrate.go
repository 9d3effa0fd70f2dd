package cli

import (
	"context"
	"fmt"

	"github.com/poise-payments/poise/internal/store"
)

func runMigrate(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet(env, "migrate", "[flags]", serverEnvPrefix, `
Applies every database migration not yet applied, prints each one, and exits.
'poise serve' does the same at start unless given --no-migrate; run this
first when servers start with --no-migrate. Two processes migrating at once
is safe: each migration is applied exactly once.`)
	storage := addStorageFlags(fs)
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if err := storage.validate(); err != nil {
		return fs.fail(err)
	}
	db, err := storage.open(ctx, false)
	if err != nil {
		fmt.Fprintf(env.Stderr, "poise migrate: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	all, err := store.Migrations()
	if err != nil {
		fmt.Fprintf(env.Stderr, "poise migrate: %v\n", err)
		return exitFailure
	}
	names := make(map[int]string, len(all))
	for _, m := range all {
		names[m.Version] = m.Name
	}
	applied, err := db.Migrate(ctx)
	for _, v := range applied {
		fmt.Fprintf(env.Stdout, "applied %04d_%s\n", v, names[v])
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "poise migrate: %v\n", err)
		return exitFailure
	}
	latest := 0
	if len(all) > 0 {
		latest = all[len(all)-1].Version
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.Stdout, "%s is up to date at version %d\n", storage.describe(), latest)
	} else {
		fmt.Fprintf(env.Stdout, "%s is at version %d\n", storage.describe(), latest)
	}
	return exitOK
}
