// Package storetest opens real stores for tests: SQLite in a temporary
// directory, and PostgreSQL when POISE_TEST_POSTGRES_URL names a database.
// Each PostgreSQL test gets a schema of its own, dropped when it ends, so
// tests never see each other's rows.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/store"
)

// PostgresEnv names the variable holding the test PostgreSQL URL.
const PostgresEnv = "POISE_TEST_POSTGRES_URL"

// Kinds lists the stores tests run against.
var Kinds = []string{"sqlite", "postgres"}

// Each runs fn as a subtest once per store kind. A missing PostgreSQL skips
// its subtest locally but fails it in CI (CI=true), where it must be there.
func Each(t *testing.T, fn func(t *testing.T, kind string)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			if kind == "postgres" {
				RequirePostgres(t)
			}
			fn(t, kind)
		})
	}
}

// RequirePostgres skips (or, in CI, fails) a test when no PostgreSQL is configured.
func RequirePostgres(t testing.TB) {
	t.Helper()
	if os.Getenv(PostgresEnv) == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must test PostgreSQL", PostgresEnv)
		}
		t.Skipf("%s is not set", PostgresEnv)
	}
}

// URL returns a fresh, migrated database URL of the given kind for this
// test: a file in a temp dir, or a new PostgreSQL schema. Several Opens of
// the same URL share the data, as two processes would.
func URL(t testing.TB, kind string) string {
	t.Helper()
	ctx := context.Background()
	var u string
	switch kind {
	case "sqlite":
		u = filepath.Join(t.TempDir(), "poise.db")
	case "postgres":
		RequirePostgres(t)
		u = newSchema(t, os.Getenv(PostgresEnv))
	default:
		t.Fatalf("unknown store kind %q", kind)
	}
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", kind, err)
	}
	return u
}

// Open returns a fresh, migrated store of the given kind, closed at cleanup.
func Open(t testing.TB, kind string) *store.DB {
	t.Helper()
	return OpenURL(t, URL(t, kind))
}

// OpenURL opens another connection to a store made by URL.
func OpenURL(t testing.TB, u string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newSchema creates a schema for one test and returns a URL whose
// connections use it.
func newSchema(t testing.TB, base string) string {
	t.Helper()
	schema := "t_" + strings.ToLower(id.New(""))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return fmt.Sprint(u)
}
