package payments_test

import (
	"context"
	"sync"
	"testing"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// instrument stores a test card or bank account as the sandbox would.
func instrument(t *testing.T, s *payments.Service, mp, typ, customer string, fields map[string]any, outcome string) string {
	t.Helper()
	v, err := s.Write(context.Background(), mp, nil, func(ctx context.Context, w *payments.Writer) (any, error) {
		r, err := w.Create(ctx, payments.Resource{Marketplace: mp, Type: typ, Fields: fields,
			Links: map[string]string{"customer": customer}, Private: map[string]any{"outcome": outcome}}, map[string]string{"cards": "CC", "bank_accounts": "BA"}[typ])
		return r.ID, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v.(string)
}

func amount(n int64) payments.TxInput { return payments.TxInput{AmountMinor: n, HasAmount: true} }

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if apperr.ReasonOf(err) != reason {
		t.Fatalf("error = %v, want reason %s", err, reason)
	}
}

// The crowdfunding walk-through of seed 000: a campaign is an order, two
// backers' card debits go into it, and at the close the merchant is paid 90%
// and the marketplace keeps 10%, never more than came in.
func TestCrowdfundingOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, verify := newService(t, kind)
		_, mp := newMarketplace(t, s)
		owner := mp.Link("owner_customer")
		merchant, err := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{Fields: map[string]any{"name": "Joe Blogs"}})
		if err != nil {
			t.Fatal(err)
		}
		merchantBank := instrument(t, s, mp.ID, "bank_accounts", merchant.ID, map[string]any{}, payments.OutcomeSucceeded)
		ownerBank := instrument(t, s, mp.ID, "bank_accounts", owner, map[string]any{}, payments.OutcomeSucceeded)
		card := instrument(t, s, mp.ID, "cards", "", map[string]any{}, payments.OutcomeSucceeded)

		order, err := s.CreateOrder(ctx, mp.ID, merchant.ID, payments.OrderInput{Description: "campaign"})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int64{6000, 4000} {
			in := amount(n)
			in.Instrument, in.Order = card, order.ID
			if d, err := s.Debit(ctx, mp.ID, in); err != nil || d.Status != "succeeded" {
				t.Fatalf("debit: %+v, %v", d, err)
			}
		}
		if got, _ := s.Escrowed(ctx, order.ID); got != 10000 {
			t.Fatalf("escrowed = %d, want 10000", got)
		}
		if got, _ := s.Balance(ctx, payments.EscrowAccount(mp.ID)); got != 0 {
			t.Fatalf("order money reached the marketplace escrow: %d", got)
		}

		// Someone else's bank account is not the order's to pay.
		stranger, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		strangerBank := instrument(t, s, mp.ID, "bank_accounts", stranger.ID, map[string]any{}, payments.OutcomeSucceeded)
		in := amount(100)
		in.Instrument, in.Order = strangerBank, order.ID
		if _, err := s.Credit(ctx, mp.ID, in); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("credit to a stranger: %v", err)
		}

		profit := int64(10000 * 10 / 100)
		in = amount(10000 + 1)
		in.Instrument, in.Order = merchantBank, order.ID
		var failed *payments.TransactionFailed
		_, err = s.Credit(ctx, mp.ID, in)
		if ok := asFailed(err, &failed); !ok || failed.Resource.Status != "failed" || apperr.ReasonOf(err) != "insufficient-funds" {
			t.Fatalf("overdrawn order credit: %v", err)
		}
		in.AmountMinor = 10000 - profit
		if c, err := s.Credit(ctx, mp.ID, in); err != nil || c.Status != "succeeded" {
			t.Fatalf("merchant credit: %+v, %v", c, err)
		}
		in = amount(profit + 1)
		in.Instrument, in.Order = ownerBank, order.ID
		wantReason(t, errOf(s.Credit(ctx, mp.ID, in)), "insufficient-funds")
		in.AmountMinor = profit
		if _, err := s.Credit(ctx, mp.ID, in); err != nil {
			t.Fatalf("marketplace cut: %v", err)
		}
		if got, _ := s.Escrowed(ctx, order.ID); got != 0 {
			t.Fatalf("escrowed after payouts = %d", got)
		}
		verify(t)
	})
}

func errOf(_ payments.Resource, err error) error { return err }

func asFailed(err error, target **payments.TransactionFailed) bool {
	f, ok := err.(*payments.TransactionFailed)
	if ok {
		*target = f
	}
	return ok
}

// Refunds come out of the order the debit paid into, never beyond what is
// left of the debit, and never beyond what the order still holds.
func TestRefundsAndReversals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, verify := newService(t, kind)
		_, mp := newMarketplace(t, s)
		merchant, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		bank := instrument(t, s, mp.ID, "bank_accounts", merchant.ID, map[string]any{}, payments.OutcomeSucceeded)
		card := instrument(t, s, mp.ID, "cards", "", map[string]any{}, payments.OutcomeSucceeded)
		order, _ := s.CreateOrder(ctx, mp.ID, merchant.ID, payments.OrderInput{})
		defer verify(t)
		in := amount(5000)
		in.Instrument, in.Order = card, order.ID
		d, err := s.Debit(ctx, mp.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		wantReason(t, errOf(s.Refund(ctx, mp.ID, d.ID, amount(5001))), "invalid-amount")
		if _, err := s.Refund(ctx, mp.ID, d.ID, amount(1000)); err != nil {
			t.Fatal(err)
		}
		// Pay the merchant most of the rest; the order then cannot fund a
		// full refund of what is left of the debit.
		out := amount(3500)
		out.Instrument, out.Order = bank, order.ID
		c, err := s.Credit(ctx, mp.ID, out)
		if err != nil {
			t.Fatal(err)
		}
		wantReason(t, errOf(s.Refund(ctx, mp.ID, d.ID, payments.TxInput{})), "insufficient-funds")
		if rf, err := s.Refund(ctx, mp.ID, d.ID, amount(500)); err != nil || payments.Int(rf.Fields["amount"]) != 500 {
			t.Fatalf("refund of what the order holds: %v", err)
		}
		wantReason(t, errOf(s.Refund(ctx, mp.ID, d.ID, amount(3501))), "invalid-amount")

		wantReason(t, errOf(s.Reverse(ctx, mp.ID, c.ID, amount(3501))), "invalid-reversal-amount")
		if rv, err := s.Reverse(ctx, mp.ID, c.ID, payments.TxInput{}); err != nil || payments.Int(rv.Fields["amount"]) != 3500 {
			t.Fatalf("full reversal: %v", err)
		}
		wantReason(t, errOf(s.Reverse(ctx, mp.ID, c.ID, payments.TxInput{})), "credit-already-reversed")
		if got, _ := s.Escrowed(ctx, order.ID); got != 3500 {
			t.Fatalf("escrowed = %d, want 3500", got)
		}
	})
}

// Every money rule holds under concurrency: 64 payouts of 1.00 against an
// escrow holding 20.00 leave exactly 20 succeeded.
func TestConcurrentCreditsNeverOverdrawTheEscrow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, verify := newService(t, kind)
		_, mp := newMarketplace(t, s)
		merchant, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		bank := instrument(t, s, mp.ID, "bank_accounts", merchant.ID, map[string]any{}, payments.OutcomeSucceeded)
		card := instrument(t, s, mp.ID, "cards", "", map[string]any{}, payments.OutcomeSucceeded)
		defer verify(t)
		in := amount(2000)
		in.Instrument = card
		if _, err := s.Debit(ctx, mp.ID, in); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := amount(100)
				out.Instrument = bank
				_, err := s.Credit(ctx, mp.ID, out)
				mu.Lock()
				defer mu.Unlock()
				switch apperr.ReasonOf(err) {
				case "":
					if err != nil {
						t.Errorf("credit: %v", err)
					}
					ok++
				case "insufficient-funds":
					refused++
				default:
					t.Errorf("credit: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 20 || refused != 44 {
			t.Fatalf("%d credits succeeded and %d were refused, want 20 and 44", ok, refused)
		}
		if got, _ := s.Balance(ctx, payments.EscrowAccount(mp.ID)); got != 0 {
			t.Fatalf("escrow = %d", got)
		}
	})
}
