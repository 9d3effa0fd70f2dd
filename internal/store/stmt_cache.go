package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds the prepared statements kept per store. The hot
// path uses a few dozen fixed texts; the bound keeps an unexpected stream
// of distinct texts from growing the cache without end.
const maxCachedStmts = 256

// stmtCache keeps statements prepared on the write pool, so the committer's
// fixed statement texts are parsed once rather than once per batch.
//
// It never prepares inside a transaction. Preparing through the pool needs
// a connection of its own, and on SQLite the transaction holds the only
// write connection (and the database's write lock): waiting for a second
// one while another writer waits for the lock is how a server stalled for
// SQLite's whole busy timeout. A text first met inside a transaction runs
// unprepared on the transaction's connection and is noted; once the
// transaction has ended and its connection is free, prepareNoted prepares
// it for every later batch.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	noted map[string]struct{}
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*sql.Stmt), noted: make(map[string]struct{})}
}

// lookup returns the statement prepared for query, or nil after noting
// query for prepareNoted. A nil cache caches nothing.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s
	}
	if c.stmts != nil && len(c.stmts)+len(c.noted) < maxCachedStmts {
		c.noted[query] = struct{}{}
	}
	return nil
}

// prepareNoted prepares the texts noted since it last ran. It must be
// called outside any transaction. A text that fails to prepare is simply
// not cached: it is noted again the next time it runs.
func (c *stmtCache) prepareNoted(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if len(c.noted) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.noted))
	for q := range c.noted {
		queries = append(queries, q)
	}
	clear(c.noted)
	c.mu.Unlock()
	for _, q := range queries {
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.stmts[q]; ok || c.stmts == nil {
			s.Close()
		} else {
			c.stmts[q] = s
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for _, s := range c.stmts {
		err = errors.Join(err, s.Close())
	}
	c.stmts = nil
	return err
}
