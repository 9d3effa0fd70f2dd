package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// A batch locks the rows it names by index, one lookup each, even on a
// table PostgreSQL has never analyzed: a whole-table scan there cost every
// batch of a fresh server milliseconds (it read all 5,000 accounts of the
// HTTP benchmark each time).
func TestBatchLocksLookUpRowsByIndex(t *testing.T) {
	storetest.RequirePostgres(t)
	ctx := context.Background()
	db := storetest.Open(t, "postgres")
	pool := db.WritePool()
	for _, stmt := range []string{
		`INSERT INTO accounts (id, owner, kind, currency, may_go_negative, posted, pending_in, pending_out, created_at_us)
			SELECT 'AC' || lpad(i::text, 8, '0'), 'owner', 'escrow', 'USD', false, 0, 0, 0, 0 FROM generate_series(1, 5000) AS i`,
		`INSERT INTO resources (id, marketplace_id, type, status, hidden, created_at_us, updated_at_us, body)
			SELECT 'OR' || lpad(i::text, 8, '0'), 'MP', 'orders', '', false, 0, 0, '{}' FROM generate_series(1, 5000) AS i`,
	} {
		if _, err := pool.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	for name, prefix := range map[string]string{"lockAccounts": "AC", "lockResources": "OR"} {
		ids := make([]string, 64)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s%08d", prefix, 1+i*70)
		}
		rows, err := pool.QueryContext(ctx, "EXPLAIN "+store.BulkQuery(name), ids)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan") || !strings.Contains(text, "Index Scan") {
			t.Errorf("%s scans the table:\n%s", name, text)
		}
	}
}
