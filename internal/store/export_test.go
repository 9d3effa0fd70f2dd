package store

import "database/sql"

// WritePool exposes the write pool to tests that shape it (its size) or
// change a session in it.
func (db *DB) WritePool() *sql.DB { return db.write }
