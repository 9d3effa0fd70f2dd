package balanced

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/payments"
)

// Idempotency headers.
const (
	// IdempotencyKeyHeader names a POST's key: the same key and body again
	// get the first response back, without a second effect.
	IdempotencyKeyHeader = "Idempotency-Key"
	// ReplayedHeader is set on a response replayed from an earlier request.
	ReplayedHeader = "Idempotent-Replayed"
)

// keyedCall prepares a POST that carries an Idempotency-Key. It answers a
// replay at once (true) or arms the request's slot for its effect.
func (a *API) keyedCall(c *call) (*payments.IdempotencySlot, bool) {
	key := c.r.Header.Get(IdempotencyKeyHeader)
	if key == "" || c.key == nil || c.r.Method != http.MethodPost {
		return nil, false
	}
	if !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl) {
		a.fail(c, apperr.WithReason(apperr.Invalid, "request", "%s must be UTF-8 text without control characters", IdempotencyKeyHeader), 0)
		return nil, true
	}
	req := idempotency.Request{
		Scope: idempotency.ScopeOf(c.key.ID, c.r.Method, c.r.URL.Path),
		Key:   key,
		Hash:  idempotency.HashOf(c.body),
	}
	if resp, found, err := a.svc.LookupIdempotency(c.ctx, req); err != nil {
		a.fail(c, err, 0)
		return nil, true
	} else if found {
		a.replay(c, resp, true)
		return nil, true
	}
	slot := &payments.IdempotencySlot{
		Request: req,
		Render: func(r payments.Resource) idempotency.Response {
			if failure, ok := r.Private["failure"].(error); ok {
				status, body := errorBody(failure, c.requestID)
				if rep, err := a.representation(c.ctx, r); err == nil {
					body[r.Type] = []any{rep}
					body["links"] = collectionLinks(r.Type)
				}
				return encodeResponse(status, body)
			}
			rep, err := a.representation(c.ctx, r)
			if err != nil {
				status, body := errorBody(err, c.requestID)
				return encodeResponse(status, body)
			}
			return encodeResponse(http.StatusCreated, map[string]any{r.Type: []any{rep}, "links": collectionLinks(r.Type)})
		},
		RenderError: func(err error) idempotency.Response {
			status, body := errorBody(err, c.requestID)
			return encodeResponse(status, body)
		},
	}
	c.ctx = payments.WithIdempotency(c.ctx, slot)
	return slot, false
}

func encodeResponse(status int, body any) idempotency.Response {
	b, _ := json.Marshal(body)
	return idempotency.Response{StatusCode: status, Body: append(b, '\n')}
}

// replay writes a stored (or just recorded) response.
func (a *API) replay(c *call, resp idempotency.Response, replayed bool) {
	if replayed {
		c.w.Header().Set(ReplayedHeader, "true")
	}
	c.w.WriteHeader(resp.StatusCode)
	c.w.Write(resp.Body)
}

// bufferedWriter holds a keyed request's response until it is known
// whether the recorded one must be sent instead.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) flushTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}
