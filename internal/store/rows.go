package store

import (
	"context"
	"database/sql"
)

// rowScanner is what a scan function reads one row from: *sql.Rows or
// *sql.Row.
type rowScanner interface{ Scan(...any) error }

// collectWith returns a reader of every row of a query, each read by
// scan, for the form collectWith(scanResource)(db.Query(ctx, ...)): the
// query's own error passes through, and the rows are always closed.
func collectWith[T any](scan func(rowScanner) (T, error)) func(*sql.Rows, error) ([]T, error) {
	return func(rows *sql.Rows, err error) ([]T, error) {
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []T
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
}

// queryFunc runs a query: DB.Query outside transactions, Tx.Query in one.
type queryFunc func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

// marketplaceRowsByID reads the rows of a marketplace whose column is
// among ids, in statements of a few hundred IDs (see eachChunk), and
// returns them by key. selectFrom is "SELECT columns FROM table"; IDs of
// another marketplace, or of nothing, are absent from the answer.
func marketplaceRowsByID[T any](ctx context.Context, query queryFunc, selectFrom, column, marketplace string, ids []string,
	scan func(rowScanner) (T, error), key func(T) string) (map[string]T, error) {
	out := make(map[string]T, len(ids))
	err := eachChunk(len(ids), func(start, size int) error {
		args := make([]any, 0, size+1)
		args = append(args, marketplace)
		for _, id := range ids[start : start+size] {
			args = append(args, id)
		}
		list, err := collectWith(scan)(query(ctx, selectFrom+" WHERE marketplace_id = ? AND "+column+" IN ("+placeholders(size)+")", args...))
		for _, v := range list {
			out[key(v)] = v
		}
		return err
	})
	return out, err
}
