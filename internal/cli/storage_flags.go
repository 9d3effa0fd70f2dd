package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/poise-payments/poise/internal/store"
)

// Where data lives when nothing is configured: a directory next to where
// poise runs, so a first run needs no setup and leaves nothing elsewhere.
const (
	defaultDataDir = "./poise-data"
	sqliteFileName = "poise.db"
)

// storageFlags say which database a command uses: PostgreSQL when a URL
// is given, else the SQLite file in the data directory.
type storageFlags struct {
	dataDir     *string
	databaseURL *string
}

func addStorageFlags(fs *flagSet) storageFlags {
	return storageFlags{
		dataDir: fs.String("data-dir", defaultDataDir,
			"`directory` for the embedded SQLite database ("+sqliteFileName+"); unused with --database-url"),
		databaseURL: fs.String("database-url", "",
			"PostgreSQL `url` (postgres://user:password@host:5432/db); empty means SQLite in --data-dir"),
	}
}

// validate checks the flags' values once parsed.
func (s storageFlags) validate() error { return checkDatabaseURL(*s.databaseURL) }

// checkDatabaseURL accepts an empty URL (SQLite) or a PostgreSQL one.
// Anything else would be taken by store.Open for a SQLite file name.
func checkDatabaseURL(u string) error {
	if u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return errors.New("--database-url must be a postgres:// or postgresql:// URL")
	}
	return nil
}

// location is what store.Open takes.
func (s storageFlags) location() string {
	if *s.databaseURL != "" {
		return *s.databaseURL
	}
	return filepath.Join(*s.dataDir, sqliteFileName)
}

// describe names the database for logs and messages, without a password.
func (s storageFlags) describe() string {
	if *s.databaseURL == "" {
		return "SQLite " + s.location()
	}
	u, err := url.Parse(*s.databaseURL)
	if err != nil {
		return "PostgreSQL (unparsable URL)"
	}
	return "PostgreSQL " + u.Redacted()
}

// open opens the database. With mustExist, a missing SQLite file is an
// error rather than a new empty database, so that inspecting the wrong
// directory says so instead of reporting on nothing.
func (s storageFlags) open(ctx context.Context, mustExist bool) (*store.DB, error) {
	if mustExist && *s.databaseURL == "" {
		if _, err := os.Stat(s.location()); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s: give --data-dir or --database-url, or start with 'poise migrate'", s.location())
		}
	}
	db, err := store.Open(ctx, s.location())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.describe(), err)
	}
	return db, nil
}
