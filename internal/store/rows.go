package store

import "database/sql"

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
