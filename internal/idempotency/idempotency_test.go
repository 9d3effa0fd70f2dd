package idempotency_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/idempotency"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/store"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// duplicates is how many copies of one request race in the concurrency
// tests: more than one batch's worth of callers arriving at once, so some
// duplicates meet in one batch and others in the next.
const duplicates = 32

// fixture is a keeper over a real store, with a funded buyer and a seller:
// each keyed request pays the seller from the buyer, so its effect shows in
// their balances.
type fixture struct {
	t      *testing.T
	db     *store.DB
	l      *ledger.Ledger
	keeper *idempotency.Keeper
	world  string // may go negative: where the buyer's money comes from
	buyer  string
	seller string
	// ran counts how many times a payment's operation ran to completion.
	ran atomic.Int64
}

func newFixture(t *testing.T, kind string) *fixture {
	t.Helper()
	return newFixtureOn(t, storetest.Open(t, kind))
}

// newFixtureOn builds a fixture over db without accounts, so that a second
// fixture can share the first one's (see sharing).
func newFixtureOn(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	l := ledger.New(db.Ledger(), clock.System(), ledger.CommitterOptions{})
	t.Cleanup(func() { l.Close(context.Background()) })
	return &fixture{t: t, db: db, l: l, keeper: idempotency.NewKeeper(db, l)}
}

func (f *fixture) openAccounts() {
	f.t.Helper()
	f.world = f.account("world", true)
	f.buyer = f.account("buyer", false)
	f.seller = f.account("seller", false)
}

// sharing returns a fixture over another store handle that uses f's accounts.
func (f *fixture) sharing(db *store.DB) *fixture {
	g := newFixtureOn(f.t, db)
	g.world, g.buyer, g.seller = f.world, f.buyer, f.seller
	return g
}

func (f *fixture) account(kind string, mayGoNegative bool) string {
	f.t.Helper()
	a, err := f.l.CreateAccount(context.Background(), ledger.Account{Owner: "MP1", Kind: kind, Currency: "USD", MayGoNegative: mayGoNegative})
	if err != nil {
		f.t.Fatalf("create %s account: %v", kind, err)
	}
	return a.ID
}

func (f *fixture) fund(amountMinor int64) {
	f.t.Helper()
	_, err := f.l.Transfer(context.Background(), ledger.TransferRequest{Postings: []ledger.Posting{
		{AccountID: f.world, AmountMinor: -amountMinor}, {AccountID: f.buyer, AmountMinor: amountMinor}}})
	if err != nil {
		f.t.Fatalf("fund buyer: %v", err)
	}
}

func (f *fixture) posted(accountID string) int64 {
	f.t.Helper()
	a, err := f.l.Account(context.Background(), accountID)
	if err != nil {
		f.t.Fatalf("account %s: %v", accountID, err)
	}
	return a.PostedMinor
}

// payment is the body of a keyed request.
type payment struct {
	AmountMinor int64  `json:"amount"`
	Memo        string `json:"memo,omitempty"`
}

// paymentScope is the scope every request of these tests shares, unless a
// test is about scopes.
var paymentScope = idempotency.ScopeOf("AK1", "POST", "/payments")

// pay sends a keyed payment of body from the buyer to the seller.
func (f *fixture) pay(scope, key string, body payment) (idempotency.Response, bool, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		f.t.Fatal(err)
	}
	req := idempotency.Request{Scope: scope, Key: key, Hash: idempotency.HashOf(raw)}
	op := func(ctx context.Context, w *ledger.Writer) (idempotency.Response, error) {
		tr, err := w.Transfer(ledger.TransferRequest{Code: "payment", Postings: []ledger.Posting{
			{AccountID: f.buyer, AmountMinor: -body.AmountMinor}, {AccountID: f.seller, AmountMinor: body.AmountMinor}}})
		if err != nil {
			return idempotency.Response{}, err
		}
		f.ran.Add(1)
		out, _ := json.Marshal(map[string]any{"transfer": tr.ID, "amount": body.AmountMinor})
		return idempotency.Response{StatusCode: 201, Body: out}, nil
	}
	return f.keeper.Do(context.Background(), req, []string{f.buyer, f.seller}, op, renderRefusal)
}

// renderRefusal stands in for the HTTP layer's rendering of a refusal.
func renderRefusal(err error) idempotency.Response {
	status := 400
	switch apperr.CodeOf(err) {
	case apperr.InsufficientFunds:
		status = 402
	case apperr.Conflict:
		status = 409
	case apperr.NotFound:
		status = 404
	}
	body, _ := json.Marshal(map[string]string{"code": string(apperr.CodeOf(err)), "message": apperr.MessageOf(err)})
	return idempotency.Response{StatusCode: status, Body: body}
}

func (f *fixture) verify() {
	f.t.Helper()
	found, err := ledger.Verify(context.Background(), f.db.Ledger())
	if err != nil {
		f.t.Fatalf("verify: %v", err)
	}
	if len(found) > 0 {
		f.t.Fatalf("verify found %d mismatches, first: %s", len(found), found[0])
	}
}

func sameResponse(a, b idempotency.Response) bool {
	return a.StatusCode == b.StatusCode && bytes.Equal(a.Body, b.Body)
}

func TestSameKeySameBodyHasOneEffect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		f := newFixture(t, kind)
		f.openAccounts()
		f.fund(10_000)

		first, replayed, err := f.pay(paymentScope, "k1", payment{AmountMinor: 2_500})
		if err != nil || replayed {
			t.Fatalf("first: replayed=%v err=%v", replayed, err)
		}
		second, replayed, err := f.pay(paymentScope, "k1", payment{AmountMinor: 2_500})
		if err != nil {
			t.Fatalf("second: %v", err)
		}
		if !replayed {
			t.Error("the second request was not marked replayed")
		}
		if !sameResponse(first, second) {
			t.Errorf("responses differ:\n first  %d %s\n second %d %s", first.StatusCode, first.Body, second.StatusCode, second.Body)
		}
		if got := f.posted(f.seller); got != 2_500 {
			t.Errorf("seller has %d, want 2500: the payment ran more than once", got)
		}
		if got := f.posted(f.buyer); got != 7_500 {
			t.Errorf("buyer has %d, want 7500", got)
		}
		if n := f.ran.Load(); n != 1 {
			t.Errorf("the operation ran %d times", n)
		}
		f.verify()
	})
}

func TestSameKeyOtherBodyIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		f := newFixture(t, kind)
		f.openAccounts()
		f.fund(10_000)

		if _, _, err := f.pay(paymentScope, "k1", payment{AmountMinor: 2_500}); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.pay(paymentScope, "k1", payment{AmountMinor: 9_000})
		if !errors.Is(err, idempotency.ErrKeyReused) {
			t.Fatalf("err = %v, want ErrKeyReused", err)
		}
		if apperr.CodeOf(err) != apperr.Conflict || apperr.ReasonOf(err) != "idempotency-key-reused" {
			t.Errorf("err is %s/%s, want conflict/idempotency-key-reused", apperr.CodeOf(err), apperr.ReasonOf(err))
		}
		if got := f.posted(f.seller); got != 2_500 {
			t.Errorf("seller has %d, want 2500: the reused key had an effect", got)
		}
		if n := f.ran.Load(); n != 1 {
			t.Errorf("the operation ran %d times", n)
		}
		f.verify()
	})
}

func TestRefusalIsStoredAndReplayedEvenAfterFundsArrive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		f := newFixture(t, kind)
		f.openAccounts()

		first, replayed, err := f.pay(paymentScope, "k1", payment{AmountMinor: 500})
		if err != nil || replayed {
			t.Fatalf("first: replayed=%v err=%v", replayed, err)
		}
		if first.StatusCode != 402 || !strings.Contains(string(first.Body), string(apperr.InsufficientFunds)) {
			t.Fatalf("first = %d %s, want the insufficient-funds refusal", first.StatusCode, first.Body)
		}
		second, replayed, err := f.pay(paymentScope, "k1", payment{AmountMinor: 500})
		if err != nil || !replayed || !sameResponse(first, second) {
			t.Fatalf("second = %d %s replayed=%v err=%v, want the stored refusal replayed", second.StatusCode, second.Body, replayed, err)
		}

		// The buyer can pay now, but the key's answer was given already.
		f.fund(1_000)
		third, replayed, err := f.pay(paymentScope, "k1", payment{AmountMinor: 500})
		if err != nil || !replayed || !sameResponse(first, third) {
			t.Fatalf("after funding = %d %s replayed=%v err=%v, want the stored refusal replayed", third.StatusCode, third.Body, replayed, err)
		}
		if got := f.posted(f.seller); got != 0 {
			t.Errorf("seller has %d, want 0: the refused request ran again", got)
		}
		if got := f.posted(f.buyer); got != 1_000 {
			t.Errorf("buyer has %d, want 1000", got)
		}
		if n := f.ran.Load(); n != 0 {
			t.Errorf("the operation succeeded %d times", n)
		}
		f.verify()
	})
}

func TestKeysAreScopedToAPIKeyMethodAndPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		f := newFixture(t, kind)
		f.openAccounts()
		f.fund(10_000)

		scopes := []string{
			idempotency.ScopeOf("AK1", "POST", "/payments"),
			idempotency.ScopeOf("AK2", "POST", "/payments"),
			idempotency.ScopeOf("AK1", "POST", "/refunds"),
		}
		for _, scope := range scopes {
			if _, replayed, err := f.pay(scope, "shared-key", payment{AmountMinor: 100}); err != nil || replayed {
				t.Fatalf("scope %q: replayed=%v err=%v", scope, replayed, err)
			}
		}
		if got := f.posted(f.seller); got != 300 {
			t.Errorf("seller has %d, want 300: one payment per scope", got)
		}
	})
}

func TestOverlongKeyIsInvalid(t *testing.T) {
	f := newFixture(t, "sqlite")
	f.openAccounts()
	_, _, err := f.pay(paymentScope, strings.Repeat("k", idempotency.MaxKeyLen+1), payment{AmountMinor: 1})
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("err = %v, want invalid", err)
	}
}

// send is one keyed request made through one fixture.
type send func(f *fixture) (idempotency.Response, bool, error)

// race sends duplicates copies of one request at once, spread round-robin
// over the fixtures, and checks that everyone got the same successful
// response and exactly one was answered as the original. The caller checks
// that the effect happened once.
func race(t *testing.T, request send, fixtures ...*fixture) {
	t.Helper()
	type answer struct {
		resp     idempotency.Response
		replayed bool
		err      error
	}
	answers := make([]answer, duplicates)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range duplicates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, replayed, err := request(fixtures[i%len(fixtures)])
			answers[i] = answer{resp, replayed, err}
		}()
	}
	close(start)
	wg.Wait()

	fresh := 0
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("duplicate %d: %v", i, a.err)
		}
		if a.resp.StatusCode != 201 {
			t.Fatalf("duplicate %d: %d %s", i, a.resp.StatusCode, a.resp.Body)
		}
		if !sameResponse(a.resp, answers[0].resp) {
			t.Errorf("duplicate %d got %s, duplicate 0 got %s", i, a.resp.Body, answers[0].resp.Body)
		}
		if !a.replayed {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d duplicates were answered as the original, want exactly 1", fresh)
	}
}

func duplicatePayment(f *fixture) (idempotency.Response, bool, error) {
	return f.pay(paymentScope, "dup", payment{AmountMinor: 100, Memo: "once"})
}

func (f *fixture) paidOnce() {
	f.t.Helper()
	if got := f.posted(f.seller); got != 100 {
		f.t.Errorf("seller has %d, want 100: the payment ran %d times", got, got/100)
	}
	f.verify()
}

func TestConcurrentDuplicatesHaveOneEffect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		f := newFixture(t, kind)
		f.openAccounts()
		f.fund(10_000)
		race(t, duplicatePayment, f)
		f.paidOnce()
	})
}

// Two processes sharing one PostgreSQL database each have their own
// committer; only the database can see that they run the same request.
func TestConcurrentDuplicatesAcrossTwoLedgersHaveOneEffect(t *testing.T) {
	storetest.RequirePostgres(t)
	u := storetest.URL(t, "postgres")
	a := newFixtureOn(t, storetest.OpenURL(t, u))
	a.openAccounts()
	a.fund(10_000)
	b := a.sharing(storetest.OpenURL(t, u))
	race(t, duplicatePayment, a, b)
	a.paidOnce()
}

// A payment locks its accounts, so two ledgers running duplicates of it
// queue on those locks and the second finds the first's record. A request
// that locks nothing shared, such as opening an account, meets its
// duplicate only at the record's unique key: the loser must undo its
// effect and replay the winner's response.
func TestConcurrentDuplicatesSharingNoAccountAcrossTwoLedgers(t *testing.T) {
	storetest.RequirePostgres(t)
	u := storetest.URL(t, "postgres")
	a := newFixtureOn(t, storetest.OpenURL(t, u))
	b := newFixtureOn(t, storetest.OpenURL(t, u))
	openAccount := func(f *fixture) (idempotency.Response, bool, error) {
		req := idempotency.Request{Scope: idempotency.ScopeOf("AK1", "POST", "/accounts"), Key: "dup", Hash: idempotency.HashOf([]byte("{}"))}
		return f.keeper.Do(context.Background(), req, nil, func(ctx context.Context, w *ledger.Writer) (idempotency.Response, error) {
			acct, err := w.CreateAccount(ledger.Account{Owner: "MP1", Kind: "keyed", Currency: "USD"})
			if err != nil {
				return idempotency.Response{}, err
			}
			return idempotency.Response{StatusCode: 201, Body: []byte(`{"account":"` + acct.ID + `"}`)}, nil
		}, renderRefusal)
	}
	race(t, openAccount, a, b)
	opened := 0
	err := a.db.Ledger().ScanAccounts(context.Background(), func(acct ledger.Account) error {
		if acct.Kind == "keyed" {
			opened++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if opened != 1 {
		t.Errorf("%d accounts were opened, want 1", opened)
	}
}
