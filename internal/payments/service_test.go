package payments_test

import (
	"context"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// newService returns a service over a fresh store, and a function that
// runs the ledger verifier over that store.
func newService(t *testing.T, kind string) (*payments.Service, func(t *testing.T)) {
	t.Helper()
	db := storetest.Open(t, kind)
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	verify := func(t *testing.T) {
		t.Helper()
		found, err := ledger.Verify(context.Background(), db.Ledger())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range found {
			t.Errorf("verify: %s", m)
		}
	}
	v, err := vault.New(make([]byte, vault.KeyLen))
	if err != nil {
		t.Fatal(err)
	}
	s := payments.NewService(l, db, v)
	merchants.New(s, db, v)
	return s, verify
}

func newMarketplace(t *testing.T, s *payments.Service) (payments.APIKey, payments.Resource) {
	t.Helper()
	ctx := context.Background()
	key, secret, err := s.CreateAPIKey(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Authenticate(ctx, secret); err != nil || got.ID != key.ID {
		t.Fatalf("authenticate = %+v, %v", got, err)
	}
	mp, err := s.CreateMarketplace(ctx, key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ = s.Authenticate(ctx, secret)
	if key.Marketplace != mp.ID {
		t.Fatalf("key marketplace = %q, want %q", key.Marketplace, mp.ID)
	}
	return key, mp
}

func TestMarketplacesAndCustomers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, verify := newService(t, kind)
		key, mp := newMarketplace(t, s)

		if _, err := s.CreateMarketplace(ctx, key, nil, nil); apperr.ReasonOf(err) != "marketplace-already-created" {
			t.Fatalf("second marketplace: %v", err)
		}
		if _, err := s.Authenticate(ctx, "ak-test-nope"); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("bad secret: %v", err)
		}
		if bal, err := s.Balance(ctx, payments.EscrowAccount(mp.ID)); err != nil || bal != 0 {
			t.Fatalf("escrow = %d, %v", bal, err)
		}

		henry, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{
			Fields:  map[string]any{"name": "Henry Ford", "dob_month": 7, "dob_year": 1963},
			Address: map[string]any{"postal_code": "48120"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if henry.Fields["merchant_status"] != payments.MerchantUnderwritten {
			t.Fatalf("merchant_status = %v", henry.Fields["merchant_status"])
		}
		card, err := s.CreateCard(ctx, "", payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		if err != nil {
			t.Fatal(err)
		}
		withSource, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{Source: card.ID})
		if err != nil || withSource.Link("source") != card.ID {
			t.Fatalf("a source given at creation: %+v, %v", withSource.Links, err)
		}
		if stored, _ := s.Get(ctx, mp.ID, withSource.ID); stored.Link("source") != card.ID {
			t.Fatalf("the source given at creation was not stored: %+v", stored.Links)
		}
		nameOnly, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{Fields: map[string]any{"name": "Only A. Name"}})
		if err != nil || nameOnly.Fields["merchant_status"] != payments.MerchantNoMatch {
			t.Fatalf("name only = %v, %v", nameOnly.Fields["merchant_status"], err)
		}
		updated, err := s.UpdateCustomer(ctx, mp.ID, nameOnly.ID, payments.CustomerInput{
			Fields: map[string]any{"business_name": "Ford Co", "ein": "123456789"}})
		if err != nil || updated.Fields["merchant_status"] != payments.MerchantUnderwritten {
			t.Fatalf("after update = %v, %v", updated.Fields["merchant_status"], err)
		}
		acct, err := s.PayableAccount(ctx, mp.ID, henry.ID)
		if err != nil || acct.Fields["type"] != "payable" {
			t.Fatalf("payable account = %+v, %v", acct, err)
		}
		if bal, err := s.Balance(ctx, acct.ID); err != nil || bal != 0 {
			t.Fatalf("ledger account of %s = %d, %v", acct.ID, bal, err)
		}
		items, total, err := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "customers", Limit: 10})
		// The owner customer of the marketplace counts too.
		if err != nil || total != 4 || items[0].ID != nameOnly.ID {
			t.Fatalf("customers = %d (%v)", total, err)
		}
		events, total, err := s.List(ctx, payments.ListQuery{Marketplace: mp.ID, Type: "events", LinkRel: "entity", LinkTarget: nameOnly.ID, Limit: 10})
		if err != nil || total != 2 || events[0].Fields["type"] != "account.updated" {
			t.Fatalf("events of a customer = %d, %v", total, err)
		}

		// Another marketplace sees none of it.
		_, other := newMarketplace(t, s)
		if _, err := s.Get(ctx, other.ID, henry.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("cross-tenant get: %v", err)
		}
		if _, err := s.UpdateCustomer(ctx, other.ID, henry.ID, payments.CustomerInput{Fields: map[string]any{"name": "x"}}); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("cross-tenant update: %v", err)
		}
		if _, total, _ := s.List(ctx, payments.ListQuery{Marketplace: other.ID, Type: "customers", Limit: 10}); total != 1 {
			t.Fatalf("other marketplace lists %d customers, want only its owner", total)
		}
		verify(t)
	})
}
