package dashboard

import (
	"context"
	"net/http"
	"net/url"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

// maxCustomerDebits bounds the customer's recent debits its page lists.
const maxCustomerDebits = 10

// saleForm is a customer's page's form to debit one of its stored cards.
// Only stored cards are offered: the dashboard never takes a card number.
type saleForm struct {
	Cards []payments.Resource
	// IdempotencyKey makes one submit of the form one debit.
	IdempotencyKey string
	MaxMinor       int64
}

type customerData struct {
	Customer payments.Resource
	Debits   []payments.Resource
	Sale     saleForm
}

// customer shows a customer, its cards by their last four, its latest
// debits and a form that sells to it on one of its cards.
func (d *Dashboard) customer(p *page) error {
	cu, err := d.svc.GetTyped(p.ctx, p.mp(), "customers", p.r.PathValue("id"))
	if err != nil {
		return err
	}
	cards, err := d.cardsOf(p, cu.ID)
	if err != nil {
		return err
	}
	debits, _, err := d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: "debits", LinkRel: "customer", LinkTarget: cu.ID,
		Limit: maxCustomerDebits, WithoutTotal: true})
	if err != nil {
		return err
	}
	// Under the customers' tab, as the list it is read from.
	d.render(p.w, http.StatusOK, "customer", p.view("Customer "+cu.ID, "customers", customerData{Customer: cu, Debits: debits,
		Sale: saleForm{Cards: cards, IdempotencyKey: newToken(), MaxMinor: payments.MaxAmountMinor}}))
	return nil
}

// cardsOf lists a customer's cards that may still be debited.
func (d *Dashboard) cardsOf(p *page, customer string) ([]payments.Resource, error) {
	cards, _, err := d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: "cards", LinkRel: "customer", LinkTarget: customer,
		Limit: maxRelated, WithoutTotal: true})
	return cards, err
}

// sell debits one of a customer's stored cards through the call the API's
// POST /debits makes, so the page's bounds and refusals are the API's,
// once per rendered form, and shows the debit made.
func (d *Dashboard) sell(p *page) error {
	cu, err := d.svc.GetTyped(p.ctx, p.mp(), "customers", p.r.PathValue("id"))
	if err != nil {
		return err
	}
	// A card of another customer or marketplace, or one deleted, is not
	// this customer's to sell on.
	card, err := d.svc.GetTyped(p.ctx, p.mp(), "cards", p.r.PostFormValue("card"))
	if err != nil {
		return err
	}
	if card.Hidden || card.Link("customer") != cu.ID {
		return apperr.New(apperr.NotFound, "no card %s of customer %s", card.ID, cu.ID)
	}
	amount, err := parseAmountMinor(p.r.PostFormValue("amount"))
	if err != nil {
		return err
	}
	in := payments.TxInput{AmountMinor: amount, HasAmount: true, Instrument: card.ID, InstrumentType: "cards", Customer: cu.ID}
	if order := p.r.PostFormValue("order"); order != "" {
		o, err := d.svc.GetTyped(p.ctx, p.mp(), "orders", order)
		if err != nil {
			return err
		}
		in.Order = o.ID
	}
	description := p.r.PostFormValue("description")
	if description != "" {
		// Not given, a debit into an order is described by its order.
		in.Description = description
	}
	asked := map[string]any{"card": card.ID, "amount": amount, "order": in.Order, "description": description}
	return d.once(p, asked, func(ctx context.Context) (payments.Resource, error) {
		return d.svc.Debit(ctx, p.mp(), in)
	}, func(id string) string { return Prefix + "transactions/" + url.PathEscape(id) })
}
