package store_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// withQuery returns u with its host list replaced (when hosts is not empty)
// and the given query parameters set.
func withQuery(t *testing.T, u, hosts string, params map[string]string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if hosts != "" {
		parsed.Host = hosts
	}
	q := parsed.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// write makes a small change in a write transaction of db.
func write(ctx context.Context, db *store.DB) error {
	return db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS failover_probe (n integer)")
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO failover_probe (n) VALUES (1)")
		return err
	})
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestPingPrimaryOnAWritableStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		if err := db.PingPrimary(context.Background()); err != nil {
			t.Fatalf("PingPrimary = %v, want nil", err)
		}
	})
}

// A URL naming a host that refuses connections before the real one, as a
// cluster's URL does while one of its nodes is down, reaches the real one.
func TestMultiHostURLSkipsAHostThatIsDown(t *testing.T) {
	storetest.RequirePostgres(t)
	ctx := context.Background()
	base := storetest.URL(t, "postgres")
	parsed, _ := url.Parse(base)
	// Port 1 on loopback: nothing listens there, so the connect is refused.
	u := withQuery(t, base, "127.0.0.1:1,"+parsed.Host, map[string]string{
		"target_session_attrs": "read-write",
		"connect_timeout":      "2",
	})
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	defer db.Close()
	if err := write(ctx, db); err != nil {
		t.Fatalf("write through the second host: %v", err)
	}
	if err := db.PingPrimary(ctx); err != nil {
		t.Errorf("PingPrimary = %v", err)
	}
}

// target_session_attrs=read-write refuses a server whose sessions are
// read-only, the way it refuses a standby; without it the store connects,
// writes fail with 25006, and PingPrimary says why.
func TestReadOnlyServer(t *testing.T) {
	storetest.RequirePostgres(t)
	ctx := context.Background()
	base := storetest.URL(t, "postgres")
	// A run-time parameter in the URL makes every session of this store
	// start read-only: as a standby's, as far as a client can tell.
	readOnly := withQuery(t, base, "", map[string]string{"default_transaction_read_only": "on"})

	t.Run("refused with target_session_attrs=read-write", func(t *testing.T) {
		u := withQuery(t, readOnly, "", map[string]string{"target_session_attrs": "read-write", "connect_timeout": "2"})
		db, err := store.Open(ctx, u)
		if err == nil {
			db.Close()
			t.Fatal("open succeeded on a read-only server")
		}
	})
	t.Run("reported by PingPrimary without it", func(t *testing.T) {
		db, err := store.Open(ctx, readOnly)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := write(ctx, db); sqlState(err) != "25006" {
			t.Fatalf("write on a read-only server = %v, want SQLSTATE 25006", err)
		}
		if err := db.PingPrimary(ctx); !errors.Is(err, store.ErrReadOnly) {
			t.Fatalf("PingPrimary = %v, want ErrReadOnly", err)
		}
	})
}

// A session turned read-only under the store (a primary set read-only and
// reloaded) is not handed out again once PingPrimary has seen it: the next
// connection is a new one.
func TestPingPrimaryDropsAReadOnlySession(t *testing.T) {
	storetest.RequirePostgres(t)
	ctx := context.Background()
	db := storetest.Open(t, "postgres")
	pool := db.WritePool()
	// One connection, so that the pool cannot hide a bad session behind a
	// good one.
	pool.SetMaxOpenConns(1)
	if _, err := pool.ExecContext(ctx, "SET SESSION default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	if err := write(ctx, db); sqlState(err) != "25006" {
		t.Fatalf("write on the read-only session = %v, want SQLSTATE 25006", err)
	}
	if err := db.PingPrimary(ctx); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("first PingPrimary = %v, want ErrReadOnly", err)
	}
	if err := db.PingPrimary(ctx); err != nil {
		t.Fatalf("second PingPrimary = %v, want nil on a fresh session", err)
	}
	if err := write(ctx, db); err != nil {
		t.Fatalf("write after the read-only session was dropped: %v", err)
	}
}

// When the server ends every session of the store (what a primary does as
// it shuts down to be demoted, SQLSTATE 57P01), the pool drops them and the
// next write runs on a new connection, with no error reaching the caller.
func TestPoolDropsSessionsTheServerEnded(t *testing.T) {
	storetest.RequirePostgres(t)
	ctx := context.Background()
	appName := "failover_" + strings.ToLower(id.New(""))
	u := withQuery(t, storetest.URL(t, "postgres"), "", map[string]string{"application_name": appName})
	db := storetest.OpenURL(t, u)
	// The table first: concurrent CREATE TABLE IF NOT EXISTS can collide.
	if err := write(ctx, db); err != nil {
		t.Fatal(err)
	}
	// Several sessions in the pool, all idle.
	done := make(chan error, 4)
	for range 4 {
		go func() { done <- write(ctx, db) }()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	admin, err := sql.Open("pgx", os.Getenv(storetest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var ended int
	if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t", appName).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	if ended == 0 {
		t.Fatal("no session of the store was found to end")
	}
	// A failover takes longer than this; pgx checks a session idle for over
	// a second before the pool hands it out.
	time.Sleep(1200 * time.Millisecond)
	if err := write(ctx, db); err != nil {
		t.Fatalf("write after %d sessions were ended: %v", ended, err)
	}
	if err := db.PingPrimary(ctx); err != nil {
		t.Fatalf("PingPrimary after the sessions were ended: %v", err)
	}
}
