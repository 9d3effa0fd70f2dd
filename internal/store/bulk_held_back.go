package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The held-back rows of a transaction (write_behind.go) in bulk, in each
// database's form.

// insertRows writes rows in multi-row VALUES statements of a few fixed
// sizes (see eachChunk), so that each statement text is prepared once.
func (valuesBulk) insertRows(ctx context.Context, t *Tx, suffix, table, columns string, rows [][]any) error {
	width := len(rows[0])
	tuple := "(" + placeholders(width) + ")"
	return eachChunk(len(rows), func(start, size int) error {
		args := make([]any, 0, size*width)
		for _, r := range rows[start : start+size] {
			args = append(args, r...)
		}
		_, err := t.execDirect(ctx, "INSERT INTO "+table+" ("+columns+") VALUES "+valuesList(size, tuple)+suffix, args...)
		return err
	})
}

// A held-back update rewrites what changes, not marketplace_id: SQLite
// rewrites a row's entry in every index over a column an UPDATE sets,
// changed or not, and setting marketplace_id cost each update the delete
// and insert of its resources_list entry. A resource that does move to
// another marketplace is moved at once (UpdateResource).
func (valuesBulk) updateResources(ctx context.Context, t *Tx, rows []lockedRow) error {
	const tuple = "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BOOLEAN), CAST(? AS BIGINT), CAST(? AS TEXT))"
	return eachChunk(len(rows), func(start, size int) error {
		args := make([]any, 0, size*5)
		for _, r := range rows[start : start+size] {
			args = append(args, r.raw.id, r.raw.status, r.raw.hidden, r.raw.updatedUs, r.raw.body)
		}
		res, err := t.execDirect(ctx, "UPDATE resources SET status = v.column2, hidden = v.column3, updated_at_us = v.column4, body = v.column5 FROM (VALUES "+
			valuesList(size, tuple)+") AS v WHERE resources.id = v.column1", args...)
		return checkResourcesUpdated(res, err, size)
	})
}

func (valuesBulk) deleteLinks(ctx context.Context, t *Tx, ids []string) error {
	return eachChunk(len(ids), func(start, size int) error {
		args := make([]any, size)
		for i, id := range ids[start : start+size] {
			args[i] = id
		}
		_, err := t.execDirect(ctx, "DELETE FROM resource_links WHERE resource_id IN ("+placeholders(size)+")", args...)
		return err
	})
}

// insertRows writes all rows in one statement whatever their number (see
// unnestInsert); rows with a value no array form is given for (none today)
// go as VALUES statements instead.
func (arrayBulk) insertRows(ctx context.Context, t *Tx, suffix, table, columns string, rows [][]any) error {
	query, args, ok := unnestInsert(suffix, table, columns, rows)
	if !ok {
		return valuesBulk{}.insertRows(ctx, t, suffix, table, columns, rows)
	}
	_, err := t.execDirect(ctx, query, args...)
	return err
}

// unnestInsert is an INSERT of rows whatever their number: each column
// travels as one array, typed by the Go values it holds, and unnest turns
// the arrays back into rows. ok is false when a column holds values no
// array form is given for.
func unnestInsert(suffix, table, columns string, rows [][]any) (query string, args []any, ok bool) {
	width := len(rows[0])
	args = make([]any, width)
	casts := make([]string, width)
	for c := range width {
		array, sqlType, ok := columnArray(rows, c)
		if !ok {
			return "", nil, false
		}
		args[c] = array
		casts[c] = "CAST(? AS " + sqlType + "[])"
	}
	return "INSERT INTO " + table + " (" + columns + ") SELECT * FROM unnest(" + strings.Join(casts, ", ") + ")" + suffix, args, true
}

// columnArray gathers column c of rows into a typed slice for an array
// parameter, with its SQL element type. A column that holds a NULL (nil)
// travels as a slice of pointers.
func columnArray(rows [][]any, c int) (array any, sqlType string, ok bool) {
	var sample any
	nulls := false
	for _, r := range rows {
		if r[c] == nil {
			nulls = true
		} else if sample == nil {
			sample = r[c]
		}
	}
	switch sample.(type) {
	case string:
		return gather(rows, c, nulls, func(v any) string { return v.(string) }), "TEXT", true
	case int64, int, int32:
		return gather(rows, c, nulls, asInt64), "BIGINT", true
	case bool:
		return gather(rows, c, nulls, func(v any) bool { return v.(bool) }), "BOOLEAN", true
	}
	return nil, "", false
}

func asInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	default:
		return int64(n.(int32))
	}
}

// gather returns column c of rows as []T, or as []*T when it holds NULLs.
func gather[T any](rows [][]any, c int, nulls bool, conv func(any) T) any {
	if !nulls {
		out := make([]T, len(rows))
		for i, r := range rows {
			out[i] = conv(r[c])
		}
		return out
	}
	out := make([]*T, len(rows))
	for i, r := range rows {
		if r[c] != nil {
			v := conv(r[c])
			out[i] = &v
		}
	}
	return out
}

func (arrayBulk) updateResources(ctx context.Context, t *Tx, rows []lockedRow) error {
	res, err := t.execDirect(ctx, updateResourcesFromArrays, resourceUpdateArrays(rows)...)
	return checkResourcesUpdated(res, err, len(rows))
}

// updateResourcesFromArrays rewrites the resource rows whose columns
// resourceUpdateArrays makes.
const updateResourcesFromArrays = `UPDATE resources SET status = v.status, hidden = v.hidden, updated_at_us = v.updated_at_us, body = v.body
	FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS BOOLEAN[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]))
		AS v(id, status, hidden, updated_at_us, body)
	WHERE resources.id = v.id`

func resourceUpdateArrays(rows []lockedRow) []any {
	n := len(rows)
	ids, statuses, bodies := make([]string, n), make([]string, n), make([]string, n)
	hidden := make([]bool, n)
	updated := make([]int64, n)
	for i, r := range rows {
		ids[i], statuses[i], hidden[i], updated[i], bodies[i] = r.raw.id, r.raw.status, r.raw.hidden, r.raw.updatedUs, r.raw.body
	}
	return []any{ids, statuses, hidden, updated, bodies}
}

func (arrayBulk) deleteLinks(ctx context.Context, t *Tx, ids []string) error {
	return t.execUnanswered(ctx, "DELETE FROM resource_links WHERE resource_id = ANY(CAST(? AS TEXT[]))", ids)
}

// checkResourcesUpdated fails a held-back update that found fewer rows
// than it rewrites.
func checkResourcesUpdated(res sql.Result, err error, want int) error {
	return checkRows(res, err, want, func(got int64) error { return errRowsMissing{want: want, got: got} })
}

func (valuesBulk) writeHeldBack(ctx context.Context, t *Tx, held heldBack) error {
	return t.writeEach(ctx, held)
}

// writeHeldBack sends every table's held-back rows in one statement, each
// table's write a data-modifying WITH query of it: one round trip for what
// took six. Link rows being replaced are deleted first, apart: a statement
// cannot delete rows and insert their keys again.
func (arrayBulk) writeHeldBack(ctx context.Context, t *Tx, held heldBack) error {
	if len(held.relinked) > 0 {
		if err := t.deleteLinks(ctx, held.relinked); err != nil {
			return err
		}
		held.relinked = nil
	}
	var parts []string
	var args []any
	insert := func(suffix, table, columns string, rows [][]any) bool {
		if len(rows) == 0 {
			return true
		}
		query, rowArgs, ok := unnestInsert(suffix, table, columns, rows)
		if !ok {
			return false
		}
		parts = append(parts, fmt.Sprintf("w%d AS (%s)", len(parts), query))
		args = append(args, rowArgs...)
		return true
	}
	ok := insert("", "resources", resourceColumns, held.resources)
	if ok && len(held.updates) > 0 {
		parts = append(parts, "updated AS ("+updateResourcesFromArrays+" RETURNING 1)")
		args = append(args, resourceUpdateArrays(held.updates)...)
	}
	ok = ok && insert("", "resource_links", linkColumns, held.links)
	for _, g := range held.groups {
		ok = ok && insert(g.suffix, g.table, g.columns, g.rows)
	}
	if !ok {
		// A column with no array form: table by table instead.
		return t.writeEach(ctx, held)
	}
	if len(parts) == 0 {
		return nil
	}
	final := "SELECT 0"
	if len(held.updates) > 0 {
		final = assertCount("updated", "store: a held-back resource update found a number of rows other than ")
		args = append(args, len(held.updates), len(held.updates))
	}
	return t.execUnanswered(ctx, "WITH "+strings.Join(parts, ",\n")+"\n"+final, args...)
}

// assertCount is a query that counts the rows of cte and fails, with
// message and the count expected, unless there are as many as its two
// parameters (both the count expected) say. A pipelined statement has no
// caller to check its result: the database checks it, and the failure
// rolls the transaction back.
func assertCount(cte, message string) string {
	return "SELECT CASE WHEN count(*) = CAST(? AS BIGINT) THEN 0 ELSE CAST('" + message +
		"' || CAST(? AS BIGINT) || ', found ' || count(*) AS INTEGER) END FROM " + cte
}
