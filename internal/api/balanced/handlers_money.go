package balanced

import (
	"context"
	"net/http"
	"slices"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

// What a debit may take money from and a credit may pay money to.
var (
	debitSources       = []string{"cards", "bank_accounts", "external_accounts"}
	creditDestinations = []string{"bank_accounts", "cards", "accounts"}
)

// txInput reads what every transaction create takes.
func txInput(f fields) (payments.TxInput, error) {
	var in payments.TxInput
	if err := f.scalars("description", "appears_on_statement_as"); err != nil {
		return in, err
	}
	n, given, err := f.integer("amount")
	if err != nil {
		return in, err
	}
	in.AmountMinor, in.HasAmount = n, given
	if f.has("description") {
		if f["description"] == nil {
			in.Description = nil
		} else {
			in.Description = f.str("description")
		}
	}
	if in.Meta, err = f.meta("meta"); err != nil {
		return in, err
	}
	in.Descriptor = f.str("appears_on_statement_as")
	if err := f.currency(); err != nil {
		return in, err
	}
	in.Order, err = f.linkRef("order", "orders")
	return in, err
}

func customerInput(f fields) (payments.CustomerInput, error) {
	in := payments.CustomerInput{Fields: map[string]any{}}
	if err := f.scalars("name", "business_name", "email", "phone", "ein", "ssn_last4"); err != nil {
		return in, err
	}
	for _, k := range []string{"name", "business_name", "email", "phone", "ein"} {
		if f.has(k) {
			if f[k] == nil || f.str(k) == "" {
				in.Fields[k] = nil
			} else {
				in.Fields[k] = f.str(k)
			}
		}
	}
	if f.has("ssn_last4") {
		// Only the fact that it was given is kept: it is never shown.
		if f["ssn_last4"] == nil || f.str("ssn_last4") == "" {
			in.Fields["ssn_last4"] = nil
		} else {
			in.Fields["ssn_last4"] = "xxxx"
		}
	}
	for _, k := range []string{"dob_month", "dob_year"} {
		n, given, err := f.integer(k)
		if err != nil {
			return in, err
		}
		if given {
			in.Fields[k] = n
		} else if f.has(k) {
			in.Fields[k] = nil
		}
	}
	if m, ok := in.Fields["dob_month"].(int64); ok && (m < 1 || m > 12) {
		return in, fieldError("dob_month", "must be between 1 and 12")
	}
	var err error
	if in.Address, err = f.address("address"); err != nil {
		return in, err
	}
	if in.Meta, err = f.meta("meta"); err != nil {
		return in, err
	}
	if in.Source, err = f.linkRef("source", "cards", "bank_accounts"); err != nil {
		return in, err
	}
	in.Destination, err = f.linkRef("destination", "bank_accounts", "cards")
	return in, err
}

func (a *API) createCustomer(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	f, err := c.fields("customers")
	if err != nil {
		return err
	}
	in, err := customerInput(f)
	if err != nil {
		return err
	}
	cu, err := a.svc.CreateCustomer(c.ctx, c.mp(), in)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, cu)
}

func (a *API) updateCustomer(c *call) error {
	f, err := a.updateFields(c, "customers")
	if err != nil {
		return err
	}
	in, err := customerInput(f)
	if err != nil {
		return err
	}
	cu, err := a.svc.UpdateCustomer(c.ctx, c.mp(), c.params["id"], in)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, cu)
}

// updateFields reads a PUT body, or applies a PATCH body's JSON Patch to
// the resource and returns the patched object.
func (a *API) updateFields(c *call, typ string) (fields, error) {
	if err := c.needMarketplace(); err != nil {
		return nil, err
	}
	ops, err := c.patch()
	if err != nil {
		return nil, err
	}
	if ops != nil {
		return a.patchedResource(c, typ, c.params["id"], ops)
	}
	return c.fields(typ)
}

func (a *API) deleteCustomer(c *call) error {
	if err := a.svc.DeleteCustomer(c.ctx, c.mp(), c.params["id"]); err != nil {
		return err
	}
	return a.noContent(c)
}

func cardInput(f fields) (payments.CardInput, error) {
	if err := f.scalars("number", "cvv", "name"); err != nil {
		return payments.CardInput{}, err
	}
	in := payments.CardInput{Number: f.str("number"), CVV: f.str("cvv"), Name: f.str("name")}
	var err error
	if in.Address, err = f.address("address"); err != nil {
		return in, err
	}
	if in.ExpirationMonth, _, err = f.integer("expiration_month"); err != nil {
		return in, err
	}
	if in.ExpirationYear, _, err = f.integer("expiration_year"); err != nil {
		return in, err
	}
	if in.Meta, err = f.meta("meta"); err != nil {
		return in, err
	}
	in.Customer, err = f.linkRef("customer", "customers")
	return in, err
}

func bankAccountInput(f fields) (payments.BankAccountInput, error) {
	if err := f.scalars("name", "account_number", "routing_number", "account_type", "type"); err != nil {
		return payments.BankAccountInput{}, err
	}
	in := payments.BankAccountInput{Name: f.str("name"), AccountNumber: f.str("account_number"),
		RoutingNumber: f.str("routing_number"), AccountType: f.str("account_type")}
	if in.AccountType == "" {
		in.AccountType = f.str("type")
	}
	var err error
	if in.Address, err = f.address("address"); err != nil {
		return in, err
	}
	if in.Meta, err = f.meta("meta"); err != nil {
		return in, err
	}
	in.Customer, err = f.linkRef("customer", "customers")
	return in, err
}

// createInstrument tokenizes a card or a bank account described by f.
func (a *API) createInstrument(c *call, typ string, f fields, customer string) (payments.Resource, error) {
	if typ == "cards" {
		in, err := cardInput(f)
		if err != nil {
			return payments.Resource{}, err
		}
		if customer != "" {
			in.Customer = customer
		}
		return a.svc.CreateCard(c.ctx, c.mp(), in)
	}
	in, err := bankAccountInput(f)
	if err != nil {
		return payments.Resource{}, err
	}
	if customer != "" {
		in.Customer = customer
	}
	return a.svc.CreateBankAccount(c.ctx, c.mp(), in)
}

// tokenize answers POST /cards and /bank_accounts (forCustomer false; an
// unauthenticated call tokenizes an unclaimed instrument) and
// /customers/:id/cards and /bank_accounts (associated at once).
func (a *API) tokenize(typ string, forCustomer bool) handlerFunc {
	return func(c *call) error {
		customer := ""
		if forCustomer {
			cu, err := a.svc.GetTyped(c.ctx, c.mp(), "customers", c.params["id"])
			if err != nil {
				return err
			}
			customer = cu.ID
		}
		f, err := c.fields(typ)
		if err != nil {
			return err
		}
		r, err := a.createInstrument(c, typ, f, customer)
		if err != nil {
			return err
		}
		return a.one(c, http.StatusCreated, r)
	}
}

func (a *API) createExternalAccount(c *call) error {
	f, err := c.fields("external_accounts")
	if err != nil {
		return err
	}
	if err := f.scalars("provider", "token"); err != nil {
		return err
	}
	meta, err := f.meta("meta")
	if err != nil {
		return err
	}
	x, err := a.svc.CreateExternalAccount(c.ctx, c.mp(), f.str("provider"), f.str("token"), meta)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, x)
}

func (a *API) updateInstrument(typ string) handlerFunc {
	return func(c *call) error {
		f, err := a.updateFields(c, typ)
		if err != nil {
			return err
		}
		meta, err := f.meta("meta")
		if err != nil {
			return err
		}
		customer, err := f.linkRef("customer", "customers")
		if err != nil {
			return err
		}
		r, err := a.svc.UpdateInstrument(c.ctx, c.mp(), c.params["id"], payments.InstrumentUpdate{Meta: meta, Customer: customer})
		if err != nil {
			return err
		}
		return a.one(c, http.StatusOK, r)
	}
}

func (a *API) deleteInstrument(typ string) handlerFunc {
	return func(c *call) error {
		if _, err := a.svc.GetTyped(c.ctx, c.mp(), typ, c.params["id"]); err != nil {
			return err
		}
		if err := a.svc.DeleteInstrument(c.ctx, c.mp(), c.params["id"]); err != nil {
			return err
		}
		return a.noContent(c)
	}
}

// inlineInstrument reads a debit's source or a credit's destination into
// in: a reference to one of kinds, or a card or bank account given inline,
// which the transaction stores in its own operation (so a refused
// transaction stores no instrument).
func inlineInstrument(in *payments.TxInput, f fields, name string, kinds ...string) error {
	obj, ok := f[name].(map[string]any)
	if !ok || obj["id"] != nil || obj["href"] != nil {
		ref, err := f.reference(name, kinds...)
		in.Instrument = ref
		return err
	}
	if fields(obj).has("number") && slices.Contains(kinds, "cards") {
		card, err := cardInput(obj)
		in.NewCard = &card
		return err
	}
	if fields(obj).has("account_number") && slices.Contains(kinds, "bank_accounts") {
		bank, err := bankAccountInput(obj)
		in.NewBankAccount = &bank
		return err
	}
	return fieldError(name, "must be an id or an href of %s, a card or a bank account", kindList(kinds))
}

// given reports whether a transaction names or carries its instrument.
func given(in payments.TxInput) bool {
	return in.Instrument != "" || in.NewCard != nil || in.NewBankAccount != nil
}

// transact runs a transaction create and answers it: 201, or the failed
// resource with its error.
func (a *API) transact(c *call, create func() (payments.Resource, error)) error {
	r, err := create()
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, r)
}

func (a *API) createDebit(c *call) error {
	f, err := c.fields("debits")
	if err != nil {
		return err
	}
	in, err := txInput(f)
	if err != nil {
		return err
	}
	if err := inlineInstrument(&in, f, "source", debitSources...); err != nil {
		return err
	}
	if !given(in) {
		return fieldError("source", "is required")
	}
	return a.transact(c, func() (payments.Resource, error) { return a.svc.Debit(c.ctx, c.mp(), in) })
}

func (a *API) debitInstrument(typ string) handlerFunc {
	return func(c *call) error {
		f, err := c.fields("debits")
		if err != nil {
			return err
		}
		in, err := txInput(f)
		if err != nil {
			return err
		}
		in.Instrument, in.InstrumentType = c.params["id"], typ
		return a.transact(c, func() (payments.Resource, error) { return a.svc.Debit(c.ctx, c.mp(), in) })
	}
}

func (a *API) debitCustomer(c *call) error {
	return a.customerTransaction(c, "debits", "source", debitSources, func(cu payments.Resource) (string, error) {
		if id := cu.Link("source"); id != "" {
			return id, nil
		}
		return a.firstInstrument(c, cu.ID, "cards")
	}, errNoFundingSource, a.svc.Debit)
}

// customerTransaction runs a debit or credit through a customer: on the
// instrument the body names (or gives inline), else the customer's default.
func (a *API) customerTransaction(c *call, plural, field string, kinds []string, fallback func(cu payments.Resource) (string, error), none error,
	do func(ctx context.Context, marketplace string, in payments.TxInput) (payments.Resource, error)) error {
	cu, err := a.svc.GetTyped(c.ctx, c.mp(), "customers", c.params["id"])
	if err != nil {
		return err
	}
	f, err := c.fields(plural)
	if err != nil {
		return err
	}
	in, err := txInput(f)
	if err != nil {
		return err
	}
	in.Customer = cu.ID
	if err := inlineInstrument(&in, f, field, kinds...); err != nil {
		return err
	}
	if !given(in) {
		if in.Instrument, err = fallback(cu); err != nil {
			return err
		}
	}
	if !given(in) {
		return none
	}
	return a.transact(c, func() (payments.Resource, error) { return do(c.ctx, c.mp(), in) })
}

// firstInstrument finds a customer's newest live instrument of a type: ""
// when it has none. A failure to read is returned, never taken for "none".
func (a *API) firstInstrument(c *call, customer, typ string) (string, error) {
	items, _, err := a.svc.List(c.ctx, payments.ListQuery{Marketplace: c.mp(), Type: typ, LinkRel: "customer", LinkTarget: customer, Limit: 1})
	if err != nil || len(items) == 0 {
		return "", err
	}
	return items[0].ID, nil
}

func (a *API) createCredit(c *call) error {
	f, err := c.fields("credits")
	if err != nil {
		return err
	}
	in, err := txInput(f)
	if err != nil {
		return err
	}
	if err := inlineInstrument(&in, f, "destination", creditDestinations...); err != nil {
		return err
	}
	if !given(in) {
		return fieldError("destination", "is required")
	}
	return inlineFormError(a.transact(c, func() (payments.Resource, error) { return a.svc.Credit(c.ctx, c.mp(), in) }))
}

func (a *API) creditInstrument(typ string) handlerFunc {
	return func(c *call) error {
		f, err := c.fields("credits")
		if err != nil {
			return err
		}
		in, err := txInput(f)
		if err != nil {
			return err
		}
		in.Instrument, in.InstrumentType = c.params["id"], typ
		return a.transact(c, func() (payments.Resource, error) { return a.svc.Credit(c.ctx, c.mp(), in) })
	}
}

func (a *API) creditCustomer(c *call) error {
	return a.customerTransaction(c, "credits", "destination", creditDestinations, func(cu payments.Resource) (string, error) {
		if id := cu.Link("destination"); id != "" {
			return id, nil
		}
		// Cards never serve as a default destination; bank accounts do.
		return a.firstInstrument(c, cu.ID, "bank_accounts")
	}, apperr.WithReason(apperr.Conflict, "no-funding-destination", "the customer has no bank account to credit"), a.svc.Credit)
}

func (a *API) creditAccount(c *call) error {
	if _, err := a.svc.GetTyped(c.ctx, c.mp(), "accounts", c.params["id"]); err != nil {
		return err
	}
	f, err := c.fields("credits")
	if err != nil {
		return err
	}
	in, err := txInput(f)
	if err != nil {
		return err
	}
	in.Instrument = c.params["id"]
	return a.transact(c, func() (payments.Resource, error) { return a.svc.Credit(c.ctx, c.mp(), in) })
}

func (a *API) createOrder(c *call) error {
	f, err := c.fields("orders")
	if err != nil {
		return err
	}
	in, err := orderInput(f)
	if err != nil {
		return err
	}
	o, err := a.svc.CreateOrder(c.ctx, c.mp(), c.params["id"], in)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, o)
}

func orderInput(f fields) (payments.OrderInput, error) {
	var in payments.OrderInput
	if err := f.scalars("description"); err != nil {
		return in, err
	}
	if err := f.currency(); err != nil {
		return in, err
	}
	if f.has("description") {
		in.Description = f.str("description")
	}
	addr, err := f.address("delivery_address")
	if err != nil {
		return in, err
	}
	if addr != nil {
		in.DeliveryAddress = payments.MergeAddress(addr)
	}
	in.Meta, err = f.meta("meta")
	return in, err
}

func (a *API) updateOrder(c *call) error {
	f, err := a.updateFields(c, "orders")
	if err != nil {
		return err
	}
	in, err := orderInput(f)
	if err != nil {
		return err
	}
	o, err := a.svc.UpdateOrder(c.ctx, c.mp(), c.params["id"], in)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, o)
}

func (a *API) createHold(c *call) error {
	f, err := c.fields("card_holds")
	if err != nil {
		return err
	}
	in, err := txInput(f)
	if err != nil {
		return err
	}
	in.Instrument, in.InstrumentType = c.params["id"], "cards"
	return a.transact(c, func() (payments.Resource, error) { return a.svc.CreateHold(c.ctx, c.mp(), in) })
}

func (a *API) updateHold(c *call) error {
	f, err := c.fields("card_holds")
	if err != nil {
		return err
	}
	if err := f.scalars("is_void"); err != nil {
		return err
	}
	if v := f.str("is_void"); v == "true" || v == "1" {
		return a.voidHold(c)
	}
	return a.updateTransaction("card_holds")(c)
}

func (a *API) voidHold(c *call) error {
	h, err := a.svc.VoidHold(c.ctx, c.mp(), c.params["id"])
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, h)
}

// fromParent answers POST /<parent>/:id/<plural>: a transaction made from
// its parent (a hold's capture, a debit's refund, a credit's reversal).
func (a *API) fromParent(plural string, do func(ctx context.Context, marketplace, parentID string, in payments.TxInput) (payments.Resource, error)) handlerFunc {
	return func(c *call) error {
		f, err := c.fields(plural)
		if err != nil {
			return err
		}
		in, err := txInput(f)
		if err != nil {
			return err
		}
		return a.transact(c, func() (payments.Resource, error) { return do(c.ctx, c.mp(), c.params["id"], in) })
	}
}

func (a *API) settle(c *call) error {
	if _, err := a.svc.GetTyped(c.ctx, c.mp(), "accounts", c.params["id"]); err != nil {
		return err
	}
	f, err := c.fields("settlements")
	if err != nil {
		return err
	}
	in, err := txInput(f)
	if err != nil {
		return err
	}
	bank, err := f.reference("funding_instrument", "bank_accounts")
	if err != nil {
		return err
	}
	return a.transact(c, func() (payments.Resource, error) { return a.svc.Settle(c.ctx, c.mp(), c.params["id"], bank, in) })
}

func (a *API) createVerification(c *call) error {
	// It takes no fields; a body that is not one object is still refused.
	if _, err := c.fields("bank_account_verifications"); err != nil {
		return err
	}
	if _, err := a.svc.GetTyped(c.ctx, c.mp(), "bank_accounts", c.params["id"]); err != nil {
		return err
	}
	bz, err := a.svc.CreateVerification(c.ctx, c.mp(), c.params["id"])
	if err != nil {
		return err
	}
	return a.one(c, http.StatusCreated, bz)
}

func (a *API) confirmVerification(c *call) error {
	f, err := c.fields("bank_account_verifications")
	if err != nil {
		return err
	}
	a1, _, err := f.integer("amount_1")
	if err != nil {
		return err
	}
	a2, _, err := f.integer("amount_2")
	if err != nil {
		return err
	}
	bz, err := a.svc.ConfirmVerification(c.ctx, c.mp(), c.params["id"], a1, a2)
	if err != nil {
		return err
	}
	return a.one(c, http.StatusOK, bz)
}

func (a *API) updateTransaction(typ string) handlerFunc {
	return func(c *call) error {
		f, err := a.updateFields(c, typ)
		if err != nil {
			return err
		}
		if err := f.scalars("description"); err != nil {
			return err
		}
		meta, err := f.meta("meta")
		if err != nil {
			return err
		}
		var desc any
		if f.has("description") && f["description"] != nil {
			desc = f.str("description")
		}
		r, err := a.svc.UpdateTransaction(c.ctx, c.mp(), typ, c.params["id"], desc, f.has("description"), meta)
		if err != nil {
			return err
		}
		return a.one(c, http.StatusOK, r)
	}
}
