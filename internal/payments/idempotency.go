package payments

import (
	"context"
	"errors"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/ledger"
)

// IdempotencySlot carries a keyed request through the service. The first
// write of the request that is its effect (not the claiming or tokenizing
// of an instrument on the way) runs through the idempotency keeper: the
// response is rendered and stored in the same transaction as the effect.
type IdempotencySlot struct {
	Request idempotency.Request
	// Render turns the written resource into the response to store.
	Render func(r Resource) idempotency.Response
	// RenderError turns a refusal into the response to store.
	RenderError func(err error) idempotency.Response
	// Response, once set, is the request's answer: the stored one when
	// Replayed, or the one just recorded.
	Response *idempotency.Response
	Replayed bool
	used     bool
}

type slotKey struct{}
type noSlotKey struct{}

// WithIdempotency makes the request's effect idempotent under slot.
func WithIdempotency(ctx context.Context, slot *IdempotencySlot) context.Context {
	return context.WithValue(ctx, slotKey{}, slot)
}

// WithoutIdempotency marks writes that are not a request's effect.
func WithoutIdempotency(ctx context.Context) context.Context {
	return context.WithValue(ctx, noSlotKey{}, true)
}

// ErrAnswered tells the surface that the response is in the request's
// idempotency slot (a replay, or a refusal recorded as the answer).
var ErrAnswered = errors.New("payments: the response is in the idempotency slot")

func slotOf(ctx context.Context) *IdempotencySlot {
	if ctx.Value(noSlotKey{}) != nil {
		return nil
	}
	slot, _ := ctx.Value(slotKey{}).(*IdempotencySlot)
	if slot == nil || slot.used {
		return nil
	}
	return slot
}

// writeKeyed runs op as the request's effect, keyed.
func (s *Service) writeKeyed(ctx context.Context, slot *IdempotencySlot, marketplace string, hint []string, op Op) (any, error) {
	slot.used = true
	var result any
	resp, replayed, err := s.keeper.Do(ctx, slot.Request, hint, func(ctx context.Context, lw *ledger.Writer) (idempotency.Response, error) {
		v, err := s.runOp(ctx, lw, marketplace, op)
		if err != nil {
			return idempotency.Response{}, err
		}
		result = v
		r, ok := v.(Resource)
		if !ok {
			return idempotency.Response{}, apperr.New(apperr.Internal, "a keyed write returned no resource")
		}
		return slot.Render(r), nil
	}, slot.RenderError)
	if err != nil {
		return nil, err
	}
	slot.Response, slot.Replayed = &resp, replayed
	if replayed || result == nil {
		return nil, ErrAnswered
	}
	return result, nil
}

// LookupIdempotency finds the stored response of a keyed request. A key
// reused with another body is refused.
func (s *Service) LookupIdempotency(ctx context.Context, req idempotency.Request) (idempotency.Response, bool, error) {
	if len(req.Key) > idempotency.MaxKeyLen {
		return idempotency.Response{}, false, apperr.New(apperr.Invalid, "Idempotency-Key is longer than %d characters", idempotency.MaxKeyLen)
	}
	rec, err := s.store.LookupIdempotency(ctx, req.Scope, req.Key)
	if errors.Is(err, ledger.ErrNotFound) {
		return idempotency.Response{}, false, nil
	}
	if err != nil {
		return idempotency.Response{}, false, err
	}
	if rec.RequestHash != req.Hash {
		return idempotency.Response{}, false, idempotency.ErrKeyReused
	}
	return idempotency.Response{StatusCode: rec.StatusCode, Body: rec.Response}, true, nil
}
