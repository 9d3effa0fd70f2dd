package store_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// The SQLite writer's connection runs with the settings the write path
// relies on: WAL, a durable commit, and statement and savepoint journals in
// memory rather than in a temporary file.
func TestSQLiteWriterSettings(t *testing.T) {
	ctx := context.Background()
	conn := sqliteWriterConn(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"temp_store":   "2", // MEMORY
		"foreign_keys": "1",
	} {
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

// Committed pages reach the database file without the writer copying them:
// well below the writer's checkpoint threshold, the file grows by what was
// written while the writer does nothing.
func TestSQLiteWALIsCopiedBesideTheWriter(t *testing.T) {
	ctx := context.Background()
	path := storetest.URL(t, "sqlite")
	db := storetest.OpenURL(t, path)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// About 2 MB in one transaction: some 500 pages, far from the 16,000
	// that would make the writer's own commit copy them.
	if _, err := db.WritePool().ExecContext(ctx, `INSERT INTO oauth_nonces (consumer_key, nonce, seen_at_us)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
		SELECT 'key', printf('%0100d', i), i FROM n`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		after, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if after.Size() >= before.Size()+1<<20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes 5 s after 2 MB were committed (%d before): nothing copied the WAL back", after.Size(), before.Size())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Migrations shape SQLite's tables as their texts say: the journals keyed
// by text are stored WITHOUT ROWID, in their key's B-tree alone, while
// resources, whose rows run to hundreds of bytes, have rowids (migration
// 0090), so that the text SQLite-only comments carry is what runs.
func TestSQLiteTablesAreStoredAsTheirMigrationsSay(t *testing.T) {
	ctx := context.Background()
	conn := sqliteWriterConn(t)
	for table, withoutRowid := range map[string]bool{
		"accounts": true, "transfers": true, "postings": true, "resource_links": true,
		"resources": false,
	} {
		var schema string
		if err := conn.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&schema); err != nil {
			t.Fatalf("table %s: %v", table, err)
		}
		if got := strings.HasSuffix(strings.TrimSpace(schema), "WITHOUT ROWID"); got != withoutRowid {
			t.Errorf("table %s: WITHOUT ROWID %v, want %v:\n%s", table, got, withoutRowid, schema)
		}
	}
	var indexes int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'resources' AND name IN ('resources_list', 'resources_undispatched')").Scan(&indexes); err != nil || indexes != 2 {
		t.Fatalf("resources has %d of its two indexes (%v)", indexes, err)
	}
}

// sqliteWriterConn is a connection of a fresh SQLite store's write pool,
// closed when the test ends.
func sqliteWriterConn(t *testing.T) *sql.Conn {
	t.Helper()
	db := storetest.Open(t, "sqlite")
	conn, err := db.WritePool().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
