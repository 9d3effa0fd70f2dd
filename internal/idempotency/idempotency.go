// Package idempotency makes a POST safe to repeat. A request carrying an
// Idempotency-Key runs its effect once; every repeat with the same key gets
// the stored response back, errors included. The record is written in the
// same database transaction as the effect, so an effect never exists
// without its record, nor a record without its effect.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// Retention is how long records are kept. Clients are promised at least 24
// hours; twice that covers a client retrying through a day-long outage.
const Retention = 48 * time.Hour

// MaxKeyLen bounds a client's key; 255 fits any UUID or hash clients use.
const MaxKeyLen = 255

// Record is a stored response to a keyed request.
type Record struct {
	Scope       string
	Key         string
	RequestHash string
	StatusCode  int
	Response    []byte
	CreatedAt   time.Time
}

// Response is what a request produced: a status and a body.
type Response struct {
	StatusCode int
	Body       []byte
}

// Request identifies a keyed request.
type Request struct {
	// Scope is where a key is unique: the API key, the method and the path
	// (see ScopeOf), so two clients, or one client on two endpoints, never
	// collide.
	Scope string
	Key   string
	// Hash identifies the request's content (see HashOf). A key reused with
	// another body is an error, never a replay of the wrong thing.
	Hash string
}

// ScopeOf builds the scope of a key.
func ScopeOf(apiKeyID, method, path string) string {
	return apiKeyID + " " + method + " " + path
}

// HashOf returns the hash of a request body.
func HashOf(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Store reads records outside a transaction.
type Store interface {
	LookupIdempotency(ctx context.Context, scope, key string) (Record, error)
}

// Tx reads and writes records inside a write transaction. A store's
// ledger.Tx implements it too.
type Tx interface {
	LookupIdempotency(ctx context.Context, scope, key string) (Record, error)
	// InsertIdempotency returns an error wrapping ledger.ErrDuplicate when
	// the key is taken.
	InsertIdempotency(ctx context.Context, r Record) error
}

// ErrKeyReused is returned when a key comes back with a different request.
var ErrKeyReused = apperr.WithReason(apperr.Conflict, "idempotency-key-reused",
	"this Idempotency-Key was used with a different request")

// errLostRace makes a writer undo its effect when another request with the
// same key committed first; the caller then replays that one's response.
var errLostRace = apperr.New(apperr.Conflict, "a request with this Idempotency-Key committed first")

// Keeper runs keyed requests exactly once.
type Keeper struct {
	store  Store
	ledger *ledger.Ledger
}

// NewKeeper returns a keeper writing through l and reading from s.
func NewKeeper(s Store, l *ledger.Ledger) *Keeper { return &Keeper{store: s, ledger: l} }

// Op is the effect of a keyed request. It returns the response to store.
type Op func(ctx context.Context, w *ledger.Writer) (Response, error)

// Do runs op once for req and returns its response, or the stored response
// of an earlier run with replayed set. Refusals (bad input, not enough
// money, ...) are stored and replayed like successes; failures that say
// nothing about the request (overload, shutdown, internal errors) are not,
// so a retry with the same key gets a real second attempt. render turns a
// refusal into its response.
func (k *Keeper) Do(ctx context.Context, req Request, hint []string, op Op, render func(error) Response) (resp Response, replayed bool, err error) {
	if len(req.Key) > MaxKeyLen {
		return Response{}, false, apperr.New(apperr.Invalid, "Idempotency-Key is longer than %d characters", MaxKeyLen)
	}
	if rec, err := k.store.LookupIdempotency(ctx, req.Scope, req.Key); err == nil {
		return replay(rec, req)
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return Response{}, false, err
	}
	v, err := k.ledger.Do(ctx, hint, func(ctx context.Context, w *ledger.Writer) (any, error) {
		tx, err := keyTx(w)
		if err != nil {
			return nil, err
		}
		if rec, err := tx.LookupIdempotency(ctx, req.Scope, req.Key); err == nil {
			return rec, nil // committed by another process since our first look
		} else if !errors.Is(err, ledger.ErrNotFound) {
			return nil, err
		}
		resp, err := op(ctx, w)
		if err != nil {
			return nil, err
		}
		return resp, store(ctx, tx, req, resp, w.Now())
	})
	switch {
	case err == nil:
		if rec, ok := v.(Record); ok {
			return replay(rec, req)
		}
		return v.(Response), false, nil
	case err == errLostRace:
		return k.replayStored(ctx, req)
	case !storable(err):
		return Response{}, false, err
	}
	// The effect was refused and undone; record the refusal on its own.
	refusal := render(err)
	_, serr := k.ledger.Do(ctx, nil, func(ctx context.Context, w *ledger.Writer) (any, error) {
		tx, err := keyTx(w)
		if err != nil {
			return nil, err
		}
		return nil, store(ctx, tx, req, refusal, w.Now())
	})
	if serr == errLostRace {
		return k.replayStored(ctx, req)
	}
	if serr != nil {
		return Response{}, false, serr
	}
	return refusal, false, nil
}

// Ready says whether the store's transactions, as w has one, keep
// idempotency records; a server checks it before it takes keyed requests.
func (k *Keeper) Ready(w *ledger.Writer) error {
	_, err := keyTx(w)
	return err
}

func keyTx(w *ledger.Writer) (Tx, error) {
	tx, err := w.Tx()
	if err != nil {
		return nil, err
	}
	ktx, ok := tx.(Tx)
	if !ok {
		return nil, errors.New("idempotency: the store does not keep idempotency records")
	}
	return ktx, nil
}

func store(ctx context.Context, tx Tx, req Request, resp Response, now time.Time) error {
	err := tx.InsertIdempotency(ctx, Record{
		Scope: req.Scope, Key: req.Key, RequestHash: req.Hash,
		StatusCode: resp.StatusCode, Response: resp.Body, CreatedAt: now,
	})
	if errors.Is(err, ledger.ErrDuplicate) {
		return errLostRace
	}
	return err
}

func (k *Keeper) replayStored(ctx context.Context, req Request) (Response, bool, error) {
	rec, err := k.store.LookupIdempotency(ctx, req.Scope, req.Key)
	if err != nil {
		return Response{}, false, err
	}
	return replay(rec, req)
}

func replay(rec Record, req Request) (Response, bool, error) {
	if rec.RequestHash != req.Hash {
		return Response{}, false, ErrKeyReused
	}
	return Response{StatusCode: rec.StatusCode, Body: rec.Response}, true, nil
}

// storable reports whether a refusal says something about the request itself.
func storable(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Conflict, apperr.InsufficientFunds, apperr.Forbidden:
		return true
	}
	return false
}
