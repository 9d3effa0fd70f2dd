package payments

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"strconv"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/rails"
)

// Instrument types: what money comes from and goes to.
var instrumentTypes = map[string]bool{"cards": true, "bank_accounts": true, "external_accounts": true}

// CardInput is a card to tokenize. Numbers may carry spaces; the surface
// has already turned numbers given as JSON integers into strings.
type CardInput struct {
	Number, CVV, Name string
	ExpirationMonth   int64
	ExpirationYear    int64
	Address           map[string]any
	Meta              map[string]string
	Customer          string
}

// mask shows only the last four characters of a number.
func mask(n string) string {
	if len(n) <= 4 {
		return n
	}
	return strings.Repeat("x", len(n)-4) + n[len(n)-4:]
}

// fingerprint identifies an instrument without revealing it: the same card
// tokenized twice has the same fingerprint. It is keyed (HMAC-SHA256 with a
// key derived from the vault key): an unkeyed hash of a card or account
// number can be inverted from what the API shows (the bank's routing
// number, the last four digits, the length, a card's BIN) by trying the
// few numbers left.
func (s *Service) fingerprint(parts ...string) string {
	mac := hmac.New(sha256.New, s.fingerprintKey)
	mac.Write([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(mac.Sum(nil))
}

// cardFingerprint and bankAccountFingerprint say what identifies each kind
// of instrument: a card with a new expiry is a new card to its network.
func (s *Service) cardFingerprint(number string, month, year int64) string {
	return s.fingerprint(number, strconv.FormatInt(month, 10), strconv.FormatInt(year, 10))
}

func (s *Service) bankAccountFingerprint(routing, account string) string {
	return s.fingerprint(routing, account)
}

// CreateCard tokenizes a card. marketplace is empty for a card tokenized
// without an API key: it stays unclaimed until a marketplace first uses it,
// and its CVV and address are checked then.
func (s *Service) CreateCard(ctx context.Context, marketplace string, in CardInput) (Resource, error) {
	c, err := s.newCard(marketplace, in)
	if err != nil {
		return Resource{}, err
	}
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		return s.storeCard(ctx, w, c, in.Customer)
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// newCard checks a card and seals its number, writing nothing.
func (s *Service) newCard(marketplace string, in CardInput) (Resource, error) {
	number := rails.CleanCardNumber(in.Number)
	if !rails.LuhnValid(number) {
		return Resource{}, apperr.WithReason(apperr.Conflict, "card-not-validated", "the card number is not valid")
	}
	if in.ExpirationMonth < 1 || in.ExpirationMonth > 12 {
		return Resource{}, apperr.New(apperr.Invalid, "expiration_month must be between 1 and 12")
	}
	if in.ExpirationYear < 1 {
		return Resource{}, apperr.New(apperr.Invalid, "expiration_year is required")
	}
	facts := rails.Card(number)
	cvv := any(nil)
	if in.CVV != "" {
		cvv = strings.Repeat("x", len(in.CVV))
	}
	c := Resource{Marketplace: marketplace, Type: "cards", Fields: map[string]any{
		"name":             nilIfEmpty(in.Name),
		"number":           mask(number),
		"expiration_month": in.ExpirationMonth,
		"expiration_year":  in.ExpirationYear,
		"cvv":              cvv,
		"cvv_match":        nil, "cvv_result": nil,
		"avs_street_match": nil, "avs_postal_match": nil, "avs_result": nil,
		"address":     mergeAddress(in.Address),
		"fingerprint": s.cardFingerprint(number, in.ExpirationMonth, in.ExpirationYear),
		"brand":       facts.Brand,
		"is_verified": true,
		"can_debit":   true,
		"can_credit":  facts.Creditable && in.Name != "",
		"type":        facts.Type,
		"category":    facts.Category,
		"bank_name":   facts.BankName,
		"meta":        orDefault(in.Meta, map[string]string{}),
	}, Links: map[string]string{"customer": ""}, Private: map[string]any{
		"number":  s.vault.Seal(number),
		"outcome": facts.Outcome,
		"push":    facts.PushOutcome,
	}}
	if in.CVV != "" {
		// Kept sealed only until the card network has checked it.
		c.Private["cvv"] = s.vault.Seal(in.CVV)
	}
	return c, nil
}

// storeCard stores a card made by newCard inside an operation, associated
// with customer when one is named.
func (s *Service) storeCard(ctx context.Context, w *Writer, c Resource, customer string) (Resource, error) {
	// A retried operation must start from the card as made, not as checked.
	c.Fields, c.Links, c.Private = maps.Clone(c.Fields), maps.Clone(c.Links), maps.Clone(c.Private)
	if c.Marketplace != "" {
		s.verifyCard(&c)
	}
	if customer != "" {
		if err := w.associate(ctx, &c, customer); err != nil {
			return Resource{}, err
		}
	}
	c, err := w.Create(ctx, c, "CC")
	if err != nil {
		return Resource{}, err
	}
	if c.Marketplace != "" {
		_, err = w.Emit(ctx, "card.created", c)
	}
	return c, err
}

// verifyCard runs the card network's CVV and address checks, and then
// forgets the CVV.
func (s *Service) verifyCard(c *Resource) {
	number, err := s.vault.Open(Str(c.Private["number"]))
	if err != nil {
		return
	}
	cvv := ""
	if sealed := Str(c.Private["cvv"]); sealed != "" {
		cvv, _ = s.vault.Open(sealed)
	}
	addr, _ := c.Fields["address"].(map[string]any)
	v := rails.Verify(number, cvv, Str(addr["line1"]), Str(addr["postal_code"]))
	c.Fields["cvv_match"], c.Fields["cvv_result"] = v.CVVMatch, v.CVVResult
	c.Fields["avs_street_match"], c.Fields["avs_postal_match"], c.Fields["avs_result"] = v.AVSStreet, v.AVSPostal, v.AVSResult
	delete(c.Private, "cvv")
}

// BankAccountInput is a bank account to tokenize.
type BankAccountInput struct {
	Name, AccountNumber, RoutingNumber, AccountType string
	Address                                         map[string]any
	Meta                                            map[string]string
	Customer                                        string
}

// CreateBankAccount tokenizes a bank account; see CreateCard for an empty
// marketplace.
func (s *Service) CreateBankAccount(ctx context.Context, marketplace string, in BankAccountInput) (Resource, error) {
	b, err := s.newBankAccount(marketplace, in)
	if err != nil {
		return Resource{}, err
	}
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		return w.storeBankAccount(ctx, b, in.Customer)
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// newBankAccount checks a bank account and seals its number, writing nothing.
func (s *Service) newBankAccount(marketplace string, in BankAccountInput) (Resource, error) {
	if in.Name == "" || in.AccountNumber == "" {
		return Resource{}, apperr.New(apperr.Invalid, "name and account_number are required")
	}
	if !rails.RoutingValid(in.RoutingNumber) {
		return Resource{}, apperr.WithReason(apperr.Invalid, "invalid-routing-number", "routing number %q is not a known bank's", in.RoutingNumber)
	}
	switch in.AccountType {
	case "":
		in.AccountType = "checking"
	case "checking", "savings":
	default:
		return Resource{}, apperr.New(apperr.Invalid, "account_type must be checking or savings")
	}
	b := Resource{Marketplace: marketplace, Type: "bank_accounts", Fields: map[string]any{
		"name":           in.Name,
		"account_number": mask(in.AccountNumber),
		"routing_number": in.RoutingNumber,
		"account_type":   in.AccountType,
		"bank_name":      rails.BankName(in.RoutingNumber),
		"address":        mergeAddress(in.Address),
		"fingerprint":    s.bankAccountFingerprint(in.RoutingNumber, in.AccountNumber),
		"can_debit":      false,
		"can_credit":     true,
		"meta":           orDefault(in.Meta, map[string]string{}),
	}, Links: map[string]string{"customer": "", "bank_account_verification": ""}, Private: map[string]any{
		"account_number": s.vault.Seal(in.AccountNumber),
		"outcome":        rails.BankOutcome(in.AccountNumber),
	}}
	return b, nil
}

// storeBankAccount stores a bank account made by newBankAccount inside an
// operation, associated with customer when one is named.
func (w *Writer) storeBankAccount(ctx context.Context, b Resource, customer string) (Resource, error) {
	b.Links = maps.Clone(b.Links)
	if customer != "" {
		if err := w.associate(ctx, &b, customer); err != nil {
			return Resource{}, err
		}
	}
	b, err := w.Create(ctx, b, "BA")
	if err != nil {
		return Resource{}, err
	}
	if b.Marketplace != "" {
		_, err = w.Emit(ctx, "bank_account.created", b)
	}
	return b, err
}

// CreateExternalAccount records an account at an outside provider; the test
// provider accepts any token.
func (s *Service) CreateExternalAccount(ctx context.Context, marketplace, provider, token string, meta map[string]string) (Resource, error) {
	if provider != "test" && provider != "coinbase" {
		return Resource{}, apperr.New(apperr.Invalid, "provider must be test or coinbase")
	}
	if token == "" {
		return Resource{}, apperr.New(apperr.Invalid, "token is required")
	}
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		return w.Create(ctx, Resource{Marketplace: marketplace, Type: "external_accounts", Fields: map[string]any{
			"provider": provider, "can_debit": true, "can_credit": false, "meta": orDefault(meta, map[string]string{}),
		}, Links: map[string]string{"customer": ""}, Private: map[string]any{"outcome": OutcomeSucceeded, "token": token}}, "NT")
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// associate links an instrument to a customer of its marketplace, once.
func (w *Writer) associate(ctx context.Context, inst *Resource, customerID string) error {
	if inst.Link("customer") != "" {
		return attachTo(inst, customerID) // its own already, or refused
	}
	if inst.Marketplace == "" {
		return apperr.New(apperr.Invalid, "an instrument tokenized without an API key must be claimed before it is associated")
	}
	if _, err := w.Lock(ctx, inst.Marketplace, "customers", customerID); err != nil {
		return err
	}
	inst.Links["customer"] = customerID
	return nil
}

// InstrumentUpdate is what updating a card, bank account or external
// account may change.
type InstrumentUpdate struct {
	Meta     map[string]string
	Customer string
}

// UpdateInstrument changes meta or associates an instrument with a customer.
func (s *Service) UpdateInstrument(ctx context.Context, marketplace, id string, in InstrumentUpdate) (Resource, error) {
	v, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		// Claimed in this operation, so a refused update claims nothing.
		r, err := w.lockInstrument(ctx, marketplace, id)
		if apperr.Is(err, apperr.NotFound) && marketplace != "" {
			r, err = s.claimIn(ctx, w, marketplace, id, "")
		}
		if err != nil {
			return nil, err
		}
		if in.Meta != nil {
			r.Fields["meta"] = in.Meta
		}
		if in.Customer != "" {
			if err := w.associate(ctx, &r, in.Customer); err != nil {
				return nil, err
			}
		}
		if r, err = w.Save(ctx, r); err != nil {
			return nil, err
		}
		_, err = w.Emit(ctx, strings.TrimSuffix(r.Type, "s")+".updated", r)
		return r, err
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// lockInstrument locks a funding instrument. Only a missing row or one of
// another type is "not found"; a database failure stays what it is.
func (w *Writer) lockInstrument(ctx context.Context, marketplace, id string) (Resource, error) {
	r, err := w.Lock(ctx, marketplace, "", id)
	if apperr.Is(err, apperr.NotFound) || err == nil && !instrumentTypes[r.Type] {
		return Resource{}, apperr.New(apperr.NotFound, "no funding instrument with id %s", id)
	}
	return r, err
}

// DeleteInstrument "unstores" an instrument: it can still be read, but is
// left out of lists and refuses new transactions.
func (s *Service) DeleteInstrument(ctx context.Context, marketplace, id string) error {
	_, err := s.Write(ctx, marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		r, err := w.lockInstrument(ctx, marketplace, id)
		if err != nil {
			return nil, err
		}
		r.Hidden = true
		_, err = w.Save(ctx, r)
		return nil, err
	})
	return err
}

// claim gives an unclaimed instrument to the first marketplace that uses
// it, and runs the card network's checks then.
func (s *Service) claim(ctx context.Context, marketplace, id string) (Resource, error) {
	v, err := s.Write(WithoutIdempotency(ctx), marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		return s.claimIn(ctx, w, marketplace, id, "")
	})
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// claimIn claims an unclaimed instrument (of type typ, when not "") for
// marketplace inside an operation.
func (s *Service) claimIn(ctx context.Context, w *Writer, marketplace, id, typ string) (Resource, error) {
	r, err := w.tx.LockResource(ctx, "", id)
	if errors.Is(err, ledger.ErrNotFound) || err == nil && (!instrumentTypes[r.Type] || typ != "" && r.Type != typ) {
		return Resource{}, apperr.New(apperr.NotFound, "no %s with id %s", typeOr(typ), id)
	}
	if err != nil {
		return Resource{}, err
	}
	r.Marketplace = marketplace
	if r.Type == "cards" {
		s.verifyCard(&r)
	}
	if r, err = w.Save(ctx, r); err != nil {
		return Resource{}, err
	}
	_, err = w.Emit(ctx, strings.TrimSuffix(r.Type, "s")+".created", r)
	return r, err
}

// inlineInstrument is a card or bank account given inline with a
// transaction, checked and sealed but not stored.
type inlineInstrument struct {
	r        Resource
	customer string
}

// prepareInstrument checks the instrument a transaction names or gives
// inline, before its operation; nothing is written.
func (s *Service) prepareInstrument(marketplace string, in TxInput) (*inlineInstrument, error) {
	switch {
	case in.NewCard != nil:
		c, err := s.newCard(marketplace, *in.NewCard)
		return &inlineInstrument{c, in.NewCard.Customer}, err
	case in.NewBankAccount != nil:
		b, err := s.newBankAccount(marketplace, *in.NewBankAccount)
		return &inlineInstrument{b, in.NewBankAccount.Customer}, err
	case in.Instrument == "":
		return nil, apperr.New(apperr.Invalid, "no funding instrument given")
	}
	return nil, nil
}

// useInstrument makes a transaction's instrument ready inside its
// operation: the inline one is stored, a named one tokenized without a key
// is claimed. Both commit with the transaction, or not at all when it is
// refused, so a refusal leaves no instrument and no event behind.
func (s *Service) useInstrument(ctx context.Context, w *Writer, marketplace string, inline *inlineInstrument, in *TxInput) error {
	if inline != nil {
		var r Resource
		var err error
		if inline.r.Type == "cards" {
			r, err = s.storeCard(ctx, w, inline.r, inline.customer)
		} else {
			r, err = w.storeBankAccount(ctx, inline.r, inline.customer)
		}
		in.Instrument = r.ID
		return err
	}
	_, err := w.Lock(ctx, marketplace, in.InstrumentType, in.Instrument)
	if apperr.Is(err, apperr.NotFound) && marketplace != "" {
		_, err = s.claimIn(ctx, w, marketplace, in.Instrument, in.InstrumentType)
	}
	return err
}

// MergeAddress fills the missing parts of an address with nulls.
func MergeAddress(in map[string]any) map[string]any { return mergeAddress(in) }

func mergeAddress(in map[string]any) map[string]any {
	a := emptyAddress()
	for k, v := range in {
		a[k] = v
	}
	return a
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// claimed makes sure an instrument named by a transaction is the
// marketplace's, claiming it if it was tokenized without a key.
func (s *Service) claimed(ctx context.Context, marketplace, id string) error {
	if id == "" {
		return apperr.New(apperr.Invalid, "no funding instrument given")
	}
	_, err := s.Get(ctx, marketplace, id)
	return err
}
