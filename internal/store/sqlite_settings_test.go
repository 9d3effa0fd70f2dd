package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// The SQLite writer's connection runs with the settings the write path
// relies on: WAL, a durable commit, and statement and savepoint journals in
// memory rather than in a temporary file.
func TestSQLiteWriterSettings(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	conn, err := db.WritePool().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
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
