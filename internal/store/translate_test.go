package store

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/poise-payments/poise/internal/apperr"
)

// What a transaction's final failure becomes: contention that outlasted
// every retry is a transient state (503, retry), a duplicate key is
// ErrDuplicate, and any other failure stays what it was (500).
func TestTranslateClassifiesFinalFailures(t *testing.T) {
	db := &DB{dialect: &postgresDialect}
	for _, code := range []string{"40001", "40P01"} {
		err := db.translate(&pgconn.PgError{Code: code})
		if !apperr.Is(err, apperr.Unavailable) {
			t.Errorf("SQLSTATE %s after the last retry = %v (%s), want unavailable", code, err, apperr.CodeOf(err))
		}
		var pg *pgconn.PgError
		if !errors.As(err, &pg) {
			t.Errorf("SQLSTATE %s: the cause is lost", code)
		}
	}
	if err := db.translate(&pgconn.PgError{Code: "23505"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("unique violation = %v", err)
	}
	other := errors.New("connection reset by peer")
	if err := db.translate(other); err != other || apperr.CodeOf(err) != apperr.Internal {
		t.Errorf("an unclassified failure = %v (%s), want it unchanged and internal", err, apperr.CodeOf(err))
	}
}
