package merchants

import (
	"context"
	"errors"
	"github.com/poise-payments/poise/internal/payments"
	"regexp"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// Merchant balance parties: a merchant is a Balanced customer that receives
// money through orders, with a login and a control key for the balance
// API; a manager is a login that oversees several merchants.

var loginPattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// minControlKeyLen keeps control keys long enough to be secrets.
const minControlKeyLen = 16

// LoginTx claims logins inside an operation.
type LoginTx interface {
	InsertLogin(ctx context.Context, login, marketplace, resourceID string) error
}

// Logins finds who a login belongs to.
type Logins interface {
	Login(ctx context.Context, login string) (marketplace, resourceID string, err error)
}

// PartyInput creates a merchant or a manager.
type PartyInput struct {
	Login, ControlKey string
	// Merchant only: the customer it is, its ID at the operator, enabled.
	Customer           string
	ExternalMerchantID string
	Enabled            bool
	// Manager only: the merchants it oversees.
	Merchants []string
}

// CreateMerchant registers a customer as a merchant of the balance API.
func (s *Service) CreateMerchant(ctx context.Context, marketplace string, in PartyInput) (payments.Resource, error) {
	return s.createParty(ctx, marketplace, "merchants", "MC", in, defaultEndpoint, func(ctx context.Context, w *op, r *payments.Resource) error {
		cu, err := w.Lock(ctx, marketplace, "customers", in.Customer)
		if err != nil {
			return err
		}
		r.Links["customer"] = cu.ID
		r.Fields["external_merchant_id"] = nilIfEmpty(in.ExternalMerchantID)
		r.Fields["enabled"] = in.Enabled
		return nil
	})
}

// CreateManager registers a login that oversees merchants.
func (s *Service) CreateManager(ctx context.Context, marketplace string, in PartyInput) (payments.Resource, error) {
	return s.createParty(ctx, marketplace, "managers", "MG", in, linkManager, func(ctx context.Context, w *op, r *payments.Resource) error {
		ids := make([]any, 0, len(in.Merchants))
		for _, m := range in.Merchants {
			if _, err := w.Lock(ctx, marketplace, "merchants", m); err != nil {
				return err
			}
			ids = append(ids, m)
		}
		r.Fields["merchants"] = ids
		// The seed sets an external ID in the properties of a merchant or
		// a manager alike.
		r.Fields["external_merchant_id"] = nilIfEmpty(in.ExternalMerchantID)
		return nil
	})
}

// linkManager records a manager with each merchant it oversees: a
// transaction of the merchant is posted to the manager's balances too.
var linkManager = func(ctx context.Context, w *op, mg payments.Resource) error {
	for _, v := range mg.Fields["merchants"].([]any) {
		m, err := w.Lock(ctx, mg.Marketplace, "merchants", payments.Str(v))
		if err != nil {
			return err
		}
		mgs, _ := m.Private["managers"].([]any)
		if len(mgs) >= maxManagersPerMerchant {
			return apperr.New(apperr.Conflict, "merchant %s has %d managers already, the most it may have", m.ID, len(mgs))
		}
		m.Private["managers"] = append(mgs, mg.ID)
		if _, err := w.Save(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// defaultEndpoint is what a merchant gets with it: its default endpoint,
// and the transactions its customer had before it was a merchant, posted
// into its balance as they happened (it had no rules then: the seed's
// table applies).
var defaultEndpoint = func(ctx context.Context, w *op, m payments.Resource) error {
	if _, err := w.createEndpoint(ctx, m, "default "+payments.Currency, payments.Currency, true); err != nil {
		return err
	}
	entries, err := w.tx.CustomerFeed(ctx, m.Marketplace, m.Link("customer"), maxHistoryPosted+1)
	if err != nil {
		return err
	}
	if len(entries) > maxHistoryPosted {
		return apperr.New(apperr.Conflict, "customer %s has more than %d balance transactions; it cannot become a merchant in one operation", m.Link("customer"), maxHistoryPosted)
	}
	return w.postHistory(ctx, m, entries)
}

// maxHistoryPosted bounds the earlier transactions one operation posts
// when a customer becomes a merchant: they share one database transaction.
const maxHistoryPosted = 100_000

func (s *Service) createParty(ctx context.Context, marketplace, typ, prefix string, in PartyInput,
	after func(ctx context.Context, w *op, r payments.Resource) error, fill func(ctx context.Context, w *op, r *payments.Resource) error) (payments.Resource, error) {
	if !loginPattern.MatchString(in.Login) {
		return payments.Resource{}, apperr.New(apperr.Invalid, "login must be 1 to 64 letters, digits, '.', '_', '@' or '-'")
	}
	if len(in.ControlKey) < minControlKeyLen {
		return payments.Resource{}, apperr.New(apperr.Invalid, "control_key must be at least %d characters", minControlKeyLen)
	}
	v, err := s.write(ctx, marketplace, nil, func(ctx context.Context, w *op) (any, error) {
		r := payments.Resource{Marketplace: marketplace, Type: typ, Fields: map[string]any{"login": in.Login, "meta": map[string]string{}},
			Links: map[string]string{}, Private: map[string]any{"control_key": s.vault.Seal(in.ControlKey)}}
		if err := fill(ctx, w, &r); err != nil {
			return nil, err
		}
		r, err := w.Create(ctx, r, prefix)
		if err != nil {
			return nil, err
		}
		if err := w.tx.InsertLogin(ctx, in.Login, marketplace, r.ID); errors.Is(err, ledger.ErrDuplicate) {
			return nil, apperr.New(apperr.Conflict, "the login %q is taken", in.Login)
		} else if err != nil {
			return nil, err
		}
		// The accounts of the party's implicit balance open with it, so
		// that postings never race to create them.
		if err := w.ensureBalanceAccounts(marketplace, r.ID, payments.Currency); err != nil {
			return nil, err
		}
		if after != nil {
			if err := after(ctx, w, r); err != nil {
				return nil, err
			}
		}
		return r, nil
	})
	if err != nil {
		return payments.Resource{}, err
	}
	return v.(payments.Resource), nil
}

// Party finds the merchant or manager a login belongs to.
func (s *Service) Party(ctx context.Context, login string) (payments.Resource, error) {
	mp, rid, err := s.store.Login(ctx, login)
	if errors.Is(err, ledger.ErrNotFound) {
		return payments.Resource{}, apperr.New(apperr.NotFound, "no merchant or manager with login %q", login)
	}
	if err != nil {
		return payments.Resource{}, err
	}
	return s.pay.Get(ctx, mp, rid)
}

// ControlKey implements the balance API's secrets: a login's control key.
func (s *Service) ControlKey(ctx context.Context, login string) (string, error) {
	p, err := s.Party(ctx, login)
	if err != nil {
		return "", err
	}
	return s.vault.Open(payments.Str(p.Private["control_key"]))
}
