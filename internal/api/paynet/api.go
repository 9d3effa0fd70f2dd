package paynet

import (
	"encoding/json"
	"fmt"
	"github.com/poise-payments/poise/internal/merchants"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/api/errstatus"
	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// Prefix is where the balance API lives.
const Prefix = "/paynet/api/v2/get-balance/"

// maxBodyBytes bounds a get-balance request: it carries one optional field.
const maxBodyBytes = 16 << 10

// API serves get-balance requests.
type API struct {
	svc       *payments.Service
	merchants *merchants.Service
	verifier  *Verifier
	log       *slog.Logger
}

// New returns the balance API over the merchant balances of m, whose
// resources svc reads; requests are verified with v.
func New(svc *payments.Service, m *merchants.Service, v *Verifier, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, merchants: m, verifier: v, log: log}
}

// ServeHTTP answers POST /paynet/api/v2/get-balance/{merchant|manager}/LOGIN.
// The seed says the answer is form-encoded text but shows JSON; Poise
// answers what the example shows, as application/json.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost {
		a.fail(w, apperr.New(apperr.Invalid, "get-balance is a POST"), http.StatusMethodNotAllowed)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	if strings.IndexByte(rest, 0) >= 0 || !utf8.ValidString(rest) {
		// No login or endpoint id holds these, and a database refuses them.
		a.fail(w, apperr.New(apperr.NotFound, "there is nothing at %s", strings.ToValidUTF8(strings.ReplaceAll(r.URL.Path, "\x00", ""), "?")), 0)
		return
	}
	if rest != "" && !strings.Contains(rest, "/") {
		a.byEndpoint(w, r, rest)
		return
	}
	kind, login, ok := strings.Cut(rest, "/")
	if !ok || (kind != "merchant" && kind != "manager") || login == "" || strings.Contains(login, "/") {
		a.fail(w, apperr.New(apperr.NotFound, "there is nothing at %s", r.URL.Path), 0)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		a.fail(w, apperr.New(apperr.Invalid, "the body is too large"), http.StatusRequestEntityTooLarge)
		return
	}
	consumer, err := a.verifier.Verify(r.Context(), r, body)
	if err != nil {
		a.fail(w, err, 0)
		return
	}
	// A login reads its own balances only: the consumer key is the login.
	if consumer != login {
		a.fail(w, apperr.New(apperr.Forbidden, "signed as %q, which is not %q", consumer, login), 0)
		return
	}
	party, err := a.merchants.Party(r.Context(), login)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		a.fail(w, err, 0) // the store failed: not the caller's fault
		return
	}
	if err != nil || party.Type != kind+"s" {
		a.fail(w, apperr.New(apperr.NotFound, "no %s with login %q", kind, login), 0)
		return
	}
	merchants := []payments.Resource{party}
	own, err := a.merchants.HasOwnBalances(r.Context(), party)
	if err != nil {
		a.fail(w, err, 0)
		return
	}
	// A manager with balances of its own is answered those; one without,
	// the balances of the merchants it oversees.
	if kind == "manager" && !own {
		merchants = nil
		for _, v := range party.Fields["merchants"].([]any) {
			m, err := a.svc.Get(r.Context(), party.Marketplace, payments.Str(v))
			if err != nil {
				a.fail(w, err, 0)
				return
			}
			merchants = append(merchants, m)
		}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		a.fail(w, apperr.New(apperr.Invalid, "the form body is malformed"), 0)
		return
	}
	wanted := form.Get("balance-name")
	out := []any{}
	for _, m := range merchants {
		balances, err := a.merchants.MerchantBalances(r.Context(), m)
		if err != nil {
			a.fail(w, err, 0)
			return
		}
		for _, b := range balances {
			if wanted != "" && b.Name != wanted {
				continue
			}
			out = append(out, render(b))
		}
	}
	if wanted != "" && len(out) == 0 {
		a.fail(w, apperr.New(apperr.NotFound, "no balance named %q", wanted), 0)
		return
	}
	json.NewEncoder(w).Encode(out)
}

// render writes a balance with the seed's field names; amounts are decimal
// numbers in the currency's units.
func render(b merchants.MerchantBalance) map[string]any {
	cur, err := money.LookupCurrency(b.Currency)
	dec := func(minor int64) any {
		if err != nil {
			return minor
		}
		return json.Number(money.Amount{Minor: minor, Currency: cur}.Decimal())
	}
	return map[string]any{
		"name":                         b.Name,
		"amount":                       dec(b.CurrentMinor),
		"online-balance-live-amount":   dec(b.LiveMinor),
		"total-short-term-hold-amount": dec(b.STHMinor),
		"total-rolling-reserve-amount": dec(b.RRMinor),
		"currency":                     b.Currency,
		"merchantLogin":                b.MerchantLogin,
		"externalMerchantIdentifier":   b.ExternalMerchantID,
		"amount-buffer-hold":           dec(b.BufferMinor),
	}
}

func (a *API) fail(w http.ResponseWriter, err error, status int) {
	if status == 0 {
		status = errstatus.Of(err)
	}
	if status >= http.StatusInternalServerError {
		a.log.Error("get-balance failed", "error", err)
	}
	if errstatus.RetryAfter(status) {
		w.Header().Set("Retry-After", errstatus.RetryAfterSeconds)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": string(apperr.CodeOf(err)), "message": apperr.MessageOf(err)}})
}

// byEndpoint answers POST /paynet/api/v2/get-balance/ENDPOINTID: the
// current amount of the balance that counts the endpoint, signed by the
// endpoint's merchant. As the seed's example shows, the answer is
// form-encoded text ("balance-amount=29.99"), each value ending in a
// newline.
func (a *API) byEndpoint(w http.ResponseWriter, r *http.Request, endpointID string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		a.fail(w, apperr.New(apperr.Invalid, "the body is too large"), http.StatusRequestEntityTooLarge)
		return
	}
	consumer, err := a.verifier.Verify(r.Context(), r, body)
	if err != nil {
		a.fail(w, err, 0)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("balance-provider") == "" {
		a.fail(w, apperr.New(apperr.Invalid, "balance-provider is required"), 0)
		return
	}
	merchant, err := a.merchants.Party(r.Context(), consumer)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		a.fail(w, err, 0)
		return
	}
	if err != nil || merchant.Type != "merchants" {
		a.fail(w, apperr.New(apperr.Forbidden, "only a merchant reads the balance of its endpoints"), 0)
		return
	}
	ep, err := a.svc.Get(r.Context(), merchant.Marketplace, endpointID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		a.fail(w, err, 0)
		return
	}
	if err != nil || ep.Type != "endpoints" || ep.Link("merchant") != merchant.ID {
		a.fail(w, apperr.New(apperr.NotFound, "no endpoint %s of this merchant", endpointID), 0)
		return
	}
	name, err := a.merchants.BalanceOfEndpoint(r.Context(), merchant, endpointID)
	if err != nil {
		a.fail(w, err, 0)
		return
	}
	balances, err := a.merchants.MerchantBalances(r.Context(), merchant)
	if err != nil {
		a.fail(w, err, 0)
		return
	}
	for _, b := range balances {
		if b.Name == name {
			w.Header().Set("Content-Type", "text/html;charset=utf-8")
			amount := render(b)["amount"]
			io.WriteString(w, "balance-amount="+url.QueryEscape(fmt.Sprint(amount))+"\n")
			return
		}
	}
	a.fail(w, apperr.New(apperr.NotFound, "no balance counts endpoint %s", endpointID), 0)
}
