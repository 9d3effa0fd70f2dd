package store_test

import (
	"context"
	"testing"

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
