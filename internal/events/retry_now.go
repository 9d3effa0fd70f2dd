package events

import (
	"context"

	"github.com/poise-payments/poise/internal/apperr"
)

// RetryNow tries one delivery of an event at once, whatever the time of
// its next attempt: an operator's "retry now" after fixing the receiver.
// The attempt is recorded like any other; a delivery that had given up is
// tried once more and, failing again, stays given up. A delivery that
// succeeded is not sent again.
func (d *Deliverer) RetryNow(ctx context.Context, marketplace, eventID, deliveryID string) (Delivery, error) {
	dels, err := d.store.DeliveriesOf(ctx, eventID)
	if err != nil {
		return Delivery{}, err
	}
	for _, del := range dels {
		if del.ID != deliveryID || del.Marketplace != marketplace {
			continue
		}
		if del.Status == "succeeded" {
			return del, apperr.New(apperr.Conflict, "delivery %s succeeded already", del.ID)
		}
		if err := d.send(ctx, del); err != nil {
			return del, err
		}
		after, err := d.store.DeliveriesOf(ctx, eventID)
		if err != nil {
			return del, err
		}
		for _, a := range after {
			if a.ID == del.ID {
				return a, nil
			}
		}
		return del, nil
	}
	return Delivery{}, apperr.New(apperr.NotFound, "no delivery %s of event %s", deliveryID, eventID)
}
