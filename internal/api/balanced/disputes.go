package balanced

import "net/http"

// decideDispute answers PUT /disputes/:id in a live marketplace: the card
// network's decision, won or lost, with the operator's evidence notes
// ({"status": "won", "evidence": "..."}). A test marketplace's disputes are
// decided by the sandbox.
func (a *API) decideDispute(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	f, err := c.fields("disputes")
	if err != nil {
		return err
	}
	if err := f.scalars("status", "evidence"); err != nil {
		return err
	}
	dt, err := a.svc.DecideDispute(c.ctx, c.mp(), c.params["id"], f.str("status"), f.str("evidence"))
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, dt)
}
