package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
)

// A write transaction holds back the rows it writes most often (resources,
// their links, balance feed entries and effects) and writes them in bulk:
// a committer batch of a few hundred operations then costs a few INSERT
// statements per table on SQLite, and one statement in all on PostgreSQL
// (bulkOps.writeHeldBack), instead of several per operation.
//
// Held-back writes stay invisible to the database until the transaction
// flushes them, so everything that could read them goes through a flush
// first: every statement run by Exec, Query and QueryRow does (see
// barrier), and the transaction's own reads of resources (LockResource,
// LinkedTo) answer from the held-back rows where they have them.
//
// Savepoints are taken lazily. Savepoint only notes the point in the
// held-back writes; an operation whose writes are all held back is undone
// by dropping them, with no statement at all. The SQL savepoint is taken
// only when a statement must run inside it, after flushing what came
// before it, so it covers exactly the writes made since.
//
// A held-back write that the database refuses (a duplicate key) fails at
// the flush, and with it the whole transaction: the committer then runs
// each operation of the batch alone, which pins the failure on the one
// that caused it.

// pendingWrite is one held-back write: a resource (inserted or updated)
// or a row of a table that is only ever inserted into.
type pendingWrite struct {
	// resource, when set, is a resource row with its live links.
	resource *lockedRow
	insert   bool
	// table, columns and args are an INSERT of one row; suffix ends the
	// statement (an ON CONFLICT clause).
	table, columns, suffix string
	args                   []any
}

// savepointMark is a savepoint as the transaction keeps it.
type savepointMark struct {
	name string
	// taken says whether the SQL savepoint exists; mark is where the
	// writes made after it begin in the held-back list.
	taken bool
	mark  int
}

// deferInsert holds back an INSERT of one row into table.
func (t *Tx) deferInsert(table, columns string, args ...any) {
	t.pending = append(t.pending, pendingWrite{table: table, columns: columns, args: args})
}

// deferInsertOr holds back an INSERT of one row into table that ends with
// suffix, such as ON CONFLICT DO NOTHING.
func (t *Tx) deferInsertOr(suffix, table, columns string, args ...any) {
	t.pending = append(t.pending, pendingWrite{table: table, columns: columns, suffix: suffix, args: args})
}

// deferResource holds back a write of a resource row.
func (t *Tx) deferResource(row lockedRow, insert bool) {
	if t.latest == nil {
		t.latest = make(map[string]int)
	}
	t.latest[row.raw.id] = len(t.pending)
	t.pending = append(t.pending, pendingWrite{resource: &row, insert: insert})
	t.resourceWritten(row.raw.marketplace, row.raw.typ)
}

// heldBack returns the newest held-back version of resource id.
func (t *Tx) heldBack(id string) (*lockedRow, bool) {
	i, ok := t.latest[id]
	if !ok {
		return nil, false
	}
	return t.pending[i].resource, true
}

// holdsBackType reports whether a held-back resource is of type typ.
func (t *Tx) holdsBackType(typ string) bool {
	for _, i := range t.latest {
		if t.pending[i].resource.raw.typ == typ {
			return true
		}
	}
	return false
}

// dropPending forgets the held-back writes from index from on.
func (t *Tx) dropPending(from int) {
	if from >= len(t.pending) {
		return
	}
	for _, w := range t.pending[from:] {
		if w.resource != nil {
			delete(t.latest, w.resource.raw.id)
		}
	}
	t.pending = t.pending[:from]
	// An older version of a dropped resource may still be held back.
	for i, w := range t.pending {
		if w.resource != nil {
			if _, ok := t.latest[w.resource.raw.id]; !ok || t.latest[w.resource.raw.id] < i {
				t.latest[w.resource.raw.id] = i
			}
		}
	}
}

// Savepoint implements ledger.Tx: it notes the point, and takes the SQL
// savepoint only when a statement must run after it (see barrier).
func (t *Tx) Savepoint(ctx context.Context, name string) error {
	t.savepoints = append(t.savepoints, savepointMark{name: name, mark: len(t.pending)})
	return nil
}

// RollbackTo implements ledger.Tx. The savepoint ends with it: the ledger
// never returns to one twice.
func (t *Tx) RollbackTo(ctx context.Context, name string) error {
	i := t.findSavepoint(name)
	if i < 0 {
		return errNoSavepoint(name)
	}
	sp := t.savepoints[i]
	t.savepoints = t.savepoints[:i]
	t.dropPending(sp.mark)
	t.callbacks, t.linked = nil, nil
	if !sp.taken {
		return nil
	}
	// The rollback may undo writes to rows the transaction keeps copies of.
	t.forgetLocked()
	return t.execUnanswered(ctx, "ROLLBACK TO SAVEPOINT "+name)
}

// Release implements ledger.Tx: the writes made since the savepoint
// become the enclosing transaction's (or savepoint's).
func (t *Tx) Release(ctx context.Context, name string) error {
	i := t.findSavepoint(name)
	if i < 0 {
		return errNoSavepoint(name)
	}
	sp := t.savepoints[i]
	t.savepoints = t.savepoints[:i]
	if !sp.taken {
		return nil
	}
	return t.execUnanswered(ctx, "RELEASE SAVEPOINT "+name)
}

func (t *Tx) findSavepoint(name string) int {
	for i := len(t.savepoints) - 1; i >= 0; i-- {
		if t.savepoints[i].name == name {
			return i
		}
	}
	return -1
}

type errNoSavepoint string

func (e errNoSavepoint) Error() string { return "store: no savepoint " + string(e) }

// barrier makes the database what the transaction has written: every
// savepoint noted is taken, each after the writes that precede it, and
// every held-back write is flushed. Statements the store cannot see into
// run after it. On PostgreSQL the flush is queued, and goes to the server
// ahead of the next statement that runs (see pgSession).
func (t *Tx) barrier(ctx context.Context) error {
	for i := range t.savepoints {
		sp := &t.savepoints[i]
		if sp.taken {
			continue
		}
		if err := t.flushPending(ctx, sp.mark); err != nil {
			return err
		}
		if err := t.execUnanswered(ctx, "SAVEPOINT "+sp.name); err != nil {
			return err
		}
		sp.taken = true
	}
	return t.flushPending(ctx, len(t.pending))
}

// flushPending writes the first n held-back writes in bulk and forgets
// them. Resources written more than once go in their final form.
func (t *Tx) flushPending(ctx context.Context, n int) error {
	if n == 0 {
		return nil
	}
	flushed := t.pending[:n]
	var inserts, updates []lockedRow
	final := make(map[string]int) // resource id → index in inserts or updates
	var groups []*rowGroup
	byTable := make(map[string]*rowGroup)
	for _, w := range flushed {
		if w.resource == nil {
			key := w.table + "(" + w.columns + ")" + w.suffix
			g := byTable[key]
			if g == nil {
				g = &rowGroup{table: w.table, columns: w.columns, suffix: w.suffix}
				byTable[key] = g
				groups = append(groups, g)
			}
			g.rows = append(g.rows, w.args)
			continue
		}
		id := w.resource.raw.id
		if i, ok := final[id]; ok {
			if i >= 0 {
				inserts[i] = *w.resource
			} else {
				updates[-i-1] = *w.resource
			}
			continue
		}
		if w.insert {
			final[id] = len(inserts)
			inserts = append(inserts, *w.resource)
		} else {
			final[id] = -len(updates) - 1
			updates = append(updates, *w.resource)
		}
	}
	// Link rows follow each resource's final links: all of a new one's,
	// and an updated one's only when they changed since the database had
	// them.
	var linkRows [][]any
	var relinked []string
	addLinks := func(r lockedRow) {
		rels := slices.Sorted(maps.Keys(r.links))
		for _, rel := range rels {
			linkRows = append(linkRows, []any{r.links[rel], rel, r.raw.typ, r.raw.createdUs, r.raw.id})
		}
	}
	for _, r := range inserts {
		addLinks(r)
	}
	for _, r := range updates {
		if stored, ok := t.locked[r.raw.id]; ok && maps.Equal(stored.links, r.links) {
			continue
		}
		relinked = append(relinked, r.raw.id)
		addLinks(r)
	}

	held := heldBack{resources: resourceArgs(inserts), updates: updates, relinked: relinked, links: linkRows}
	for _, g := range groups {
		held.groups = append(held.groups, rowGroup{table: g.table, columns: g.columns, suffix: g.suffix, rows: g.rows})
	}
	if err := t.d.bulk.writeHeldBack(ctx, t, held); err != nil {
		return err
	}

	// What was flushed is now what the database holds.
	for _, r := range inserts {
		t.remember(r)
	}
	for _, r := range updates {
		t.remember(r)
	}
	rest := t.pending[n:]
	t.pending = append(t.pending[:0:0], rest...)
	clear(t.latest)
	for i, w := range t.pending {
		if w.resource != nil {
			if t.latest == nil {
				t.latest = make(map[string]int)
			}
			t.latest[w.resource.raw.id] = i
		}
	}
	for i := range t.savepoints {
		t.savepoints[i].mark = max(t.savepoints[i].mark-n, 0)
	}
	return nil
}

const linkColumns = "target_id, rel, type, created_at_us, resource_id"

func resourceArgs(rows []lockedRow) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = []any{r.raw.id, r.raw.marketplace, r.raw.typ, r.raw.status, r.raw.hidden, r.raw.createdUs, r.raw.updatedUs, r.raw.body}
	}
	return out
}

// heldBack is what one flush writes.
type heldBack struct {
	// resources are new resource rows (resourceColumns), updates stored
	// ones rewritten.
	resources [][]any
	updates   []lockedRow
	// relinked are the resources whose link rows are replaced by theirs
	// in links (linkColumns), which also holds every new resource's.
	relinked []string
	links    [][]any
	// groups are rows of other tables, one group per table and suffix.
	groups []rowGroup
}

// rowGroup is held-back rows of one table with one statement suffix.
type rowGroup struct {
	table, columns, suffix string
	rows                   [][]any
}

// writeEach writes what a flush holds back one table at a time.
func (t *Tx) writeEach(ctx context.Context, held heldBack) error {
	if err := t.insertRows(ctx, "resources", resourceColumns, held.resources); err != nil {
		return err
	}
	if err := t.updateResources(ctx, held.updates); err != nil {
		return err
	}
	if err := t.deleteLinks(ctx, held.relinked); err != nil {
		return err
	}
	if err := t.insertRows(ctx, "resource_links", linkColumns, held.links); err != nil {
		return err
	}
	for _, g := range held.groups {
		if err := t.insertRowsOr(ctx, g.suffix, g.table, g.columns, g.rows); err != nil {
			return err
		}
	}
	return nil
}

// insertRows inserts rows of table in bulk (see bulkOps.insertRows).
func (t *Tx) insertRows(ctx context.Context, table, columns string, rows [][]any) error {
	return t.insertRowsOr(ctx, "", table, columns, rows)
}

// insertRowsOr is insertRows with a suffix ending each statement.
func (t *Tx) insertRowsOr(ctx context.Context, suffix, table, columns string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	return t.d.bulk.insertRows(ctx, t, suffix, table, columns, rows)
}

// updateResources rewrites stored resource rows, each of which the
// transaction has seen in the database, so each must be there.
func (t *Tx) updateResources(ctx context.Context, rows []lockedRow) error {
	if len(rows) == 0 {
		return nil
	}
	return t.d.bulk.updateResources(ctx, t, rows)
}

type errRowsMissing struct {
	want int
	got  int64
}

func (e errRowsMissing) Error() string {
	return fmt.Sprintf("store: a held-back resource update found %d of its %d rows", e.got, e.want)
}

// deleteLinks removes the link rows of resources whose links changed.
func (t *Tx) deleteLinks(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return t.d.bulk.deleteLinks(ctx, t, ids)
}

// execUnanswered runs a statement whose answer is only success or failure:
// on PostgreSQL it is queued (see pgSession).
func (t *Tx) execUnanswered(ctx context.Context, query string, args ...any) error {
	if t.pg != nil {
		t.pg.enqueue(query, args...)
		return nil
	}
	_, err := t.tx.ExecContext(ctx, t.d.rebind(query), args...)
	return t.wrap(err)
}

// execDirect runs a statement without the barrier: for the store's own
// statements over rows that are never held back, or that flush them.
func (t *Tx) execDirect(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = t.d.rebind(query)
	run, err := t.runnerFor(ctx, query)
	if err != nil {
		return nil, t.wrap(err)
	}
	res, err := run.ExecContext(ctx, query, args...)
	return res, t.wrap(err)
}

// queryDirect runs a query without the barrier, for rows that are never
// held back (accounts, resources by an ID that is not).
func (t *Tx) queryDirect(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = t.d.rebind(query)
	run, err := t.runnerFor(ctx, query)
	if err != nil {
		return nil, t.wrap(err)
	}
	rows, err := run.QueryContext(ctx, query, args...)
	return rows, t.wrap(err)
}
