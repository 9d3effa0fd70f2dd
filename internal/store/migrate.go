package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema change, from migrations/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("store: migration file %q is not named NNNN_name.sql", name)
		}
		body, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: rest, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("store: two migrations have version %d", out[i].Version)
		}
	}
	return out, nil
}

// Migrate applies every migration not yet applied, each in a transaction of
// its own together with its row in schema_migrations. The row is written
// first: a second process migrating at the same moment waits on it, then
// finds the version taken and skips it, so no lock beyond the row is needed.
// It returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_us BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range all {
		done, err := db.migrationApplied(ctx, m.Version)
		if err != nil {
			return applied, err
		}
		if done {
			continue
		}
		err = db.inUnmarkedTx(ctx, func(tx *Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at_us) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UnixMicro()); err != nil {
				return err
			}
			run, err := tx.runner(ctx)
			if err != nil {
				return err
			}
			_, err = run.ExecContext(ctx, db.dialect.migrationText(m.SQL))
			return err
		})
		if errors.Is(err, ErrDuplicate) {
			continue // another process applied it meanwhile
		}
		if err != nil {
			return applied, fmt.Errorf("store: migration %d (%s): %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

func (db *DB) migrationApplied(ctx context.Context, version int) (bool, error) {
	var n int
	err := db.write.QueryRowContext(ctx, db.dialect.rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), version).Scan(&n)
	return n > 0, err
}
