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
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*sql.Stmt)}
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = s
	return s, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for _, s := range c.stmts {
		err = errors.Join(err, s.Close())
	}
	c.stmts = nil
	return err
}

// execCached runs a statement through the cache; query uses ? placeholders.
func (t *Tx) execCached(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := t.stmts.get(ctx, t.d.rebind(query))
	if err != nil || s == nil {
		return t.Exec(ctx, query, args...)
	}
	res, err := t.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	return res, t.wrap(err)
}

// queryCached runs a query through the cache; query uses ? placeholders.
func (t *Tx) queryCached(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := t.stmts.get(ctx, t.d.rebind(query))
	if err != nil || s == nil {
		return t.Query(ctx, query, args...)
	}
	rows, err := t.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	return rows, t.wrap(err)
}
