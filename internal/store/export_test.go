package store

import "database/sql"

// WritePool exposes the write pool to tests that shape it (its size) or
// change a session in it.
func (db *DB) WritePool() *sql.DB { return db.write }

// BulkQuery returns the text of one of PostgreSQL's bulk statements, with
// PostgreSQL's placeholders.
func BulkQuery(name string) string {
	switch name {
	case "lockAccounts":
		return postgresDialect.rebind(lockAccountsEach)
	case "lockResources":
		return postgresDialect.rebind(lockResourcesEach)
	}
	panic("no bulk query " + name)
}
