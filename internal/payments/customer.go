package payments

import (
	"context"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// Merchant statuses a customer's identity check can end in.
const (
	MerchantUnderwritten = "underwritten"
	MerchantNoMatch      = "no-match"
)

// customerFields are the fields a customer shows, with their defaults.
var customerFields = []string{"name", "business_name", "email", "phone", "ssn_last4", "ein", "dob_month", "dob_year"}

// addressFields are the parts of every address, shown null when missing.
var addressFields = []string{"line1", "line2", "city", "state", "postal_code", "country_code"}

// CustomerInput is what a create or an update may set. A nil field is left
// as it is (on create: null). Values are already validated and typed by
// the API surface: strings, ints, and the address as a partial map.
type CustomerInput struct {
	Fields  map[string]any
	Address map[string]any
	Meta    map[string]string
	// Source and Destination are instrument ids; empty leaves them.
	Source, Destination string
}

// CreateCustomer makes a customer and its payable account.
func (s *Service) CreateCustomer(ctx context.Context, marketplace string, in CustomerInput) (Resource, error) {
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		if err := s.claimInstruments(ctx, w, marketplace, in); err != nil {
			return nil, err
		}
		return w.createCustomer(ctx, marketplace, in.Fields, &in)
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

func (w *Writer) createCustomer(ctx context.Context, marketplace string, fields map[string]any, in *CustomerInput) (Resource, error) {
	c := Resource{Marketplace: marketplace, Type: "customers", Fields: map[string]any{},
		Links: map[string]string{"source": "", "destination": ""}}
	for _, f := range customerFields {
		c.Fields[f] = nil
	}
	c.Fields["address"] = emptyAddress()
	c.Fields["meta"] = map[string]string{}
	if in != nil {
		applyCustomer(&c, *in)
	}
	c.Fields["merchant_status"] = kycStatus(c)
	// Named now so that the instruments it is given can be attached to it.
	c.ID = w.NewID("CU")
	if in != nil {
		if err := w.linkInstruments(ctx, &c, *in); err != nil {
			return c, err
		}
	}
	// The payable account's ID is known before either row is written, so
	// the customer can name it (adjustments and settlements find it so).
	acctID := w.NewID("AT")
	c.Private = map[string]any{"payable_account": acctID}
	c, err := w.Create(ctx, c, "CU")
	if err != nil {
		return c, err
	}
	acct, err := w.Create(ctx, Resource{ID: acctID, Marketplace: marketplace, Type: "accounts", Fields: map[string]any{
		"type": "payable", "currency": Currency, "can_debit": false, "can_credit": true, "meta": map[string]string{},
	}, Links: map[string]string{"customer": c.ID}}, "AT")
	if err != nil {
		return c, err
	}
	// A payable account may go below zero: a reversal of a credit into it
	// takes back money that may already have been settled out.
	if _, err := w.CreateAccount(ledger.Account{ID: acct.ID, Owner: marketplace, Kind: "payable", Currency: Currency, MayGoNegative: true}); err != nil {
		return c, err
	}
	if _, err := w.Emit(ctx, "account.created", c); err != nil {
		return c, err
	}
	return c, nil
}

// UpdateCustomer changes a customer's fields and default instruments, and
// runs the identity check again.
func (s *Service) UpdateCustomer(ctx context.Context, marketplace, customerID string, in CustomerInput) (Resource, error) {
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		if err := s.claimInstruments(ctx, w, marketplace, in); err != nil {
			return nil, err
		}
		c, err := w.Lock(ctx, marketplace, "customers", customerID)
		if err != nil {
			return nil, err
		}
		applyCustomer(&c, in)
		c.Fields["merchant_status"] = kycStatus(c)
		if err := w.linkInstruments(ctx, &c, in); err != nil {
			return nil, err
		}
		c, err = w.Save(ctx, c)
		if err != nil {
			return nil, err
		}
		_, err = w.Emit(ctx, "account.updated", c)
		return c, err
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// DeleteCustomer hides a customer from lists; its transactions keep
// pointing at it, so the record itself stays.
func (s *Service) DeleteCustomer(ctx context.Context, marketplace, customerID string) error {
	_, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		c, err := w.Lock(ctx, marketplace, "customers", customerID)
		if err != nil {
			return nil, err
		}
		c.Hidden = true
		c, err = w.Save(ctx, c)
		if err != nil {
			return nil, err
		}
		_, err = w.Emit(ctx, "account.deleted", c)
		return nil, err
	})
	return err
}

func emptyAddress() map[string]any {
	a := make(map[string]any, len(addressFields))
	for _, f := range addressFields {
		a[f] = nil
	}
	return a
}

func applyCustomer(c *Resource, in CustomerInput) {
	for k, v := range in.Fields {
		c.Fields[k] = v
	}
	if in.Address != nil {
		addr, _ := c.Fields["address"].(map[string]any)
		if addr == nil {
			addr = emptyAddress()
		}
		for k, v := range in.Address {
			addr[k] = v
		}
		c.Fields["address"] = addr
	}
	if in.Meta != nil {
		c.Fields["meta"] = in.Meta
	}
}

// linkInstruments sets a customer's default source and destination; each
// must be an instrument of the same marketplace.
func (w *Writer) linkInstruments(ctx context.Context, c *Resource, in CustomerInput) error {
	for _, link := range []struct{ rel, ref string }{{"source", in.Source}, {"destination", in.Destination}} {
		if link.ref == "" {
			continue
		}
		inst, err := w.Lock(ctx, c.Marketplace, "", link.ref)
		if err != nil {
			return err
		}
		if inst.Type != "cards" && inst.Type != "bank_accounts" {
			return apperr.New(apperr.Invalid, "the %s of a customer must be a card or a bank account", link.rel)
		}
		// A customer's default instrument is one of its own, as in
		// Balanced: one not yet attached to anyone is attached to it (and
		// so listed under /customers/:id/cards), one of another customer
		// is refused.
		if inst.Link("customer") != c.ID {
			if err := attachTo(&inst, c.ID); err != nil {
				return err
			}
			if inst, err = w.Save(ctx, inst); err != nil {
				return err
			}
			if _, err := w.Emit(ctx, strings.TrimSuffix(inst.Type, "s")+".updated", inst); err != nil {
				return err
			}
		}
		c.Links[link.rel] = inst.ID
	}
	return nil
}

// attachTo links an instrument to a customer it may belong to: its own
// already, or any while it belongs to none.
func attachTo(inst *Resource, customerID string) error {
	switch cur := inst.Link("customer"); cur {
	case customerID:
		return nil
	case "":
		inst.Links["customer"] = customerID
		return nil
	}
	reason := "card-already-funding-src"
	if inst.Type == "bank_accounts" {
		reason = "bank-account-already-associated"
	}
	return apperr.WithReason(apperr.Conflict, reason, "this instrument belongs to another customer already")
}

// kycStatus is the test-mode identity check: a person named, with a date of
// birth and a postal code, or a business with a name and an EIN, passes.
func kycStatus(c Resource) string {
	set := func(v any) bool { return v != nil && v != "" }
	addr, _ := c.Fields["address"].(map[string]any)
	person := set(c.Fields["name"]) && set(c.Fields["dob_month"]) && set(c.Fields["dob_year"]) && addr != nil && set(addr["postal_code"])
	business := set(c.Fields["business_name"]) && set(c.Fields["ein"])
	if person || business {
		return MerchantUnderwritten
	}
	return MerchantNoMatch
}

// PayableAccount finds a customer's payable account.
func (s *Service) PayableAccount(ctx context.Context, marketplace, customerID string) (Resource, error) {
	items, _, err := s.store.ListResources(ctx, ListQuery{Marketplace: marketplace, Type: "accounts", LinkRel: "customer", LinkTarget: customerID, Limit: 1})
	if err != nil {
		return Resource{}, err
	}
	if len(items) == 0 {
		return Resource{}, apperr.New(apperr.NotFound, "customer %s has no payable account", customerID)
	}
	return items[0], nil
}

// Balance is the posted balance of a ledger account, in minor units.
func (s *Service) Balance(ctx context.Context, accountID string) (int64, error) {
	a, err := s.ledger.Account(ctx, accountID)
	if err != nil {
		return 0, err
	}
	return a.PostedMinor, nil
}

// claimInstruments claims a customer's new default instruments if they were
// tokenized without a key, inside the operation that sets them, so that a
// refused create or update claims nothing.
func (s *Service) claimInstruments(ctx context.Context, w *Writer, marketplace string, in CustomerInput) error {
	for _, ref := range []string{in.Source, in.Destination} {
		if ref == "" {
			continue
		}
		_, err := w.Lock(ctx, marketplace, "", ref)
		if apperr.Is(err, apperr.NotFound) {
			_, err = s.claimIn(ctx, w, marketplace, ref, "")
		}
		if err != nil {
			return err
		}
	}
	return nil
}
