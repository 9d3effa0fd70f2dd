package dashboard

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/poise-payments/poise/internal/apperr"

	"github.com/poise-payments/poise/internal/events"
	"github.com/poise-payments/poise/internal/payments"
)

func (d *Dashboard) events(p *page) error {
	data, err := d.listPage(p, payments.ListQuery{Type: "events"})
	if err != nil {
		return err
	}
	return d.show(p, "events", "Events", data)
}

// delivery is one callback delivery of an event with its attempts.
type delivery struct {
	events.Delivery
	Attempts []events.Attempt
}

type eventData struct {
	Event payments.Resource
	// Entity is the event's resource; EntityIsTransaction links it to its page.
	Entity              string
	EntityIsTransaction bool
	// Deliveries is nil when this server does not deliver callbacks.
	Deliveries []delivery
	Delivering bool
	// Retrying offers "retry now" on deliveries not yet succeeded.
	Retrying bool
}

// event shows one event of the marketplace and each attempt to deliver it
// to the marketplace's callbacks.
func (d *Dashboard) event(p *page) error {
	ev, err := d.svc.GetTyped(p.ctx, p.mp(), "events", p.r.PathValue("id"))
	if err != nil {
		return err
	}
	data := eventData{Event: ev, Entity: ev.Link("entity"), Delivering: d.delivery != nil, Retrying: d.retrier != nil}
	if data.Entity != "" {
		if r, err := d.svc.Get(p.ctx, p.mp(), data.Entity); err == nil {
			data.EntityIsTransaction = slices.Contains(transactionTypes, r.Type)
		}
	}
	if d.delivery != nil {
		dels, err := d.delivery.DeliveriesOf(p.ctx, ev.ID)
		if err != nil {
			return err
		}
		for _, del := range dels {
			attempts, err := d.delivery.AttemptsOf(p.ctx, del.ID)
			if err != nil {
				return err
			}
			data.Deliveries = append(data.Deliveries, delivery{Delivery: del, Attempts: attempts})
		}
	}
	return d.show(p, "event", "Event "+ev.ID, data)
}

// retryDelivery sends one delivery of an event now and shows the event
// with the attempt it made.
func (d *Dashboard) retryDelivery(p *page) error {
	if d.retrier == nil {
		return apperr.New(apperr.NotFound, "this server does not deliver callbacks")
	}
	ev, err := d.svc.GetTyped(p.ctx, p.mp(), "events", p.r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := d.retrier.RetryNow(p.ctx, p.mp(), ev.ID, p.r.PathValue("delivery")); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, Prefix+"events/"+url.PathEscape(ev.ID), http.StatusSeeOther)
	return nil
}
