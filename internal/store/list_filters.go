package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/payments"
)

// errListQuery reports a list query the API should never have built; it is
// a bug, not a user error.
var errListQuery = errors.New("store: malformed list query")

// listSQL is the WHERE conditions and ORDER BY of a list, with their
// arguments.
type listSQL struct {
	// join, when not empty, follows the listed table in FROM: what the
	// conditions need to read JSON.
	join      string
	where     []string
	whereArgs []any
	order     []string
	orderArgs []any
}

// rowShape is where a listed table keeps what filters compare.
type rowShape struct {
	// id, created and updated are columns; updated may be "".
	id, created, updated string
	// body is the JSON column fields are read from.
	body string
	// bodyPath is the path in body of a field, or false when the row has
	// no such field.
	bodyPath func(field []string) ([]string, bool)
}

// resourceRows are the rows of "resources r": fields live under "fields"
// in the body.
var resourceRows = rowShape{id: "r.id", created: "r.created_at_us", updated: "r.updated_at_us", body: "r.body",
	bodyPath: func(field []string) ([]string, bool) { return append([]string{"fields"}, field...), true }}

// apiKeyRows are the rows of "api_keys k": only meta is a JSON field.
var apiKeyRows = rowShape{id: "k.id", created: "k.created_at_us", body: "k.meta",
	bodyPath: func(field []string) ([]string, bool) {
		if len(field) == 2 && field[0] == "meta" {
			return field[1:], true
		}
		return nil, false
	}}

// listWhere translates a list query's ids, filters and order into SQL over
// rows of the given shape. Every value is an argument; only the dialect's
// fixed texts reach the SQL.
func (d *dialect) listWhere(rows rowShape, q payments.ListQuery) (listSQL, error) {
	var s listSQL
	if len(q.IDs) > 0 {
		s.where = append(s.where, rows.id+" IN ("+placeholders(len(q.IDs))+")")
		for _, id := range q.IDs {
			s.whereArgs = append(s.whereArgs, id)
		}
	}
	for _, f := range q.Filters {
		cond, args, err := d.filterSQL(rows, f)
		if err != nil {
			return s, err
		}
		s.where = append(s.where, cond)
		s.whereArgs = append(s.whereArgs, args...)
	}
	tie, byCreated := "DESC", false
	for _, k := range q.Order {
		dir := "ASC"
		if k.Desc {
			dir = "DESC"
		}
		if k.Attr.Own == payments.OwnCreatedAt {
			byCreated, tie = true, dir
		}
		expr, args, err := d.attributeSQL(rows, k.Attr)
		if err != nil {
			return s, err
		}
		if k.Attr.Own != "" {
			s.order = append(s.order, expr+" "+dir)
			continue
		}
		if k.Attr.Kind == payments.KindText {
			// Byte order, as SQLite compares, whatever the database's locale.
			expr += d.byteCollation
		}
		// Resources lacking the attribute go last either way; databases
		// disagree on where NULL sorts.
		s.order = append(s.order, "("+expr+" IS NULL) ASC", expr+" "+dir)
		s.orderArgs = append(s.orderArgs, args...)
		s.orderArgs = append(s.orderArgs, args...)
	}
	if !byCreated {
		s.order = append(s.order, rows.created+" DESC")
	}
	s.order = append(s.order, rows.id+" "+tie)
	readsJSON := false
	for _, f := range q.Filters {
		readsJSON = readsJSON || f.Attr.Own == ""
	}
	for _, k := range q.Order {
		readsJSON = readsJSON || k.Attr.Own == ""
	}
	if readsJSON {
		s.join, _ = d.jsonDoc(rows.body)
	}
	if n := len(s.whereArgs) + len(s.orderArgs); n > d.maxParams/2 {
		return s, fmt.Errorf("%w: %d arguments", errListQuery, n)
	}
	return s, nil
}

// attributeSQL is the SQL value of an attribute of a row: NULL when the
// row lacks it or holds a value of another kind.
func (d *dialect) attributeSQL(rows rowShape, a payments.Attribute) (string, []any, error) {
	switch {
	case a.Own == payments.OwnCreatedAt:
		return rows.created, nil, nil
	case a.Own == payments.OwnUpdatedAt && rows.updated != "":
		return rows.updated, nil, nil
	case a.Own != "":
		return "", nil, fmt.Errorf("%w: no attribute %q", errListQuery, a.Own)
	}
	if len(a.Field) == 0 || a.Kind == payments.KindTime {
		return "", nil, fmt.Errorf("%w: field %v of kind %d", errListQuery, a.Field, a.Kind)
	}
	for _, k := range a.Field {
		if k == "" || strings.ContainsAny(k, "\"\\\x00") {
			return "", nil, fmt.Errorf("%w: field key %q", errListQuery, k)
		}
	}
	path, ok := rows.bodyPath(a.Field)
	if !ok {
		return "", nil, fmt.Errorf("%w: no field %v", errListQuery, a.Field)
	}
	_, doc := d.jsonDoc(rows.body)
	expr, args := d.jsonValue(doc, path, a.Kind)
	return expr, args, nil
}

// filterSQL is one filter as a condition.
func (d *dialect) filterSQL(rows rowShape, f payments.Filter) (string, []any, error) {
	expr, exprArgs, err := d.attributeSQL(rows, f.Attr)
	if err != nil {
		return "", nil, err
	}
	vals := make([]any, len(f.Values))
	for i, v := range f.Values {
		if vals[i], err = sqlValue(f.Attr, v); err != nil {
			return "", nil, err
		}
	}
	param := "?"
	switch f.Attr.Kind {
	case payments.KindText, payments.KindBool:
		param = "CAST(? AS TEXT)"
	case payments.KindNumber:
		param = "CAST(? AS BIGINT)"
	}
	one := func() error {
		if len(vals) != 1 {
			return fmt.Errorf("%w: %s takes one value, not %d", errListQuery, f.Op, len(vals))
		}
		return nil
	}
	textOnly := func() error {
		if f.Attr.Kind != payments.KindText {
			return fmt.Errorf("%w: %s on a value of kind %d", errListQuery, f.Op, f.Attr.Kind)
		}
		return one()
	}
	args := append([]any{}, exprArgs...)
	switch f.Op {
	case payments.OpEq, payments.OpNe, payments.OpLt, payments.OpLe, payments.OpGt, payments.OpGe:
		if err := one(); err != nil {
			return "", nil, err
		}
		if f.Attr.Kind == payments.KindBool && f.Op != payments.OpEq && f.Op != payments.OpNe {
			return "", nil, fmt.Errorf("%w: %s on a boolean", errListQuery, f.Op)
		}
		op := string(f.Op)
		if f.Op == payments.OpNe {
			op = "<>"
		}
		if f.Attr.Kind == payments.KindText {
			expr += d.byteCollation
		}
		return expr + " " + op + " " + param, append(args, vals[0]), nil
	case payments.OpIn, payments.OpNotIn:
		if len(vals) == 0 {
			return "", nil, fmt.Errorf("%w: %s with no values", errListQuery, f.Op)
		}
		list := strings.TrimSuffix(strings.Repeat(param+", ", len(vals)), ", ")
		not := ""
		if f.Op == payments.OpNotIn {
			not = "NOT "
		}
		return expr + " " + not + "IN (" + list + ")", append(args, vals...), nil
	case payments.OpContains:
		if err := textOnly(); err != nil {
			return "", nil, err
		}
		return d.position(expr, param) + " > 0", append(args, vals[0]), nil
	case payments.OpStartsWith:
		if err := textOnly(); err != nil {
			return "", nil, err
		}
		cond := "substr(" + expr + ", 1, length(" + param + ")) = " + param
		return cond, append(args, vals[0], vals[0]), nil
	case payments.OpEndsWith:
		if err := textOnly(); err != nil {
			return "", nil, err
		}
		// substr from a start past the length, or from 1 when the suffix is
		// longer than the value, would compare the wrong text: the length
		// check keeps the second from matching.
		cond := "length(" + expr + ") >= length(" + param + ") AND substr(" + expr + ", length(" + expr + ") - length(" + param + ") + 1) = " + param
		out := append([]any{}, exprArgs...)
		out = append(out, vals[0])
		out = append(out, exprArgs...)
		out = append(out, exprArgs...)
		out = append(out, vals[0], vals[0])
		return "(" + cond + ")", out, nil
	}
	return "", nil, fmt.Errorf("%w: operator %q", errListQuery, f.Op)
}

// sqlValue is a filter value as the database compares it.
func sqlValue(a payments.Attribute, v any) (any, error) {
	var ok bool
	var out any
	switch a.Kind {
	case payments.KindText:
		out, ok = v.(string)
	case payments.KindNumber:
		out, ok = v.(int64)
	case payments.KindBool:
		var b bool
		if b, ok = v.(bool); ok {
			out = "false"
			if b {
				out = "true"
			}
		}
	case payments.KindTime:
		var t time.Time
		if t, ok = v.(time.Time); ok {
			out = t.UnixMicro()
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: value %v (%T) for a value of kind %d", errListQuery, v, v, a.Kind)
	}
	return out, nil
}

// sqliteJSONDoc reads JSON from the column itself: SQLite keeps the last
// documents it parsed, so several reads of one row parse it once.
func sqliteJSONDoc(column string) (join, doc string) { return "", column }

// postgresJSONDoc parses the column once per row: each cast of the text to
// jsonb would parse it again. OFFSET 0 keeps the planner from inlining the
// cast back into every expression that reads it.
func postgresJSONDoc(column string) (join, doc string) {
	return " CROSS JOIN LATERAL (SELECT " + column + "::jsonb AS doc OFFSET 0) jd", "jd.doc"
}

// sqliteJSONValue reads a value of the JSON column by path. Keys are quoted in the
// path, which SQLite cannot escape: attributeSQL refuses keys holding a
// double quote or a backslash.
func sqliteJSONValue(doc string, path []string, kind payments.ValueKind) (string, []any) {
	var b strings.Builder
	b.WriteString("$")
	for _, k := range path {
		b.WriteString(`."`)
		b.WriteString(k)
		b.WriteString(`"`)
	}
	p := b.String()
	switch kind {
	case payments.KindNumber:
		return "(CASE WHEN json_type(" + doc + ", ?) = 'integer' THEN json_extract(" + doc + ", ?) END)", []any{p, p}
	case payments.KindBool:
		return "(CASE WHEN json_type(" + doc + ", ?) IN ('true', 'false') THEN json_type(" + doc + ", ?) END)", []any{p, p}
	default:
		return "(CASE WHEN json_type(" + doc + ", ?) = 'text' THEN json_extract(" + doc + ", ?) END)", []any{p, p}
	}
}

// postgresJSONValue reads a value of a parsed document by path, each key
// an argument.
func postgresJSONValue(doc string, path []string, kind payments.ValueKind) (string, []any) {
	x := "jsonb_extract_path(" + doc + ", " + strings.TrimSuffix(strings.Repeat("CAST(? AS TEXT), ", len(path)), ", ") + ")"
	keys := make([]any, 0, 2*len(path))
	for range 2 {
		for _, k := range path {
			keys = append(keys, k)
		}
	}
	switch kind {
	case payments.KindNumber:
		return "(CASE WHEN jsonb_typeof(" + x + ") = 'number' THEN (" + x + " #>> '{}')::numeric END)", keys
	case payments.KindBool:
		return "(CASE WHEN jsonb_typeof(" + x + ") = 'boolean' THEN " + x + " #>> '{}' END)", keys
	default:
		return "(CASE WHEN jsonb_typeof(" + x + ") = 'string' THEN " + x + " #>> '{}' END)", keys
	}
}
