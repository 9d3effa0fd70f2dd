package balanced

import (
	"net/http"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

// An escrow's breakdown: in_escrow and amount_escrowed show only what is
// available; these show what is posted and what is promised each way
// (payments.EscrowReport). Poise's own resource, in the API's style.

func escrowRep(href string, links map[string]any, e payments.EscrowReport) map[string]any {
	ages := make([]any, len(e.ByAge))
	for i, b := range e.ByAge {
		var to any = b.ToDays
		if b.ToDays < 0 {
			to = nil
		}
		ages[i] = map[string]any{"from_days": b.FromDays, "to_days": to, "amount": b.AmountMinor}
	}
	var oldest any
	if !e.OldestFundsAt.IsZero() {
		oldest = e.OldestFundsAt.UTC().Format(timeFormat)
	}
	return map[string]any{
		"href":            href,
		"currency":        payments.Currency,
		"posted":          e.PostedMinor,
		"pending_in":      e.PendingInMinor,
		"pending_out":     e.PendingOutMinor,
		"available":       e.AvailableMinor,
		"by_age":          ages,
		"oldest_funds_at": oldest,
		"links":           links,
	}
}

var escrowPolicyFields = []string{"refuse_stale_order_debits"}

func escrowPolicyRep(mp string, p payments.EscrowPolicy) map[string]any {
	return map[string]any{
		"href":                      "/marketplaces/" + mp + "/escrow_policy",
		"refuse_stale_order_debits": p.RefuseStaleOrderDebits,
		"links":                     map[string]any{"marketplace": mp},
	}
}

// getEscrowPolicy answers GET /marketplaces/:id/escrow_policy.
func (a *API) getEscrowPolicy(c *call) error {
	if err := c.ownMarketplace(); err != nil {
		return err
	}
	p, err := a.svc.EscrowPolicyOf(c.ctx, c.mp())
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"escrow_policies": []any{escrowPolicyRep(c.mp(), p)}, "links": map[string]any{}})
	return nil
}

// putEscrowPolicy answers PUT /marketplaces/:id/escrow_policy.
func (a *API) putEscrowPolicy(c *call) error {
	if err := c.ownMarketplace(); err != nil {
		return err
	}
	f, err := c.fields("escrow_policies")
	if err != nil {
		return err
	}
	if err := f.scalars(escrowPolicyFields...); err != nil {
		return err
	}
	var refuse bool
	switch f.str("refuse_stale_order_debits") {
	case "true":
		refuse = true
	case "false":
	default:
		return apperr.WithReason(apperr.Invalid, "request", "refuse_stale_order_debits must be true or false")
	}
	p, err := a.svc.SetEscrowPolicy(c.ctx, c.mp(), payments.EscrowPolicy{RefuseStaleOrderDebits: refuse})
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"escrow_policies": []any{escrowPolicyRep(c.mp(), p)}, "links": map[string]any{}})
	return nil
}

// marketplaceEscrow answers GET /marketplaces/:id/escrow.
func (a *API) marketplaceEscrow(c *call) error {
	if err := c.ownMarketplace(); err != nil {
		return err
	}
	e, err := a.svc.EscrowOf(c.ctx, c.mp(), c.mp())
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"escrows": []any{
		escrowRep("/marketplaces/"+c.mp()+"/escrow", map[string]any{"marketplace": c.mp()}, e)}, "links": map[string]any{}})
	return nil
}

// orderEscrow answers GET /orders/:id/escrow.
func (a *API) orderEscrow(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	id := c.params["id"]
	e, err := a.svc.EscrowOf(c.ctx, c.mp(), id)
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"escrows": []any{
		escrowRep("/orders/"+id+"/escrow", map[string]any{"order": id}, e)}, "links": map[string]any{}})
	return nil
}
