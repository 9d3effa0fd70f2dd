package merchants_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// Every Balanced operation on a merchant's money feeds its balance with the
// PayNet transaction type DESIGN §1 maps it to, in the same transaction.
func TestBalanceFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, verify := newService(t, kind)
		defer verify(t)
		_, mp := newMarketplace(t, s)
		owner := mp.Link("owner_customer")
		merchant, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
		bank, err := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "M", AccountNumber: "9900000002", RoutingNumber: "021000021", Customer: merchant.ID})
		if err != nil {
			t.Fatal(err)
		}
		ownerBank, _ := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "O", AccountNumber: "9900000003", RoutingNumber: "321174851", Customer: owner})
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		disputed, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "6500000000000002", ExpirationMonth: 1, ExpirationYear: 2030})
		order, _ := s.CreateOrder(ctx, mp.ID, merchant.ID, payments.OrderInput{})

		tx := func(n int64, instrument string) payments.TxInput {
			in := amount(n)
			in.Instrument, in.Order = instrument, order.ID
			return in
		}
		d, err := s.Debit(ctx, mp.ID, tx(10_000, card.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Refund(ctx, mp.ID, d.ID, amount(1_000)); err != nil {
			t.Fatal(err)
		}
		h, _ := s.CreateHold(ctx, mp.ID, tx(2_000, card.ID))
		if _, err := s.CaptureHold(ctx, mp.ID, h.ID, amount(1_500)); err != nil {
			t.Fatal(err)
		}
		h2, _ := s.CreateHold(ctx, mp.ID, tx(700, card.ID))
		if _, err := s.VoidHold(ctx, mp.ID, h2.ID); err != nil {
			t.Fatal(err)
		}
		c, err := s.Credit(ctx, mp.ID, tx(8_000, bank.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reverse(ctx, mp.ID, c.ID, amount(500)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Credit(ctx, mp.ID, tx(250, ownerBank.ID)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Debit(ctx, mp.ID, tx(300, disputed.ID)); err != nil {
			t.Fatal(err)
		}

		describe := func(who string) string {
			feed, err := s.Feed(ctx, mp.ID, who)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, e := range feed {
				parts = append(parts, fmt.Sprintf("%s %d %s", e.Type, e.AmountMinor, e.Gate))
			}
			return strings.Join(parts, ", ")
		}
		want := "sale 10000 card, reversal 1000 card, preauth 2000 card, capture 1500 card, preauth 700 card, void 700 card, " +
			"payout 8000 ach, payout_cancel 500 ach, sale 300 card, chargeback 300 card"
		if got := describe(merchant.ID); got != want {
			t.Fatalf("merchant feed:\n got %s\nwant %s", got, want)
		}
		if got := describe(owner); got != "payout 250 ach" {
			t.Fatalf("owner feed: %s", got)
		}
		// What fed the merchant is exactly what the order holds:
		// sales and captures in, refunds, payouts and chargebacks out,
		// cancelled payouts back in; holds and voids move nothing.
		escrowed, _ := s.Escrowed(ctx, order.ID)
		if want := int64(10_000 - 1_000 + 1_500 - 8_000 + 500 - 250 + 300 - 300); escrowed != want {
			t.Fatalf("escrowed = %d, want %d", escrowed, want)
		}
	})
}
