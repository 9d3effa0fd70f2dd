package payments

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// Currency is the one currency the Balanced API moves.
const Currency = "USD"

// secretLen is the random part of an API key secret: 32 base62 characters
// carry about 190 bits, far beyond guessing.
const secretLen = 32

const secretAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// HashSecret is how secrets are stored and looked up.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func newSecret() string {
	b := make([]byte, secretLen)
	if _, err := rand.Read(b); err != nil {
		panic("payments: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		// 256 is not a multiple of 62; the bias this leaves is below one
		// part in four per character and costs nothing in secrecy here.
		b[i] = secretAlphabet[int(b[i])%len(secretAlphabet)]
	}
	return "ak-test-" + string(b)
}

// Authenticate finds the live API key with the given secret.
// Keys found are kept for a moment (see keyCache).
func (s *Service) Authenticate(ctx context.Context, secret string) (APIKey, error) {
	hash := HashSecret(secret)
	k, ok, generation := s.keys.get(hash)
	if ok {
		return k, nil
	}
	k, err := s.store.APIKeyBySecretHash(ctx, hash)
	if errors.Is(err, ledger.ErrNotFound) {
		return k, apperr.New(apperr.Unauthorized, "that API key secret is not valid")
	}
	if err == nil {
		s.keys.put(k, generation)
	}
	return k, err
}

// CreateAPIKey makes a new key. A key made by an authenticated caller joins
// the caller's marketplace; one made without is free until it creates its
// own. The secret is returned once and never stored.
func (s *Service) CreateAPIKey(ctx context.Context, caller *APIKey, meta map[string]string) (APIKey, string, error) {
	secret := newSecret()
	k := APIKey{ID: "", SecretHash: HashSecret(secret), Meta: meta}
	if caller != nil {
		k.Marketplace = caller.Marketplace
	}
	v, err := s.Write(ctx, k.Marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		k.ID = w.NewID("AK")
		k.CreatedAt = w.Now()
		return k, w.tx.InsertAPIKey(ctx, k)
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return v.(APIKey), secret, nil
}

// DeleteAPIKey deletes a key of the caller's marketplace, or the caller
// itself.
func (s *Service) DeleteAPIKey(ctx context.Context, caller APIKey, keyID string) error {
	k, err := s.APIKey(ctx, caller, keyID)
	if err != nil {
		return err
	}
	_, err = s.Write(ctx, k.Marketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		k.Deleted = true
		return nil, w.tx.UpdateAPIKey(ctx, k)
	})
	s.keys.drop(k.SecretHash)
	return err
}

// APIKey reads a key the caller may see: itself, or one of its marketplace.
func (s *Service) APIKey(ctx context.Context, caller APIKey, keyID string) (APIKey, error) {
	if keyID == caller.ID {
		return caller, nil
	}
	if caller.Marketplace == "" {
		return APIKey{}, apperr.New(apperr.NotFound, "no api key with id %s", keyID)
	}
	keys, _, err := s.store.ListAPIKeys(ctx, ListQuery{Marketplace: caller.Marketplace, IDs: []string{keyID}, Limit: 1})
	if err != nil {
		return APIKey{}, err
	}
	if len(keys) == 1 {
		return keys[0], nil
	}
	return APIKey{}, apperr.New(apperr.NotFound, "no api key with id %s", keyID)
}

// ListAPIKeys lists the keys of the caller's marketplace (or only the
// caller, before it has one) that q selects.
func (s *Service) ListAPIKeys(ctx context.Context, caller APIKey, q ListQuery) ([]APIKey, int, error) {
	q.Marketplace = caller.Marketplace
	if caller.Marketplace == "" {
		// Keys without a marketplace are strangers to each other.
		q.IDs = []string{caller.ID}
	}
	return s.store.ListAPIKeys(ctx, q)
}

// Ledger accounts of a marketplace. Their IDs derive from the marketplace's
// so that no lookup is needed to find them.
func EscrowAccount(marketplace string) string { return marketplace }

// CardNetworkAccount stands for the card networks: money from cards comes
// out of it (it may go negative) and refunds go back into it.
func CardNetworkAccount(marketplace string) string { return marketplace + "_cards" }

// BankNetworkAccount stands for the banks reached by ACH.
func BankNetworkAccount(marketplace string) string { return marketplace + "_banks" }

// CreateMarketplace makes the marketplace of a key, with its owner
// customer, the owner's payable account, and its ledger accounts. A test
// marketplace (the default) moves money through the sandbox; a production
// one (fields["production"] true) sends real ACH files to its bank, and
// its owner customer starts without the sandbox's bank account.
func (s *Service) CreateMarketplace(ctx context.Context, caller APIKey, fields map[string]any, meta map[string]string) (Resource, error) {
	if caller.Marketplace != "" {
		return Resource{}, apperr.WithReason(apperr.Conflict, "marketplace-already-created", "this API key already has a marketplace")
	}
	// The marketplace does not exist yet: its clock starts at the process's.
	v, err := s.Write(ctx, NoMarketplace, nil, func(ctx context.Context, w *Writer) (any, error) {
		live := Bool(fields["production"])
		mpID := w.NewID("TEST-MP")
		if live {
			mpID = w.NewID("MP")
		}
		for _, a := range []ledger.Account{
			{ID: EscrowAccount(mpID), Owner: mpID, Kind: "escrow", Currency: Currency},
			{ID: CardNetworkAccount(mpID), Owner: mpID, Kind: "card_network", Currency: Currency, MayGoNegative: true},
			{ID: BankNetworkAccount(mpID), Owner: mpID, Kind: "bank_network", Currency: Currency, MayGoNegative: true},
		} {
			if _, err := w.CreateAccount(a); err != nil {
				return nil, err
			}
		}
		owner, err := w.createCustomer(ctx, mpID, map[string]any{}, nil)
		if err != nil {
			return nil, err
		}
		if !live {
			if err := s.createOwnerBankAccount(ctx, w, mpID, owner.ID); err != nil {
				return nil, err
			}
		}
		mp := Resource{ID: mpID, Marketplace: mpID, Type: "marketplaces", Fields: map[string]any{
			"name":                  "Test Marketplace",
			"domain_url":            "example.com",
			"support_email_address": "support@example.com",
			"support_phone_number":  "+16505551234",
			"production":            false,
			"meta":                  meta,
		}, Links: map[string]string{"owner_customer": owner.ID}}
		for k, v := range fields {
			mp.Fields[k] = v
		}
		mp, err = w.Create(ctx, mp, "")
		if err != nil {
			return nil, err
		}
		caller.Marketplace = mpID
		return mp, w.tx.UpdateAPIKey(ctx, caller)
	})
	s.keys.drop(caller.SecretHash)
	if err != nil {
		return Resource{}, err
	}
	return v.(Resource), nil
}

// The bank account a test marketplace's owner customer comes with, as
// Balanced's did: clients pre-fund their escrow from it and pay their
// commission to it (owner_customer.bank_accounts[0]). Balanced's test
// account that settles at once.
const (
	ownerBankAccountName    = "Test Marketplace"
	ownerBankAccountNumber  = "9900000002"
	ownerBankAccountRouting = "021000021"
)

// createOwnerBankAccount gives a new test marketplace's owner customer its
// bank account, verified: it is the marketplace's own, so no micro-deposit
// check stands between it and a debit.
func (s *Service) createOwnerBankAccount(ctx context.Context, w *Writer, marketplace, owner string) error {
	b, err := s.newBankAccount(marketplace, BankAccountInput{Name: ownerBankAccountName,
		AccountNumber: ownerBankAccountNumber, RoutingNumber: ownerBankAccountRouting})
	if err != nil {
		return err
	}
	b.Fields["can_debit"] = true
	b.Links["customer"] = owner
	if b, err = w.Create(ctx, b, "BA"); err != nil {
		return err
	}
	_, err = w.Emit(ctx, "bank_account.created", b)
	return err
}
