package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/poise-payments/poise/internal/payments"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds the few things SQLite and PostgreSQL do differently. All
// SQL is written once, portable, with ? placeholders.
type dialect struct {
	name string
	// lockSuffix locks selected rows until commit. SQLite needs none: a
	// write transaction there holds the database's one write lock.
	lockSuffix string
	// rebind turns ? placeholders into the driver's own.
	rebind func(string) string
	// classify sorts driver errors into the kinds the store acts on.
	classify func(error) errorKind
	// lost says whether an error means the database could not be reached
	// or no longer takes writes, rather than refusing the statement.
	lost func(error) bool
	// maxParams bounds the placeholders of one statement.
	maxParams int
	// migrationText adapts a migration's portable text to the database.
	migrationText func(string) string
	// bulk writes and locks many rows at once, the way each database does
	// it fastest.
	bulk bulkOps
	// jsonDoc gives how lists read the JSON of a column: a join to add
	// after the table, and the document expression jsonValue reads.
	jsonDoc func(column string) (join, doc string)
	// jsonValue reads a value of kind from a document by path: an SQL
	// expression, NULL when the value is missing or of another kind, and
	// its arguments.
	jsonValue func(doc string, path []string, kind payments.ValueKind) (string, []any)
	// position finds needle in text: 1-based, 0 when absent.
	position func(text, needle string) string
	// byteCollation makes text compare byte by byte.
	byteCollation string
}

type errorKind int

const (
	errOther errorKind = iota
	// errRetry: serialization failure, deadlock, busy database; the whole
	// transaction may simply be run again.
	errRetry
	errUnique
	errCheck
)

var sqliteDialect = dialect{
	name:       "sqlite",
	lockSuffix: "",
	rebind:     func(q string) string { return q },
	classify: func(err error) errorKind {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return errOther
		}
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return errUnique
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			return errCheck
		}
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return errRetry
		}
		return errOther
	},
	// An embedded database is never out of reach.
	lost: func(error) bool { return false },
	// SQLite's default limit is 32766; stay well under it.
	maxParams: 30000,
	bulk:      valuesBulk{},
	jsonDoc:   sqliteJSONDoc,
	jsonValue: sqliteJSONValue,
	position:  func(text, needle string) string { return "instr(" + text + ", " + needle + ")" },
	// SQLite's default collation is already byte order.
	byteCollation: "",
	migrationText: func(q string) string {
		return sqliteOnly.ReplaceAllString(q, "$1")
	},
}

// sqliteOnly finds, in a migration, a comment that opens with "sqlite:"
// and a space or a line break: a comment everywhere but SQLite, where the
// text after that prefix runs in its place ("/*sqlite: WITHOUT ROWID*/"
// becomes WITHOUT ROWID). The text may span lines and must not itself
// contain "*/".
var sqliteOnly = regexp.MustCompile(`(?s)/\*sqlite:\s+(.*?)\*/`)

var postgresDialect = dialect{
	name:       "postgres",
	lockSuffix: " FOR UPDATE",
	rebind:     rebindDollar,
	classify: func(err error) errorKind {
		var e *pgconn.PgError
		if !errors.As(err, &e) {
			return errOther
		}
		switch e.Code {
		case "40001", "40P01":
			return errRetry
		case "23505":
			return errUnique
		case "23514":
			return errCheck
		}
		return errOther
	},
	lost: postgresLost,
	// The protocol allows 65535 parameters per statement.
	maxParams:     60000,
	bulk:          arrayBulk{},
	jsonDoc:       postgresJSONDoc,
	jsonValue:     postgresJSONValue,
	position:      func(text, needle string) string { return "strpos(" + text + ", " + needle + ")" },
	byteCollation: ` COLLATE "C"`,
	migrationText: func(q string) string { return q },
}

// rebindDollar numbers placeholders the PostgreSQL way: ? → $1, $2, ...
// Poise's SQL never has a ? inside a string literal, so a plain scan works.
func rebindDollar(q string) string {
	n := strings.Count(q, "?")
	if n == 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + n*4)
	i := 0
	for _, r := range q {
		if r == '?' {
			i++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(i))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// postgresLost recognises a PostgreSQL that could not be reached or no
// longer takes writes: a failed connection, one cut, a server shut down,
// or a primary demoted to a read-only standby.
func postgresLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "25006", // read_only_sql_transaction: a demoted primary
			"57P01", "57P02", "57P03": // shut down, crashed, not yet taking connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exceptions
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, sql.ErrConnDone) || pgconn.SafeToRetry(err)
}
