package store

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/poise-payments/poise/internal/apperr"
)

// A PostgreSQL out of reach, or a primary demoted to a standby, is
// reported unavailable (503, retry); a statement the database refused is
// not, and SQLite's errors never are.
func TestALostDatabaseIsUnavailable(t *testing.T) {
	lost := []error{
		&pgconn.PgError{Code: "25006"},
		&pgconn.PgError{Code: "57P01"},
		&pgconn.PgError{Code: "08006"},
		fmt.Errorf("read: %w", io.ErrUnexpectedEOF),
		&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")},
	}
	for _, err := range lost {
		if got := postgresDialect.unavailable(err); apperr.CodeOf(got) != apperr.Unavailable || !errors.Is(got, err) {
			t.Errorf("%v: %v, want unavailable wrapping it", err, got)
		}
		if got := sqliteDialect.unavailable(err); got != err {
			t.Errorf("sqlite %v: %v, want it unchanged", err, got)
		}
	}
	for _, err := range []error{&pgconn.PgError{Code: "23505"}, &pgconn.PgError{Code: "22003"}, errors.New("store: malformed body")} {
		if got := postgresDialect.unavailable(err); got != err {
			t.Errorf("%v: %v, want it unchanged", err, got)
		}
	}
}
