package balanced

import (
	"fmt"
	"github.com/poise-payments/poise/internal/merchants"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

func (a *API) root(c *call) error {
	a.write(c, http.StatusOK, map[string]any{"revision": "1.1", "links": map[string]any{}})
	return nil
}

func (a *API) apiKeyRep(k payments.APIKey, secret string) map[string]any {
	rep := map[string]any{
		"id": k.ID, "href": "/api_keys/" + k.ID,
		"created_at": k.CreatedAt.UTC().Format(timeFormat),
		"meta":       orEmpty(k.Meta), "links": map[string]any{},
	}
	if secret != "" {
		rep["secret"] = secret
	}
	return rep
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (a *API) createAPIKey(c *call) error {
	// A key made with a key joins its marketplace; one made without opens
	// a new tenant, which the signup rule may reserve to the operator.
	if c.key == nil {
		if err := a.mayOpenTenant(c.r); err != nil {
			return err
		}
	}
	f, err := c.fields("api_keys")
	if err != nil {
		return err
	}
	meta, err := f.meta("meta")
	if err != nil {
		return err
	}
	k, secret, err := a.svc.CreateAPIKey(c.ctx, c.key, meta)
	if err != nil {
		return err
	}
	a.write(c, http.StatusCreated, map[string]any{"api_keys": []any{a.apiKeyRep(k, secret)}, "links": map[string]any{}})
	return nil
}

func (a *API) listAPIKeys(c *call) error {
	limit, offset, err := c.page()
	if err != nil {
		return err
	}
	p, err := parseListParams(c.r.URL.RawQuery, "api_keys")
	if err != nil {
		return err
	}
	keys, total, err := a.svc.ListAPIKeys(c.ctx, *c.key, payments.ListQuery{Filters: p.filters, Order: p.order, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	reps := make([]any, 0, len(keys))
	for _, k := range keys {
		reps = append(reps, a.apiKeyRep(k, ""))
	}
	a.write(c, http.StatusOK, map[string]any{"api_keys": reps, "links": map[string]any{}, "meta": pageMeta(c.r.URL.Path, p.echo, limit, offset, total)})
	return nil
}

func (a *API) getAPIKey(c *call) error {
	k, err := a.svc.APIKey(c.ctx, *c.key, c.params["id"])
	if err != nil {
		return err
	}
	secret := ""
	a.write(c, http.StatusOK, map[string]any{"api_keys": []any{a.apiKeyRep(k, secret)}, "links": map[string]any{}})
	return nil
}

func (a *API) deleteAPIKey(c *call) error {
	if err := a.svc.DeleteAPIKey(c.ctx, *c.key, c.params["id"]); err != nil {
		return err
	}
	return a.noContent(c)
}

// marketplaceFields are the fields a marketplace create or update may set.
var marketplaceFields = []string{"name", "domain_url", "support_email_address", "support_phone_number"}

func (a *API) createMarketplace(c *call) error {
	f, err := c.fields("marketplaces")
	if err != nil {
		return err
	}
	if err := f.scalars(marketplaceFields...); err != nil {
		return err
	}
	meta, err := f.meta("meta")
	if err != nil {
		return err
	}
	set := map[string]any{}
	for _, k := range marketplaceFields {
		if s := f.str(k); s != "" {
			set[k] = s
		}
	}
	// Whether a marketplace moves real money is chosen once, at creation.
	switch f.str("production") {
	case "", "false":
	case "true":
		set["production"] = true
	default:
		return apperr.WithReason(apperr.Invalid, "request", "production must be true or false")
	}
	mp, err := a.svc.CreateMarketplace(c.ctx, *c.key, set, orEmpty(meta))
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, mp)
}

// listMarketplaces answers the caller's marketplace, the one it can see.
func (a *API) listMarketplaces(c *call) error {
	var ids []string
	if c.mp() != "" {
		ids = []string{c.mp()}
	}
	return a.listIDs(c, "marketplaces", ids)
}

func (a *API) updateMarketplace(c *call) error {
	if c.params["id"] != c.mp() {
		return apperr.New(apperr.NotFound, "no marketplace with id %s", c.params["id"])
	}
	f, err := c.fields("marketplaces")
	if err != nil {
		return err
	}
	if err := f.scalars(marketplaceFields...); err != nil {
		return err
	}
	meta, err := f.meta("meta")
	if err != nil {
		return err
	}
	set := map[string]any{}
	for _, k := range marketplaceFields {
		if f.has(k) {
			set[k] = f.str(k)
		}
	}
	mp, err := a.svc.UpdateFields(c.ctx, c.mp(), "marketplaces", c.mp(), set, meta)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, mp)
}

// getTyped answers GET /<type>/:id.
func (a *API) getTyped(typ string) handlerFunc {
	return func(c *call) error {
		if err := c.needMarketplace(); err != nil {
			return err
		}
		r, err := a.svc.GetTyped(c.ctx, c.mp(), typ, c.params["id"])
		if err != nil {
			return err
		}
		return a.one(c, http.StatusOK, r)
	}
}

func (a *API) getResource(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	r, err := a.svc.Get(c.ctx, c.mp(), c.params["id"])
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, r)
}

// listAll answers GET /<type>: the marketplace's resources, newest first
// unless sorted otherwise, filtered as the query asks.
func (a *API) listAll(typ string) handlerFunc {
	return func(c *call) error {
		if err := c.needMarketplace(); err != nil {
			return err
		}
		return a.list(c, typ, payments.ListQuery{})
	}
}

// listLinked answers GET /<parent>/:id/<type>: resources whose link rel
// names the parent. The parent must be the caller's.
func (a *API) listLinked(typ, rel string) handlerFunc {
	return func(c *call) error {
		if err := c.needMarketplace(); err != nil {
			return err
		}
		if _, err := a.svc.Get(c.ctx, c.mp(), c.params["id"]); err != nil {
			return err
		}
		return a.list(c, typ, payments.ListQuery{LinkRel: rel, LinkTarget: c.params["id"], WithHidden: typ == "events"})
	}
}

func (a *API) listBuyers(c *call) error {
	o, err := a.svc.GetTyped(c.ctx, c.mp(), "orders", c.params["id"])
	if err != nil {
		return err
	}
	return a.list(c, "customers", payments.ListQuery{BuyersOf: o.ID})
}

// listSettlementsOf answers the settlements an account or bank account took
// part in, either way.
func (a *API) listSettlementsOf(c *call) error {
	id := c.params["id"]
	if _, err := a.svc.Get(c.ctx, c.mp(), id); err != nil {
		return err
	}
	return a.list(c, "settlements", payments.ListQuery{LinkRels: []string{"source", "destination"}, LinkTarget: id})
}

// listSettlementOfTx answers the settlement a credit or reversal was swept into.
func (a *API) listSettlementOfTx(c *call) error {
	r, err := a.svc.Get(c.ctx, c.mp(), c.params["id"])
	if err != nil {
		return err
	}
	var ids []string
	if st := r.Link("settlement"); st != "" {
		ids = append(ids, st)
	}
	return a.listIDs(c, "settlements", ids)
}

func (a *API) createCallback(c *call) error {
	f, err := c.fields("callbacks")
	if err != nil {
		return err
	}
	if err := f.scalars("url", "method", "revision"); err != nil {
		return err
	}
	cb, err := a.svc.CreateCallback(c.ctx, c.mp(), f.str("url"), f.str("method"), f.str("revision"))
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, cb)
}

func (a *API) deleteCallback(c *call) error {
	if err := a.svc.DeleteCallback(c.ctx, c.mp(), c.params["id"]); err != nil {
		return err
	}
	return a.noContent(c)
}

// eventDeliveries answers the deliveries of an event to its callbacks, each
// with its log of attempts.
func (a *API) eventDeliveries(c *call) error {
	ev, err := a.svc.GetTyped(c.ctx, c.mp(), "events", c.params["id"])
	if err != nil {
		return err
	}
	out := []any{}
	if a.deliveries != nil {
		dels, err := a.deliveries.DeliveriesOf(c.ctx, ev.ID)
		if err != nil {
			return err
		}
		for _, d := range dels {
			attempts, err := a.deliveries.AttemptsOf(c.ctx, d.ID)
			if err != nil {
				return err
			}
			log := make([]any, 0, len(attempts))
			for _, at := range attempts {
				log = append(log, map[string]any{
					"attempt": at.Attempt, "attempted_at": at.AttemptedAt.UTC().Format(timeFormat),
					"status_code": at.StatusCode, "error": at.Error, "duration_ms": at.DurationMs,
				})
			}
			out = append(out, map[string]any{
				"id": d.ID, "status": d.Status, "attempts": d.Attempts,
				"next_attempt_at": d.NextAttempt.UTC().Format(timeFormat),
				"links":           map[string]any{"callback": d.CallbackID, "event": d.EventID},
				"log":             log,
			})
		}
	}
	a.write(c, http.StatusOK, map[string]any{"callback_deliveries": out, "links": map[string]any{}})
	return nil
}

// createParty registers a merchant or a manager of the balance API.
func (a *API) createParty(typ string) handlerFunc {
	return func(c *call) error {
		if err := c.needMarketplace(); err != nil {
			return err
		}
		f, err := c.fields(typ)
		if err != nil {
			return err
		}
		if err := f.scalars("login", "control_key", "external_merchant_id", "enabled"); err != nil {
			return err
		}
		in := merchants.PartyInput{Login: f.str("login"), ControlKey: f.str("control_key"),
			ExternalMerchantID: f.str("external_merchant_id"), Enabled: f.str("enabled") != "false"}
		if in.Customer, err = f.linkRef("customer", "customers"); err != nil {
			return err
		}
		if in.Merchants, err = f.idList("merchants", "merchants"); err != nil {
			return err
		}
		var r payments.Resource
		if typ == "merchants" {
			r, err = a.merchants.CreateMerchant(c.ctx, c.mp(), in)
		} else {
			r, err = a.merchants.CreateManager(c.ctx, c.mp(), in)
		}
		if err != nil {
			return err
		}
		return a.one(c, http.StatusCreated, r)
	}
}

// testClock answers a test marketplace's clock: its time and how far it is
// ahead of real time.
func (a *API) testClock(c *call) error {
	if c.params["id"] != c.mp() {
		return apperr.New(apperr.NotFound, "no marketplace with id %s", c.params["id"])
	}
	off, err := a.svc.ClockOffset(c.ctx, c.mp())
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"test_clocks": []any{map[string]any{
		"now": a.svc.Now().Add(off).UTC().Format(timeFormat), "offset_seconds": int64(off / time.Second)}}, "links": map[string]any{}})
	return nil
}

// advanceTestClock moves a test marketplace's clock forward:
// {"advance": "90d"} (days, as rolling reserves count them), {"advance":
// "72h"} (a Go duration), {"advance_days": 90} or {"advance_seconds":
// 259200}.
func (a *API) advanceTestClock(c *call) error {
	if c.params["id"] != c.mp() {
		return apperr.New(apperr.NotFound, "no marketplace with id %s", c.params["id"])
	}
	f, err := c.fields("test_clocks")
	if err != nil {
		return err
	}
	if err := f.scalars("advance"); err != nil {
		return err
	}
	var d time.Duration
	if s := f.str("advance"); s != "" {
		if d, err = parseAdvance(s); err != nil {
			return fieldError("advance", "must be a number of days such as 90d or a duration such as 72h or 90m")
		}
	} else if n, given, err := f.integer("advance_days"); err != nil || given {
		if err != nil || n < 0 || n > maxAdvanceDays {
			return fieldError("advance_days", "must be a number of days from 0 to %d", maxAdvanceDays)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		n, given, err := f.integer("advance_seconds")
		if err != nil || !given {
			return fieldError("advance", "give advance (72h) or advance_seconds")
		}
		d = time.Duration(n) * time.Second
	}
	if _, err := a.svc.AdvanceClock(c.ctx, c.mp(), d); err != nil {
		return err
	}
	return a.testClock(c)
}

// maxAdvanceDays bounds one advance of a test clock: ten years pass every
// reserve period a rate plan may have (balances allows 3650 days).
const maxAdvanceDays = 3660

// parseAdvance reads how far to move a test clock: whole days ("90d",
// "90 days") or a Go duration ("72h").
func parseAdvance(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for _, unit := range []string{" days", " day", "days", "day", "d"} {
		if rest, ok := strings.CutSuffix(s, unit); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil || n < 0 || n > maxAdvanceDays {
				return 0, fmt.Errorf("advance %q is not 0 to %d days", s, maxAdvanceDays)
			}
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	return time.ParseDuration(s)
}
