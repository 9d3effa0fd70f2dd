package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// sqliteCheckpointEvery is how often a SQLite store copies committed WAL
// frames back into the database file from a connection of its own. Each
// copy ends with an fsync of the database file, and a commit's fsync of
// the WAL waits behind it on the same disk: the more a copy holds, the
// longer that commit. A page many commits rewrite meanwhile (an order's
// account, the last page of a journal) is copied once a pass, however
// often it was rewritten. Over a minute of 64 clients debiting into 5,000
// orders, back to back on one machine: every 25 ms, 4,516-4,771/s with a
// p99 of 28 ms; every 50 ms, 5,173-5,284/s at 36-38 ms; every 100 ms,
// 5,466/s at 54 ms. Every second was worse still for the p99 (71-73 ms
// when the writer did more per debit), every 10 ms no better than 25.
const sqliteCheckpointEvery = 50 * time.Millisecond

// checkpointer copies committed pages from SQLite's WAL into the database
// file beside the writer rather than inside it. Left to the writer, the
// copy runs in the commit that crosses the WAL threshold
// (sqliteCheckpointPages): about once a second under load, that commit took
// 30-50 ms instead of 4 ms, and every request queued behind it waited as
// long. A PASSIVE checkpoint takes no write lock, so the writer commits on
// while it runs. The writer's own automatic checkpoint stays as the
// backstop that lets the WAL start over: by the time it runs, little is
// left for it to copy.
type checkpointer struct {
	conn *sql.DB
	stop context.CancelFunc
	done sync.WaitGroup
}

func startCheckpointer(conn *sql.DB, every time.Duration) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, stop: stop}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				// A failed pass (the database busy or gone) changes nothing
				// that the next pass, or the writer's own checkpoint, does
				// not make up for.
				var busy, logFrames, copied int
				_ = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
			}
		}
	}()
	return c
}

func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.stop()
	c.done.Wait()
	return c.conn.Close()
}
