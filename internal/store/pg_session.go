package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// On PostgreSQL a write transaction runs on a connection of its own, with
// BEGIN and COMMIT sent by the store rather than by database/sql, so that
// statements whose answer nothing waits for travel together: each round
// trip to the server costs the single writer more than most statements
// themselves.
//
// A statement that needs no answer before the transaction goes on (BEGIN,
// a savepoint, the held-back writes, the ledger's journal and balances,
// COMMIT) is queued. Queued statements go to the server, in order, in one
// pipeline (one write, one Sync, the answers read in turn) as soon as a
// statement that does need its answer runs, or at the end with COMMIT. A
// committer batch thus opens with BEGIN and its locks in one round trip and
// ends with every write and the COMMIT in another.
//
// A queued statement's checks are made by the database: an update that
// must change a number of rows says so in its own SQL (assertCount), and
// its failure, like any other, makes the server skip the rest of the
// pipeline, COMMIT included.

// pgStep is one statement of a pipeline.
type pgStep struct {
	// query is written with ? placeholders.
	query string
	args  []any
	// rows, when set, reads the rows the statement returns.
	rows func(pgx.Rows) error
}

// pgSession is a PostgreSQL write transaction's connection and the
// statements it has queued.
type pgSession struct {
	conn *sql.Conn
	d    *dialect
	// begun says whether BEGIN has been sent.
	begun bool
	queue []pgStep
}

// enqueue queues a statement to be sent with the next pipeline.
func (s *pgSession) enqueue(query string, args ...any) {
	s.queue = append(s.queue, pgStep{query: query, args: args})
}

// send sends what is queued and then steps, in one pipeline, and reads
// every answer. BEGIN goes first if it has not been sent, alone if nothing
// else is to go. The queue is empty afterwards, whatever happened.
func (s *pgSession) send(ctx context.Context, steps ...pgStep) error {
	all := s.queue
	s.queue = nil
	all = append(all, steps...)
	if len(all) == 0 && s.begun {
		return nil
	}
	if !s.begun {
		all = append([]pgStep{{query: "BEGIN"}}, all...)
		s.begun = true
	}
	return s.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: a PostgreSQL connection of type %T", dc)
		}
		b := &pgx.Batch{}
		for _, st := range all {
			b.Queue(s.d.rebind(st.query), st.args...)
		}
		results := c.Conn().SendBatch(ctx, b)
		var err error
		for _, st := range all {
			if st.rows != nil {
				err = readRows(results, st.rows)
			} else {
				_, err = results.Exec()
			}
			if err != nil {
				break
			}
		}
		// Close reads what is left of the answers up to the Sync.
		if cerr := results.Close(); err == nil && cerr != nil {
			err = cerr
		}
		return err
	})
}

func readRows(results pgx.BatchResults, read func(pgx.Rows) error) error {
	rows, err := results.Query()
	if err != nil {
		return err
	}
	err = read(rows)
	rows.Close()
	if err != nil {
		return err
	}
	return rows.Err()
}

// execQueued queues a statement after the transaction's held-back writes
// (see barrier), to go with the next pipeline: for the ledger's writes,
// which nothing in the transaction reads back from the database.
func (t *Tx) execQueued(ctx context.Context, query string, args ...any) error {
	if err := t.barrier(ctx); err != nil {
		return err
	}
	t.pg.enqueue(query, args...)
	return nil
}

// runner sends what is queued and returns the connection, for a statement
// whose answer is needed now.
func (s *pgSession) runner(ctx context.Context) (sqlRunner, error) {
	if err := s.send(ctx); err != nil {
		return nil, err
	}
	return s.conn, nil
}

// commit sends what is queued with COMMIT.
func (s *pgSession) commit(ctx context.Context) error {
	return s.send(ctx, pgStep{query: "COMMIT"})
}

// abortTimeout bounds the ROLLBACK that ends a failed transaction.
const abortTimeout = 10 * time.Second

// abort ends the transaction without committing it, and hands the
// connection back. A connection that cannot be rolled back is dropped
// rather than given to the next transaction.
func (s *pgSession) abort() {
	s.queue = nil
	if s.begun {
		ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
		_, err := s.conn.ExecContext(ctx, "ROLLBACK")
		cancel()
		if err != nil {
			_ = s.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	s.conn.Close()
}

// sqlRunner is what runs a statement at once: a database/sql transaction
// (SQLite) or a connection (PostgreSQL).
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
