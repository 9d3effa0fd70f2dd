// Package dashboard serves Poise's web pages under Prefix: a marketplace
// operator signs in with an API key secret and sees its marketplace (money
// in escrow, customers, orders, transactions, merchant balances), refunds a
// debit, configures and adjusts balances and moves a test marketplace's
// clock; a merchant or manager signs in with its login and control key and
// reads its own balances. Pages render on the server from embedded
// templates; the only scripts are the server's own files that draw charts.
package dashboard

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/api/errstatus"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
)

// Prefix is where the dashboard lives. Balanced's API owns every other
// path, its root included, so the dashboard keeps to a path no Balanced
// resource has.
const Prefix = "/dashboard/"

// Cookie names.
const (
	sessionCookie = "poise_session"
	// signInCookie carries the token of the sign-in form, which has no
	// session yet: the form's field must match it (a double submit).
	signInCookie = "poise_sign_in"
)

// maxFormBytes bounds a form's body: the largest form is a refund's, a
// few short fields.
const maxFormBytes = 16 << 10

// contentSecurityPolicy allows the page's own stylesheets, images and
// script files and nothing else: no inline script, no script from
// elsewhere, no frames, requests only back to this server, forms only back
// to itself. The scripts (static/) draw the charts and fetch an export to
// show its progress, nothing more.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Payments is what the pages read and do through the payments service,
// the same calls the Balanced API makes.
type Payments interface {
	Authenticate(ctx context.Context, secret string) (payments.APIKey, error)
	ListAPIKeys(ctx context.Context, caller payments.APIKey, q payments.ListQuery) ([]payments.APIKey, int, error)
	CreateAPIKey(ctx context.Context, caller *payments.APIKey, meta map[string]string) (payments.APIKey, string, error)
	DeleteAPIKey(ctx context.Context, caller payments.APIKey, keyID string) error
	Get(ctx context.Context, marketplace, id string) (payments.Resource, error)
	GetTyped(ctx context.Context, marketplace, typ, id string) (payments.Resource, error)
	List(ctx context.Context, q payments.ListQuery) ([]payments.Resource, int, error)
	Debit(ctx context.Context, marketplace string, in payments.TxInput) (payments.Resource, error)
	Refund(ctx context.Context, marketplace, debitID string, in payments.TxInput) (payments.Resource, error)
	Reverse(ctx context.Context, marketplace, creditID string, in payments.TxInput) (payments.Resource, error)
	CaptureHold(ctx context.Context, marketplace, holdID string, in payments.TxInput) (payments.Resource, error)
	VoidHold(ctx context.Context, marketplace, holdID string) (payments.Resource, error)
	LookupIdempotency(ctx context.Context, req idempotency.Request) (idempotency.Response, bool, error)
	NowFor(ctx context.Context, marketplace string) (time.Time, error)
	EscrowOf(ctx context.Context, marketplace, id string) (payments.EscrowReport, error)
	OrderTotals(ctx context.Context, order payments.Resource) (amount int64, escrow payments.EscrowReport, err error)
	AdvanceClock(ctx context.Context, marketplace string, d time.Duration) (time.Time, error)
}

// Deliveries reads the callback deliveries of events, to show them.
type Deliveries interface {
	DeliveriesOf(ctx context.Context, eventID string) ([]events.Delivery, error)
	AttemptsOf(ctx context.Context, deliveryID string) ([]events.Attempt, error)
}

// Retrier sends a callback delivery at once.
type Retrier interface {
	RetryNow(ctx context.Context, marketplace, eventID, deliveryID string) (events.Delivery, error)
}

// Accounts reads the ledger's materialized balances: one row per account.
type Accounts interface {
	Account(ctx context.Context, id string) (ledger.Account, error)
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Dashboard is the web pages' http.Handler.
type Dashboard struct {
	svc      Payments
	mer      Merchants
	accounts Accounts
	history  History
	// flows keeps the journal's flows over intervals that have ended.
	flows    *flowMemo
	retrier  Retrier
	delivery Deliveries
	log      *slog.Logger
	clk      clock.Clock
	sessions *sessions
	limit    *signInLimit
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// Options wires a dashboard.
type Options struct {
	Logger *slog.Logger
	// Clock times sessions and the sign-in limit; the system clock if nil.
	Clock clock.Clock
	// Deliveries, when set, shows each event's callback deliveries.
	Deliveries Deliveries
	// History, when set, draws the charts of money over time.
	History History
	// Retrier, when set, offers "retry now" on each callback delivery.
	Retrier Retrier
}

// New builds the dashboard over the payments service, the merchant
// balance service and the ledger's accounts.
func New(svc Payments, mer Merchants, accounts Accounts, opts Options) (*Dashboard, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = clock.System()
	}
	d := &Dashboard{svc: svc, mer: mer, accounts: accounts, delivery: opts.Deliveries, history: opts.History, retrier: opts.Retrier, log: opts.Logger, clk: opts.Clock,
		flows: newFlowMemo(), sessions: newSessions(), limit: newSignInLimit(), pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" || base == "parts" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/parts.html", name)
		if err != nil {
			return nil, err
		}
		d.pages[base] = t
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", http.FileServerFS(static)))
	m.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Prefix, http.StatusSeeOther) })
	m.HandleFunc("GET "+Prefix+"sign-in", d.signInForm)
	m.HandleFunc("POST "+Prefix+"sign-in", d.signIn)
	m.HandleFunc("POST "+Prefix+"sign-in/party", d.signInParty)
	m.Handle("POST "+Prefix+"sign-out", d.readable(d.signOut))
	m.Handle("GET "+Prefix+"{$}", d.signedIn(d.overview))
	m.Handle("GET "+Prefix+"customers", d.signedIn(d.customers))
	m.Handle("GET "+Prefix+"customers/{id}", d.signedIn(d.customer))
	m.Handle("POST "+Prefix+"customers/{id}/debits", d.signedIn(d.sell))
	m.Handle("GET "+Prefix+"orders", d.signedIn(d.orders))
	m.Handle("GET "+Prefix+"transactions", d.signedIn(d.transactions))
	m.Handle("GET "+Prefix+"transactions/{id}", d.signedIn(d.transaction))
	m.Handle("POST "+Prefix+"transactions/{id}/{action}", d.signedIn(d.act))
	m.Handle("POST "+Prefix+"transactions/{id}/void", d.signedIn(d.voidHold))
	m.Handle("GET "+Prefix+"api-keys", d.signedIn(d.apiKeys))
	m.Handle("POST "+Prefix+"api-keys", d.signedIn(d.createAPIKey))
	m.Handle("POST "+Prefix+"api-keys/{id}/delete", d.signedIn(d.deleteAPIKey))
	m.Handle("POST "+Prefix+"events/{id}/deliveries/{delivery}/retry", d.signedIn(d.retryDelivery))
	m.Handle("GET "+Prefix+"events", d.signedIn(d.events))
	m.Handle("GET "+Prefix+"events/{id}", d.signedIn(d.event))
	m.Handle("GET "+Prefix+"test-clock", d.signedIn(d.testClock))
	m.Handle("POST "+Prefix+"test-clock", d.signedIn(d.advanceTestClock))
	d.merchantRoutes(m)
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, r, nil, apperr.New(apperr.NotFound, "there is no page at %s", r.URL.Path))
	})
	d.mux = m
	return d, nil
}

// ServeHTTP implements http.Handler.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if !strings.HasPrefix(r.URL.Path, Prefix+"static/") {
		// Pages show money and are per session: never cached.
		h.Set("Cache-Control", "no-store")
	}
	d.mux.ServeHTTP(w, r)
}

// page is one signed-in request.
type page struct {
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context
	// key is an operator's API key; party is the merchant or manager
	// signed in instead (zero for an operator).
	key     payments.APIKey
	party   payments.Resource
	session session
	token   string
}

func (p *page) mp() string { return p.session.marketplace }

// operator reports whether an operator signed in: who may change things.
func (p *page) operator() bool { return p.session.role == roleOperator }

// access says who may reach a page and what its form may carry.
type access struct {
	// parties lets merchants and managers in; else operators only.
	parties bool
	// uploadBytes, when set, takes a multipart form of at most that size.
	uploadBytes int64
}

// signedIn serves an operator's page (see guard).
func (d *Dashboard) signedIn(h func(p *page) error) http.Handler { return d.guard(access{}, h) }

// readable serves a page a merchant or manager may read too (see guard).
func (d *Dashboard) readable(h func(p *page) error) http.Handler {
	return d.guard(access{parties: true}, h)
}

// guard serves h to a live session allowed in by a, checking the CSRF
// token of a POST; anyone signed out is sent to the sign-in form. A
// merchant or manager finds no operator's page: it is not found, as
// anything else they may not see, except the overview, which sends them
// to their own page.
func (d *Dashboard) guard(a access, h func(p *page) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie(sessionCookie)
		var token string
		if c != nil {
			token = c.Value
		}
		se, ok := d.sessions.get(token, d.clk.Now())
		if !ok {
			if r.Method == http.MethodPost {
				d.fail(w, r, nil, apperr.New(apperr.Forbidden, "your session has ended; sign in again"))
				return
			}
			http.Redirect(w, r, Prefix+"sign-in", http.StatusSeeOther)
			return
		}
		p := &page{w: w, r: r, ctx: r.Context(), session: se, token: token}
		// A key deleted, or a party gone, since the sign-in ends the
		// session at once.
		alive, err := d.stillThere(p)
		if err != nil {
			d.fail(w, r, nil, err)
			return
		}
		if !alive {
			d.sessions.close(token)
			http.Redirect(w, r, Prefix+"sign-in", http.StatusSeeOther)
			return
		}
		if !p.operator() && !a.parties {
			if r.Method == http.MethodGet && r.URL.Path == Prefix {
				http.Redirect(w, r, partyPath(p.party.ID), http.StatusSeeOther)
				return
			}
			d.fail(w, r, p, apperr.New(apperr.NotFound, "there is no page at %s", r.URL.Path))
			return
		}
		if r.Method == http.MethodPost {
			var err error
			if a.uploadBytes > 0 {
				r.Body = http.MaxBytesReader(w, r.Body, a.uploadBytes)
				err = r.ParseMultipartForm(a.uploadBytes)
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
				err = r.ParseForm()
			}
			if err != nil {
				d.fail(w, r, p, apperr.New(apperr.Invalid, "the form could not be read"))
				return
			}
			if !sameToken(r.PostFormValue("csrf"), se.csrf) {
				d.fail(w, r, p, apperr.New(apperr.Forbidden, "this form is missing its security token; reload the page and try again"))
				return
			}
		}
		if err := h(p); err != nil {
			d.fail(w, r, p, err)
		}
	})
}

// stillThere reads who a session signed in as, and reports whether they
// still exist.
func (d *Dashboard) stillThere(p *page) (bool, error) {
	se := p.session
	if se.role == roleOperator {
		key := payments.APIKey{ID: se.keyID, Marketplace: se.marketplace}
		keys, _, err := d.svc.ListAPIKeys(p.ctx, key, payments.ListQuery{IDs: []string{se.keyID}, Limit: 1})
		if err != nil || len(keys) != 1 {
			return false, err
		}
		p.key = keys[0]
		return true, nil
	}
	party, err := d.svc.GetTyped(p.ctx, se.marketplace, se.role, se.party)
	if apperr.Is(err, apperr.NotFound) || (err == nil && party.Hidden) {
		return false, nil
	}
	p.party = party
	return err == nil, err
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// view is what every page's template gets.
type view struct {
	Title       string
	Marketplace string
	CSRF        string
	Nav         string
	Data        any
	Error       string
	// Role is who signed in (roleOperator, roleMerchants, roleManagers);
	// Login and PartyID name a merchant or manager.
	Role           string
	Login, PartyID string
}

// render writes a page.
func (d *Dashboard) render(w http.ResponseWriter, status int, name string, v view) {
	t, ok := d.pages[name]
	if !ok {
		panic("dashboard: no template " + name)
	}
	// A page renders whole or not at all: half a page with a 200 would
	// hide the failure.
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		d.log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (d *Dashboard) show(p *page, name, title string, data any) error {
	return d.showStatus(p, http.StatusOK, name, title, data)
}

// showParty renders a page of a merchant or manager, under the tab of merchants.
func (d *Dashboard) showParty(p *page, status int, name, title string, data any) error {
	d.render(p.w, status, name, p.view(title, "merchants", data))
	return nil
}

func (d *Dashboard) showStatus(p *page, status int, name, title string, data any) error {
	d.render(p.w, status, name, p.view(title, name, data))
	return nil
}

// view is what a page of p's session shows around data.
func (p *page) view(title, nav string, data any) view {
	v := view{Title: title, Marketplace: p.mp(), CSRF: p.session.csrf, Nav: nav, Data: data, Role: p.session.role}
	if !p.operator() {
		v.Login, v.PartyID = payments.Str(p.party.Fields["login"]), p.party.ID
	}
	return v
}

// fail answers an error as a page, with the status the API would give it.
// An error without an application code is the server's: it is logged and
// the page says only that something went wrong.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, p *page, err error) {
	status := errstatus.Of(err)
	msg := apperr.MessageOf(err)
	var ae *apperr.Error
	if !errors.As(err, &ae) || status >= http.StatusInternalServerError {
		d.log.Error("dashboard request failed", "path", r.URL.Path, "err", err)
		msg = "something went wrong on the server; try again in a moment"
	}
	if errstatus.RetryAfter(status) {
		w.Header().Set("Retry-After", errstatus.RetryAfterSeconds)
	}
	v := view{Title: http.StatusText(status), Error: msg}
	if p != nil {
		v = p.view(http.StatusText(status), "", nil)
		v.Error = msg
	}
	d.render(w, status, "error", v)
}

// clientAddr is the address failed sign-ins count against: the peer of the
// connection. A forwarding header is not trusted, since anyone can send one.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (d *Dashboard) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: int(maxAge / time.Second)}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}
