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

// ServeHTTP answers POST /paynet/api/v2/get-balance/{merchant|manager}/LOGIN
// (and a manager's uploads at AdjustmentsPath).
// The answer is what the seed's example shows: the balances' fields with
// amounts to three decimals ("amount":12.340), under the seed's
// Content-Type text/html;charset=utf-8. A client that asks for
// application/json with Accept gets the same fields as JSON, each amount
// in its currency's own decimals (JPY 1234, KWD 1.234).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == AdjustmentsPath {
		a.UploadAdjustments(w, r)
		return
	}
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
	jsonVariant := wantsJSON(r)
	minDecimals := seedDecimals
	if jsonVariant {
		minDecimals = 0
	}
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
			out = append(out, render(b, minDecimals))
		}
	}
	if wanted != "" && len(out) == 0 {
		a.fail(w, apperr.New(apperr.NotFound, "no balance named %q", wanted), 0)
		return
	}
	if !jsonVariant {
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
	}
	json.NewEncoder(w).Encode(out)
}

// wantsJSON reports whether a request asks for the JSON variant.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			return true
		}
	}
	return false
}

// seedDecimals is how many decimals the seed's example writes an amount
// with ("amount":0.000); a currency with more keeps all of its own.
const seedDecimals = 3

// render writes a balance with the seed's field names, in the order of its
// example; amounts are decimal numbers in the currency's units, to at
// least minDecimals places.
func render(b merchants.MerchantBalance, minDecimals int) seedFields {
	cur, err := money.LookupCurrency(b.Currency)
	dec := func(minor int64) any {
		if err != nil {
			return minor
		}
		return json.Number(padDecimals(money.Amount{Minor: minor, Currency: cur}.Decimal(), cur.Exponent, minDecimals))
	}
	return seedFields{
		{"name", b.Name},
		{"amount", dec(b.CurrentMinor)},
		{"online-balance-live-amount", dec(b.LiveMinor)},
		{"total-short-term-hold-amount", dec(b.STHMinor)},
		{"total-rolling-reserve-amount", dec(b.RRMinor)},
		{"currency", b.Currency},
		{"merchantLogin", b.MerchantLogin},
		{"externalMerchantIdentifier", b.ExternalMerchantID},
		{"amount-buffer-hold", dec(b.BufferMinor)},
	}
}

// seedFields are a balance's fields in the order the seed writes them.
type seedFields []struct {
	name  string
	value any
}

// get reads one field.
func (f seedFields) get(name string) any {
	for _, kv := range f {
		if kv.name == name {
			return kv.value
		}
	}
	return nil
}

// MarshalJSON writes the fields as one object, in their order.
func (f seedFields) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(kv.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
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
// current amount of the balance of the endpoint that balance-provider
// names (see merchants.BalanceOfProvider), signed by the endpoint's
// merchant. As the seed's example shows, the answer is
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
	name, err := a.merchants.BalanceOfProvider(r.Context(), merchant, endpointID, form.Get("balance-provider"))
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
			amount := render(b, 0).get("amount")
			io.WriteString(w, "balance-amount="+url.QueryEscape(fmt.Sprint(amount))+"\n")
			return
		}
	}
	a.fail(w, apperr.New(apperr.NotFound, "no balance counts endpoint %s", endpointID), 0)
}

// padDecimals writes an exact decimal of a currency with the given
// exponent to at least min decimals, adding zeros: "12.34" to "12.340",
// "1234" to "1234.000". It never rounds.
func padDecimals(text string, exponent, min int) string {
	if exponent >= min {
		return text
	}
	if exponent == 0 {
		text += "."
	}
	return text + strings.Repeat("0", min-exponent)
}
