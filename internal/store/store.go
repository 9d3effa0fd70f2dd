// Package store keeps Poise's data in SQLite (embedded, the default) or
// PostgreSQL. Both run the same portable SQL through database/sql; the few
// differences live in dialect.go. The store implements the interfaces the
// domain packages define, such as ledger.Store.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

// Retry limits for transactions the database asks to run again.
const (
	// maxAttempts bounds the retries of one transaction. Contention that
	// outlasts this many jittered back-offs is an outage, not bad luck.
	maxAttempts = 12
	// retryBase and retryMax shape the exponential back-off: the first wait
	// is about a millisecond, no wait is longer than a quarter second.
	retryBase = time.Millisecond
	retryMax  = 250 * time.Millisecond
	// sqliteBusyTimeoutMs is how long SQLite itself waits for another
	// process's write lock before reporting busy to the retry loop.
	sqliteBusyTimeoutMs = 5000
	// postgresPoolSize bounds connections to PostgreSQL: the committer uses
	// one, readers share the rest. Two cores gain nothing from more.
	postgresPoolSize = 16
	// sqliteCheckpointPages is how large the WAL may grow before a commit
	// copies it back into the database file. The default (1000 pages) makes
	// a batch that dirties a hundred scattered pages checkpoint every few
	// commits, copying the same hot pages again each time; 16 times that
	// (64 MiB of WAL) copies each page once per many batches.
	sqliteCheckpointPages = 16000
	// sqliteCacheKiB is each connection's page cache: large enough to hold
	// the accounts and indexes a busy batch touches without re-reading them,
	// and no larger. SQLite empties part of a connection's cache at the end
	// of every write transaction, and a reader's whole cache whenever a
	// write came before its read, by walking the cache's hash table: with
	// 64 MiB that walk was 5% of the writer's time. At 16 MiB, a minute of
	// 64 clients debiting into 5,000 orders ran 6% faster (4,096/s against
	// 3,871/s) and the server's resident memory fell from 180 to 84 MB;
	// pages the cache no longer holds come from the kernel's page cache.
	sqliteCacheKiB = 16 * 1024
	// sqliteReaders bounds SQLite's read connections (WAL lets them read
	// while the writer writes).
	sqliteReaders = 8
)

// DB is an open store.
type DB struct {
	// write takes write transactions; read serves reads outside them. On
	// PostgreSQL both are one pool. On SQLite the writer is one connection
	// whose transactions take the write lock at BEGIN (IMMEDIATE), so two
	// processes queue at BEGIN instead of failing at their first write.
	write   *sql.DB
	read    *sql.DB
	dialect *dialect
	stmts   *stmtCache
	// checkpoints copies SQLite's WAL back beside the writer (nil on
	// PostgreSQL).
	checkpoints *checkpointer
}

// Open opens the store at url: a postgres:// or postgresql:// URL for
// PostgreSQL, or a SQLite file path (optionally prefixed with sqlite:).
// It does not migrate; call Migrate.
func Open(ctx context.Context, url string) (*DB, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return openPostgres(ctx, url)
	}
	return openSQLite(ctx, strings.TrimPrefix(url, "sqlite:"))
}

func openPostgres(ctx context.Context, url string) (*DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(postgresPoolSize)
	db.SetMaxIdleConns(postgresPoolSize)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to postgres: %w", err)
	}
	// No statement cache: pgx prepares and caches each statement text per
	// connection by itself.
	return &DB{write: db, read: db, dialect: &postgresDialect}, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	// WAL lets readers read while the writer writes; synchronous(FULL)
	// makes every commit durable before it is acknowledged.
	pragmas := fmt.Sprintf("_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=wal_autocheckpoint(%d)&_pragma=cache_size(%d)", sqliteBusyTimeoutMs, sqliteCheckpointPages, -sqliteCacheKiB)
	// The writer keeps its statement and savepoint journals in memory. Each
	// multi-row statement and each savepoint of a batch journals the pages
	// it changes; in a temporary file that was a write system call per page,
	// a tenth of the writer's time. They hold at most one batch's pages, and
	// a crash loses nothing by them: the WAL alone is the durable record.
	write, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// One write connection. Every write transaction of this process (the
	// committer's, and the few made outside it: callback deliveries,
	// scheduler leases, upkeep) queues for it in Go, so none ever holds a
	// connection while it waits for SQLite's write lock, and the busy
	// timeout only ever measures another process. A transaction must then
	// never need a second write connection: the statement cache prepares
	// only between transactions (see stmtCache).
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(sqliteReaders)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	checkpoints, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	checkpoints.SetMaxOpenConns(1)
	return &DB{write: write, read: read, dialect: &sqliteDialect, stmts: newStmtCache(write),
		checkpoints: startCheckpointer(checkpoints, sqliteCheckpointEvery)}, nil
}

// Close closes the store's connections.
func (db *DB) Close() error {
	err := db.checkpoints.close()
	err = errors.Join(err, db.stmts.close())
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Dialect names the database behind the store: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name }

// Analyze refreshes the planner's statistics. PostgreSQL's autovacuum does
// this by itself as tables grow; a benchmark that fills tables and measures
// seconds later calls it to measure the steady state rather than plans made
// for empty tables.
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, "ANALYZE")
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.write.PingContext(ctx) }

// inTx runs fn in a write transaction, committing when it returns nil and
// running it again, after a jittered back-off, when the database reports a
// serialization failure, a deadlock or a busy lock.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.runTx(ctx, nil, true, fn)
}

// inUnmarkedTx is inTx without a commit marker (commit_outcome.go), for
// the migrations, which run before the markers' table exists and are
// safe to run again anyway.
func (db *DB) inUnmarkedTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.runTx(ctx, nil, false, fn)
}

// inCachedTx is inTx for the committer's transactions, whose statements
// go through the statement cache (see stmtCache): the same few dozen texts
// run in every batch, and parsing them anew each time cost SQLite a
// quarter of the writer's time.
func (db *DB) inCachedTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.runTx(ctx, db.stmts, true, fn)
}

func (db *DB) runTx(ctx context.Context, stmts *stmtCache, marked bool, fn func(tx *Tx) error) error {
	wait := retryBase
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, stmts, marked, fn)
		if err == nil || db.dialect.classify(err) != errRetry || attempt == maxAttempts {
			return db.translate(err)
		}
		// Full jitter: concurrent losers spread out instead of colliding again.
		sleep := time.Duration(rand.Int64N(int64(wait))) + time.Microsecond
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, retryMax)
	}
}

func (db *DB) tryTx(ctx context.Context, stmts *stmtCache, marked bool, fn func(tx *Tx) error) error {
	tx, err := db.begin(ctx, stmts)
	if err != nil {
		return err
	}
	// The connection is free again once the transaction ends: prepare the
	// statement texts it met for the first time, for the next one.
	defer stmts.prepareNoted(ctx)
	marker := ""
	if marked {
		marker = db.markCommit(tx)
	}
	if err := fn(tx); err != nil {
		tx.abort()
		return err
	}
	if err := tx.barrier(ctx); err != nil {
		tx.abort()
		return err
	}
	if err := tx.commit(ctx); err != nil {
		if marker == "" {
			return err
		}
		// The answer may have been lost, not the commit (commit_outcome.go).
		return db.resolveCommit(marker, err)
	}
	return nil
}

// begin starts a write transaction. On SQLite it is database/sql's; on
// PostgreSQL a connection of its own, whose BEGIN goes to the server with
// the transaction's first pipeline (pg_session.go). stmts is SQLite's.
func (db *DB) begin(ctx context.Context, stmts *stmtCache) (*Tx, error) {
	if db.dialect.name == "postgres" {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return nil, err
		}
		return &Tx{d: db.dialect, pg: &pgSession{conn: conn, d: db.dialect}}, nil
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{tx: sqlTx, d: db.dialect, stmts: stmts}, nil
}

// abort ends the transaction without committing it.
func (t *Tx) abort() {
	if t.pg != nil {
		t.pg.abort()
		return
	}
	t.tx.Rollback()
}

// commit commits the transaction, on PostgreSQL with every write it still
// queues. Either way the transaction is over afterwards and its connection
// handed back.
func (t *Tx) commit(ctx context.Context) error {
	if t.pg == nil {
		return t.tx.Commit()
	}
	if err := t.pg.commit(ctx); err != nil {
		t.pg.abort()
		return err
	}
	// Committed: nothing the connection's hand-back could report changes
	// that, and an error here must not make the caller try again.
	_ = t.pg.conn.Close()
	return nil
}

// translate maps driver errors the domain acts on to the domain's own.
func (db *DB) translate(err error) error {
	if err == nil {
		return nil
	}
	switch db.dialect.classify(err) {
	case errUnique:
		return fmt.Errorf("%w: %v", ErrDuplicate, err)
	case errRetry:
		// Still contended after every retry: a transient state of the
		// database, not a fault of the request, so the caller may retry.
		return &apperr.Error{Code: apperr.Unavailable, Message: "the database is busy; retry shortly", Err: err}
	}
	return db.dialect.unavailable(err)
}

// unavailable reports a database that could not be reached, or that no
// longer takes writes (a primary demoted in a failover), as unavailable:
// the request did nothing and may be retried once a primary answers.
// Other errors pass unchanged.
func (d *dialect) unavailable(err error) error {
	if err == nil || !d.lost(err) {
		return err
	}
	return &apperr.Error{Code: apperr.Unavailable, Message: "the database is unavailable; retry shortly", Err: err}
}

// Tx is one write transaction. Domain packages receive it through their own
// interfaces (ledger.Tx, ...) and may also use its query methods for rows of
// their own.
type Tx struct {
	// tx is SQLite's transaction; pg is PostgreSQL's instead (see runner).
	tx *sql.Tx
	pg *pgSession
	d  *dialect
	// stmts, when set, keeps the transaction's statements prepared
	// across transactions.
	stmts *stmtCache
	// locked keeps the resource rows as this transaction has read or
	// written them in the database, by ID (see locked_rows.go).
	locked map[string]*lockedRow
	// pending holds the writes held back for a bulk flush, latest the
	// index in it of each held-back resource's newest version, and
	// savepoints the savepoints noted (see write_behind.go).
	pending    []pendingWrite
	latest     map[string]int
	savepoints []savepointMark
	// callbacks keeps, by marketplace, whether it has a live callback;
	// linked the answers of LinkedTo, by the type they list.
	callbacks map[string]bool
	linked    map[string]map[linkedKey][]payments.Resource
}

// Exec runs a statement written with ? placeholders, after the writes
// the transaction held back (see barrier).
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.barrier(ctx); err != nil {
		return nil, err
	}
	return t.execDirect(ctx, query, args...)
}

// Query runs a query written with ? placeholders, after the writes the
// transaction held back.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.barrier(ctx); err != nil {
		return nil, err
	}
	return t.queryDirect(ctx, query, args...)
}

// Row is the result of QueryRow: a row, or the error that kept the query
// from running.
type Row struct {
	row *sql.Row
	err error
	// d, when set, marks a lost database as unavailable (see
	// unavailable); reads outside transactions set it.
	d *dialect
}

// Scan copies the row's columns into dest; sql.ErrNoRows when there was
// none.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.row.Scan(dest...)
	if r.d != nil && err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r.d.unavailable(err)
	}
	return err
}

// QueryRow runs a query expected to return at most one row, after the
// writes the transaction held back.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	if err := t.barrier(ctx); err != nil {
		return &Row{err: err}
	}
	return t.queryRowDirect(ctx, query, args...)
}

func (t *Tx) queryRowDirect(ctx context.Context, query string, args ...any) *Row {
	query = t.d.rebind(query)
	run, err := t.runnerFor(ctx, query)
	if err != nil {
		return &Row{err: err}
	}
	return &Row{row: run.QueryRowContext(ctx, query, args...)}
}

// runner is what runs a statement whose answer is needed now: on
// PostgreSQL, the connection once what the transaction queued is sent.
func (t *Tx) runner(ctx context.Context) (sqlRunner, error) {
	if t.pg != nil {
		return t.pg.runner(ctx)
	}
	return t.tx, nil
}

// runnerFor is runner for query (rebound already): on SQLite, its
// statement prepared in the cache when it has one (see stmtCache).
func (t *Tx) runnerFor(ctx context.Context, query string) (sqlRunner, error) {
	if s := t.stmts.lookup(query); s != nil {
		return prepared{t.tx.StmtContext(ctx, s)}, nil
	}
	return t.runner(ctx)
}

// prepared runs its statement as a sqlRunner, whatever text it is given.
type prepared struct{ s *sql.Stmt }

func (p prepared) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.s.ExecContext(ctx, args...)
}

func (p prepared) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.s.QueryContext(ctx, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return p.s.QueryRowContext(ctx, args...)
}

// LockSuffix is the clause that locks selected rows until commit on
// databases that need it (" FOR UPDATE"), or "" on SQLite.
func (t *Tx) LockSuffix() string { return t.d.lockSuffix }

// wrap marks unique violations so callers can tell "exists already" from a
// failure, without knowing the driver.
func (t *Tx) wrap(err error) error {
	if err != nil && t.d.classify(err) == errUnique {
		return fmt.Errorf("%w: %w", ErrDuplicate, err)
	}
	return err
}

// Query runs a read outside any write transaction. A database that
// cannot be reached is reported unavailable (503, retry), not as a fault.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.rebind(query), args...)
	if err != nil {
		return nil, db.dialect.unavailable(err)
	}
	return rows, nil
}

// QueryRow runs a read expected to return at most one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *Row {
	return &Row{row: db.read.QueryRowContext(ctx, db.dialect.rebind(query), args...), d: db.dialect}
}

// Update runs fn in a write transaction with retries; see inTx.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error { return db.inTx(ctx, fn) }
