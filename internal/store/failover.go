package store

import (
	"context"
	"database/sql/driver"
	"errors"
)

// Failover of a replicated PostgreSQL (Patroni and the like) needs little of
// the store, because pgx does the connecting:
//
//   - A URL may name several hosts (postgres://u@a:5432,b:5432/poise) and
//     target_session_attrs=read-write: each new connection tries the hosts
//     in order and keeps the first that takes writes, so after a failover
//     new connections find the new primary. connect_timeout bounds each try,
//     so a host that no longer answers costs seconds, not minutes.
//   - A primary that is demoted or stopped ends its sessions (SQLSTATE
//     57P01, or the socket closes). pgx closes such a connection, and
//     database/sql drops a closed connection instead of reusing it (pgx
//     pings one that was idle for over a second before handing it out).
//
// What that leaves is a server that turns read-only while sessions stay
// open (default_transaction_read_only set and reloaded, or a URL without
// target_session_attrs that reached a standby): every write there fails
// with 25006 and the connection looks healthy. PingPrimary finds that, and
// readiness reports it so that a load balancer stops sending writes here.

// ErrReadOnly reports that the database the store reached does not take
// writes: a standby, or a primary set read-only.
var ErrReadOnly = errors.New("store: the database is read-only (not a writable primary)")

// PingPrimary checks that the store reaches a database that takes writes
// now. On PostgreSQL it asks the server through the write pool whether a
// transaction there would be read-only; on SQLite a ping is enough.
//
// A read-only answer means the server behind the pool changed role, so the
// connection that gave it is closed rather than handed out again, and so
// are the idle ones (they reach the same servers). Connections opened
// afterwards pick a writable host again when the URL asks for one.
func (db *DB) PingPrimary(ctx context.Context) error {
	if db.dialect.name != "postgres" {
		return db.Ping(ctx)
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var readOnly string
	if err := conn.QueryRowContext(ctx, "SHOW transaction_read_only").Scan(&readOnly); err != nil {
		return err
	}
	if readOnly == "off" {
		return nil
	}
	// database/sql closes a connection whose Raw callback reports it bad.
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	db.dropIdle()
	return ErrReadOnly
}

// dropIdle closes the write pool's idle connections: lowering the idle limit
// closes those over it at once, and the limit is then set back.
func (db *DB) dropIdle() {
	db.write.SetMaxIdleConns(0)
	db.write.SetMaxIdleConns(postgresPoolSize)
}
