package balanced

import (
	"net/http"

	"github.com/poise-payments/poise/internal/payments"
)

// An escrow's breakdown: in_escrow and amount_escrowed show only what is
// available; these show what is posted and what is promised each way
// (payments.EscrowReport). Poise's own resource, in the API's style.

func escrowRep(href string, links map[string]any, e payments.EscrowReport) map[string]any {
	return map[string]any{
		"href":        href,
		"currency":    payments.Currency,
		"posted":      e.PostedMinor,
		"pending_in":  e.PendingInMinor,
		"pending_out": e.PendingOutMinor,
		"available":   e.AvailableMinor,
		"links":       links,
	}
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
