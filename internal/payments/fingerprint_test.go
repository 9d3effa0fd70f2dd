package payments_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
	"github.com/poise-payments/poise/internal/vault"
)

// unkeyedSHA256 is what anyone can compute from a number and the fields the
// API shows: the fingerprint as it was made before it was keyed.
func unkeyedSHA256(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:])
}

func serviceWithKey(t *testing.T, db *store.DB, keyByte byte) *payments.Service {
	t.Helper()
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	key := make([]byte, vault.KeyLen)
	key[0] = keyByte
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	s := payments.NewService(l, db, v)
	merchants.New(s, db, v)
	return s
}

func TestFingerprintsCannotBeRecomputedFromWhatTheAPIShows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		s := serviceWithKey(t, db, 1)
		_, mp := newMarketplace(t, s)
		_, other := newMarketplace(t, s)
		card := func(mp, number string, year int64) string {
			t.Helper()
			c, err := s.CreateCard(ctx, mp, payments.CardInput{Number: number, ExpirationMonth: 12, ExpirationYear: year})
			if err != nil {
				t.Fatal(err)
			}
			return payments.Str(c.Fields["fingerprint"])
		}
		a := card(mp.ID, "4111111111111111", 2030)
		if a == unkeyedSHA256("4111111111111111", "12", "2030") {
			t.Fatal("the card fingerprint is the unkeyed SHA-256 of number|month|year")
		}
		if len(a) != 64 {
			t.Fatalf("fingerprint %q is not 32 bytes of hex", a)
		}
		// Equal cards share one fingerprint, across tokenizations and
		// marketplaces; another number or expiry is another card.
		if b := card(mp.ID, "4111 1111 1111 1111", 2030); b != a {
			t.Fatalf("the same card tokenized twice: %s and %s", a, b)
		}
		if b := card(other.ID, "4111111111111111", 2030); b != a {
			t.Fatalf("the same card in two marketplaces: %s and %s", a, b)
		}
		if b := card(mp.ID, "4111111111111111", 2031); b == a {
			t.Fatal("a new expiry kept the fingerprint")
		}
		if b := card(mp.ID, "5105105105105100", 2030); b == a {
			t.Fatal("two cards share a fingerprint")
		}

		bank := func(account string) string {
			t.Helper()
			b, err := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "Owner", AccountNumber: account, RoutingNumber: "021000021"})
			if err != nil {
				t.Fatal(err)
			}
			return payments.Str(b.Fields["fingerprint"])
		}
		ba := bank("9900000002")
		if ba == unkeyedSHA256("021000021", "9900000002") {
			t.Fatal("the bank account fingerprint is the unkeyed SHA-256 of routing|account")
		}
		if bank("9900000002") != ba || bank("9900000003") == ba {
			t.Fatal("bank account fingerprints do not follow the account")
		}

		// Without the vault key the fingerprint cannot be made: a server
		// with another key gives the same card another one.
		s2 := serviceWithKey(t, storetest.Open(t, kind), 2)
		_, mp2 := newMarketplace(t, s2)
		c2, err := s2.CreateCard(ctx, mp2.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 12, ExpirationYear: 2030})
		if err != nil {
			t.Fatal(err)
		}
		if payments.Str(c2.Fields["fingerprint"]) == a {
			t.Fatal("two vault keys make the same fingerprint")
		}
	})
}

// TestKeyFingerprintsRewritesUnkeyedOnes stores instruments as an older
// version left them (unkeyed fingerprints, also in their events), runs the
// start-up step, and checks every copy was rewritten to what a new
// tokenization gives, equal cards still equal, and the step runs once.
func TestKeyFingerprintsRewritesUnkeyedOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		s := serviceWithKey(t, db, 1)
		_, mp := newMarketplace(t, s)
		newCard := func(market, number string) payments.Resource {
			t.Helper()
			c, err := s.CreateCard(ctx, market, payments.CardInput{Number: number, ExpirationMonth: 7, ExpirationYear: 2031})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		c1, c2, c3 := newCard(mp.ID, "4111111111111111"), newCard(mp.ID, "4111111111111111"), newCard(mp.ID, "5105105105105100")
		unclaimed := newCard("", "4111111111111111")
		b1, err := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "Owner", AccountNumber: "9900000002", RoutingNumber: "021000021"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{ // the keyed fingerprints new tokenizations make
			c1.ID: payments.Str(c1.Fields["fingerprint"]), c2.ID: payments.Str(c2.Fields["fingerprint"]),
			c3.ID: payments.Str(c3.Fields["fingerprint"]), unclaimed.ID: payments.Str(unclaimed.Fields["fingerprint"]),
			b1.ID: payments.Str(b1.Fields["fingerprint"]),
		}
		old := map[string]string{
			c1.ID: unkeyedSHA256("4111111111111111", "7", "2031"), c2.ID: unkeyedSHA256("4111111111111111", "7", "2031"),
			c3.ID: unkeyedSHA256("5105105105105100", "7", "2031"), unclaimed.ID: unkeyedSHA256("4111111111111111", "7", "2031"),
			b1.ID: unkeyedSHA256("021000021", "9900000002"),
		}
		// Put the old fingerprints back, as an older version stored them.
		events := func(r payments.Resource) []payments.Resource {
			t.Helper()
			if r.Marketplace == "" {
				return nil
			}
			evs, _, err := db.ListResources(ctx, payments.ListQuery{Marketplace: r.Marketplace, Type: "events", LinkRel: "entity", LinkTarget: r.ID, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return evs
		}
		eventFingerprint := func(ev payments.Resource) string {
			return payments.Str(ev.Fields["entity"].(map[string]any)["fields"].(map[string]any)["fingerprint"])
		}
		err = db.Update(ctx, func(tx *store.Tx) error {
			for id, fp := range old {
				r, err := tx.LockResource(ctx, marketplaceOf(id, unclaimed.ID, mp.ID), id)
				if err != nil {
					return err
				}
				r.Fields["fingerprint"] = fp
				if err := tx.UpdateResource(ctx, r); err != nil {
					return err
				}
				for _, ev := range events(r) {
					ev.Fields["entity"].(map[string]any)["fields"].(map[string]any)["fingerprint"] = fp
					if err := tx.UpdateResource(ctx, ev); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if ev := events(c1); len(ev) == 0 || eventFingerprint(ev[0]) != old[c1.ID] {
			t.Fatalf("setup: the card's event does not hold the old fingerprint: %v", ev)
		}

		n, err := s.KeyFingerprints(ctx, db)
		if err != nil || n != len(old) {
			t.Fatalf("KeyFingerprints = %d, %v; want %d", n, err, len(old))
		}
		for id, fp := range want {
			r, err := db.GetResource(ctx, marketplaceOf(id, unclaimed.ID, mp.ID), id)
			if err != nil {
				t.Fatal(err)
			}
			if got := payments.Str(r.Fields["fingerprint"]); got != fp {
				t.Errorf("%s: fingerprint %s, want %s", id, got, fp)
			}
			for _, ev := range events(r) {
				if got := eventFingerprint(ev); got != fp {
					t.Errorf("%s: event %s keeps fingerprint %s, want %s", id, ev.ID, got, fp)
				}
			}
		}
		if want[c1.ID] != want[c2.ID] || want[c1.ID] != want[unclaimed.ID] || want[c1.ID] == want[c3.ID] {
			t.Fatal("equal cards do not share one fingerprint after the rewrite")
		}
		// Recorded: a second start does nothing, even with old rows about.
		if err := db.Update(ctx, func(tx *store.Tx) error {
			r, err := tx.LockResource(ctx, mp.ID, c3.ID)
			if err != nil {
				return err
			}
			r.Fields["fingerprint"] = old[c3.ID]
			return tx.UpdateResource(ctx, r)
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.KeyFingerprints(ctx, db); err != nil || n != 0 {
			t.Fatalf("second run = %d, %v; want 0 (the step is recorded)", n, err)
		}
	})
}

func marketplaceOf(id, unclaimedID, mp string) string {
	if id == unclaimedID {
		return ""
	}
	return mp
}
