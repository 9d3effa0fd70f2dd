package balanced

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"github.com/poise-payments/poise/internal/merchants"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/id"
	"github.com/poise-payments/poise/internal/payments"
)

// Paging limits.
const (
	defaultLimit = 10
	// maxLimit bounds a page: one request never renders more than this.
	maxLimit = 100
)

// API is the Balanced rev 1.1 surface.
type API struct {
	svc        *payments.Service
	merchants  *merchants.Service
	log        *slog.Logger
	router     router
	deliveries Deliveries
	signup     Signup
}

// Deliveries reads the callback deliveries of events, to show them.
type Deliveries interface {
	DeliveriesOf(ctx context.Context, eventID string) ([]events.Delivery, error)
	AttemptsOf(ctx context.Context, deliveryID string) ([]events.Attempt, error)
}

// ShowDeliveries makes events show their callback deliveries.
func (a *API) ShowDeliveries(d Deliveries) { a.deliveries = d }

// New returns the API as an http.Handler, serving Balanced resources with
// svc and the merchant balance administration with m.
func New(svc *payments.Service, m *merchants.Service, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{svc: svc, merchants: m, log: log, signup: Signup{Open: true}}
	a.routes()
	return a
}

// call is one request in flight.
type call struct {
	ctx       context.Context
	w         http.ResponseWriter
	r         *http.Request
	params    map[string]string
	key       *payments.APIKey
	requestID string
	body      []byte
}

// mp is the caller's marketplace; every read and write is scoped to it.
func (c *call) mp() string {
	if c.key == nil {
		return ""
	}
	return c.key.Marketplace
}

// needMarketplace refuses calls from a key that has no marketplace yet.
func (c *call) needMarketplace() error {
	if c.mp() == "" {
		return apperr.New(apperr.NotFound, "this API key has no marketplace yet; POST /marketplaces first")
	}
	return nil
}

// fields decodes the body as a resource of type plural. A JSON Patch list
// is an update's body only; here it is refused, never read as no fields.
func (c *call) fields(plural string) (fields, error) {
	f, patch, err := decodeBody(c.r.Header.Get("Content-Type"), c.body, plural)
	if err == nil && patch != nil {
		return nil, apperr.WithReason(apperr.Invalid, "request", "the body must be a JSON object, not a list")
	}
	return f, err
}

// patch decodes the body as a JSON Patch list, or nil for any other body.
func (c *call) patch() ([]any, error) {
	_, p, err := decodeBody(c.r.Header.Get("Content-Type"), c.body, "")
	return p, err
}

// checkQuery refuses a query string whose names or values hold a NUL or
// bytes that are not UTF-8: no filter has a use for them, and a database
// refuses them as text.
func checkQuery(raw string) error {
	if raw == "" {
		return nil
	}
	// A pair that does not parse is dropped by every reader of the query
	// as it is here, so it reaches nothing and needs no refusal.
	q, _ := url.ParseQuery(raw)
	for k, vs := range q {
		for _, s := range append(vs, k) {
			if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
				return apperr.WithReason(apperr.Invalid, "request", "the query parameter %q must be UTF-8 text without NUL characters", strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "?"))
			}
		}
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{ctx: r.Context(), w: w, r: r, requestID: requestID()}
	// Every answer, errors and 404s included, is JSON with exactly this
	// content type: one client library refuses any other.
	w.Header().Set("Content-Type", "application/json")
	path := r.URL.EscapedPath()
	var rev0Parents []rev0Parent
	if p, parents, ok := rev0Path(path); ok && rev0Readable(r.Method) {
		path, rev0Parents = p, parents
	}
	route, params, allowed := a.router.match(r.Method, path)
	if route == nil {
		if allowed {
			a.fail(c, apperr.WithReason(apperr.Invalid, "method-not-allowed", "%s is not allowed on %s", r.Method, r.URL.Path), http.StatusMethodNotAllowed)
			return
		}
		a.fail(c, apperr.New(apperr.NotFound, "there is nothing at %s", r.URL.Path), 0)
		return
	}
	for _, v := range params {
		// Every path parameter is an id; anything else ("..", "%00", a
		// NUL) names nothing and never reaches the store.
		if !id.Valid(v) {
			a.fail(c, apperr.New(apperr.NotFound, "there is nothing at %s", strings.ToValidUTF8(r.URL.Path, "?")), 0)
			return
		}
	}
	if err := checkQuery(r.URL.RawQuery); err != nil {
		a.fail(c, err, 0)
		return
	}
	c.params = params
	limit := int64(maxBodyBytes)
	if route.maxBody > 0 {
		limit = route.maxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		a.fail(c, apperr.WithReason(apperr.Invalid, "request", "the body is larger than %d bytes", limit), http.StatusRequestEntityTooLarge)
		return
	}
	c.body = body
	if r.Header.Get("Authorization") != "" {
		secret, _, ok := r.BasicAuth()
		if !ok && !(route.opensTenant && isBearer(r.Header.Get("Authorization"))) {
			// A credential that cannot be read is refused, never taken for
			// no credential: that would tokenize into no marketplace. The
			// one exception is the operator's Bearer credential on the
			// route that opens a tenant, which checks it (mayOpenTenant).
			a.fail(c, apperr.New(apperr.Unauthorized, "the Authorization header must be HTTP Basic with an API key secret as the user name"), 0)
			return
		}
		// An empty user name is no key, as Balanced's own client sends
		// before it has one. The password is ignored: Balanced's clients
		// send the secret as the user name and nothing (or anything) as
		// the password.
		if secret != "" {
			key, err := a.svc.Authenticate(c.ctx, secret)
			if err != nil {
				a.fail(c, err, 0)
				return
			}
			c.key = &key
		}
	}
	if c.key == nil && !route.public {
		a.fail(c, apperr.New(apperr.Unauthorized, "this call needs an API key secret as the basic-auth user name"), 0)
		return
	}
	if len(rev0Parents) > 0 {
		if err := a.checkRev0Parents(c, rev0Parents); err != nil {
			a.fail(c, err, 0)
			return
		}
	}
	slot, answered := a.keyedCall(c)
	if answered {
		return
	}
	if slot == nil {
		if err := route.handler(c); err != nil {
			a.fail(c, err, 0)
		}
		return
	}
	buf := &bufferedWriter{header: http.Header{}}
	c.w = buf
	err = route.handler(c)
	c.w = w
	if slot.Response != nil {
		a.replay(c, *slot.Response, slot.Replayed)
		return
	}
	if err != nil && !errors.Is(err, payments.ErrAnswered) {
		a.fail(c, err, 0)
		return
	}
	buf.flushTo(w)
}

// fail answers an error; a stored failed transaction is answered with the
// resource and the error together. status, when non-zero, overrides the
// error's own.
func (a *API) fail(c *call, err error, status int) {
	if tf, ok := failedTransaction(err); ok {
		code, body := errorBody(tf.Err, c.requestID)
		rep, rerr := a.representation(c.ctx, tf.Resource)
		if rerr == nil {
			body[tf.Resource.Type] = []any{rep}
			body["links"] = collectionLinks(tf.Resource.Type)
		}
		a.write(c, code, body)
		return
	}
	code, body := errorBody(err, c.requestID)
	if status != 0 {
		code = status
		body["errors"].([]any)[0].(map[string]any)["status_code"] = status
		body["errors"].([]any)[0].(map[string]any)["status"] = http.StatusText(status)
	}
	if code == http.StatusServiceUnavailable {
		c.w.Header().Set("Retry-After", retryAfterSeconds)
	}
	switch {
	case apperr.Is(err, apperr.Overloaded):
		// Shedding load is the server working as meant, thousands of
		// times a second under overload: metrics count it, and an error
		// line each would only add to the load.
		a.log.Debug("request shed", "request_id", c.requestID, "method", c.r.Method, "path", c.r.URL.Path, "error", err)
	case code >= 500:
		a.log.Error("request failed", "request_id", c.requestID, "method", c.r.Method, "path", c.r.URL.Path, "error", err)
	}
	a.write(c, code, body)
}

func (a *API) write(c *call, status int, body any) {
	c.w.WriteHeader(status)
	if body == nil {
		return
	}
	enc := json.NewEncoder(c.w)
	if err := enc.Encode(body); err != nil {
		a.log.Warn("writing a response failed", "request_id", c.requestID, "error", err)
	}
}

// one answers with one resource in its envelope.
func (a *API) one(c *call, status int, r payments.Resource) error {
	rep, err := a.representation(c.ctx, r)
	if err != nil {
		return err
	}
	envelope := map[string]any{r.Type: []any{rep}, "links": collectionLinks(r.Type)}
	completeEnvelope(envelope, r.Type, []payments.Resource{r})
	a.write(c, status, envelope)
	return nil
}

// noContent answers 204 with no body.
func (a *API) noContent(c *call) error {
	c.w.Header().Del("Content-Type")
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// page reads limit and offset from the query.
func (c *call) page() (limit, offset int, err error) {
	q := c.r.URL.Query()
	limit, offset = defaultLimit, 0
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxLimit {
			return 0, 0, apperr.WithReason(apperr.Invalid, "request", "limit must be between 1 and %d", maxLimit)
		}
	}
	if s := q.Get("offset"); s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			return 0, 0, apperr.WithReason(apperr.Invalid, "request", "offset must be zero or more")
		}
	}
	return limit, offset, nil
}

// list answers a page of resources of typ with Balanced's paging meta,
// filtered and sorted as the query asks.
func (a *API) list(c *call, typ string, q payments.ListQuery) error {
	limit, offset, err := c.page()
	if err != nil {
		return err
	}
	p, err := parseListParams(c.r.URL.RawQuery, typ)
	if err != nil {
		return err
	}
	q.Marketplace, q.Type, q.Limit, q.Offset = c.mp(), typ, limit, offset
	q.Filters, q.Order = p.filters, p.order
	items, total, err := a.svc.List(c.ctx, q)
	if err != nil {
		return err
	}
	return a.writePage(c, typ, items, pageMeta(c.r.URL.Path, p.echo, limit, offset, total))
}

// listIDs answers a list of the resources named by ids (none: an empty
// list), filtered and sorted like any other.
func (a *API) listIDs(c *call, typ string, ids []string) error {
	if len(ids) == 0 {
		limit, offset, err := c.page()
		if err != nil {
			return err
		}
		p, err := parseListParams(c.r.URL.RawQuery, typ)
		if err != nil {
			return err
		}
		return a.writePage(c, typ, nil, pageMeta(c.r.URL.Path, p.echo, limit, offset, 0))
	}
	return a.list(c, typ, payments.ListQuery{IDs: ids})
}

// writePage answers one page of a collection in its envelope.
func (a *API) writePage(c *call, typ string, items []payments.Resource, meta map[string]any) error {
	reps := make([]any, 0, len(items))
	for _, r := range items {
		rep, err := a.representation(c.ctx, r)
		if err != nil {
			return err
		}
		reps = append(reps, rep)
	}
	links := map[string]any{}
	if len(items) > 0 {
		links = collectionLinks(typ)
	}
	envelope := map[string]any{typ: reps, "links": links, "meta": meta}
	completeEnvelope(envelope, typ, items)
	a.write(c, http.StatusOK, envelope)
	return nil
}

// pageMeta is Balanced's paging meta. Its hrefs carry the list's filters
// and sort (echo, already encoded), so following next walks the same list.
func pageMeta(path, echo string, limit, offset, total int) map[string]any {
	href := func(off int) string {
		h := path + "?limit=" + strconv.Itoa(limit) + "&offset=" + strconv.Itoa(off)
		if echo != "" {
			h += "&" + echo
		}
		return h
	}
	last := 0
	if total > 0 {
		last = ((total - 1) / limit) * limit
	}
	var next, prev any
	if offset+limit < total {
		next = href(offset + limit)
	}
	if offset > 0 {
		prev = href(max(0, offset-limit))
	}
	return map[string]any{"href": href(offset), "first": href(0), "last": href(last), "next": next, "previous": prev,
		"limit": limit, "offset": offset, "total": total}
}

const requestIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// requestID names a request in errors and logs: OHM and 24 characters.
func requestID() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("balanced: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = requestIDAlphabet[int(b[i])%len(requestIDAlphabet)]
	}
	return "OHM" + string(b)
}

var errNoFundingSource = apperr.WithReason(apperr.Conflict, "no-funding-source", "the customer has no funding source")
