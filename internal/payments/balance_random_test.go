package payments_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// Random debits, refunds, holds (captured in part or voided), payouts,
// reversals and adjustments, with
// the clock moving between them: every balance keeps live + STH + RR =
// current, reconciles with what fed it, and the ledger verifies.
func TestBalancesReconcileUnderRandomOperations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newWorld(t, kind, time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC))
		s, clk, mp, db := w.s, w.clk, w.mp, w.db
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		fee, _ := money.ParseRate("2.9")
		reserve, _ := money.ParseRate("7.5")
		type shop struct {
			m       payments.Resource
			order   string
			bank    string
			debits  []string
			credits []string
			holds   []string
		}
		var shops []*shop
		for i, bump := range []string{"ASAP", "ASAP_plus_RR", "BDAY+2", "DAY+3"} {
			cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
			m, err := s.CreateMerchant(ctx, mp.ID, payments.PartyInput{Login: fmt.Sprintf("%s-shop-%d", kind, i), ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, payments.BalanceRule{Type: "sale", Action: "add", FeeRate: fee, FeeFixedMinor: int64(10 * i),
				ReserveRate: reserve, ReservePeriodDays: 3 + i, DateBump: bump}); err != nil {
				t.Fatal(err)
			}
			account := []string{"9900000002", "9900000000"}[i%2]
			b, _ := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "S", AccountNumber: account, RoutingNumber: "021000021", Customer: cu.ID})
			o, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
			shops = append(shops, &shop{m: m, order: o.ID, bank: b.ID})
		}
		rng := rand.New(rand.NewPCG(7, 11))
		for step := 0; step < 300; step++ {
			sh := shops[rng.IntN(len(shops))]
			n := 1 + rng.Int64N(20_000)
			var err error
			switch op := rng.IntN(9); op {
			case 7:
				in := amount(n)
				in.Instrument, in.Order = card.ID, sh.order
				var h payments.Resource
				if h, err = s.CreateHold(ctx, mp.ID, in); err == nil {
					sh.holds = append(sh.holds, h.ID)
				}
			case 8:
				if len(sh.holds) > 0 {
					i := rng.IntN(len(sh.holds))
					hold := sh.holds[i]
					sh.holds = append(sh.holds[:i], sh.holds[i+1:]...)
					if rng.IntN(2) == 0 {
						var d payments.Resource
						if d, err = s.CaptureHold(ctx, mp.ID, hold, amount(1+rng.Int64N(n))); err == nil {
							sh.debits = append(sh.debits, d.ID)
						}
					} else {
						_, err = s.VoidHold(ctx, mp.ID, hold)
					}
				}
			case 0, 1:
				in := amount(n)
				in.Instrument, in.Order = card.ID, sh.order
				var d payments.Resource
				if d, err = s.Debit(ctx, mp.ID, in); err == nil {
					sh.debits = append(sh.debits, d.ID)
				}
			case 2:
				if len(sh.debits) > 0 {
					_, err = s.Refund(ctx, mp.ID, sh.debits[rng.IntN(len(sh.debits))], amount(1+rng.Int64N(3_000)))
				}
			case 3:
				in := amount(n / 2)
				in.Instrument, in.Order = sh.bank, sh.order
				var c payments.Resource
				if c, err = s.Credit(ctx, mp.ID, in); err == nil && c.Status == "succeeded" {
					sh.credits = append(sh.credits, c.ID)
				}
			case 4:
				if len(sh.credits) > 0 {
					_, err = s.Reverse(ctx, mp.ID, sh.credits[rng.IntN(len(sh.credits))], amount(1+rng.Int64N(1_000)))
				}
			case 5:
				_, err = s.Adjust(ctx, mp.ID, sh.m.ID, payments.AdjustmentInput{AmountMinor: n - 10_000, ExternalSource: "random"})
			case 6:
				clk.Advance(time.Duration(rng.IntN(72*60)) * time.Minute)
			}
			if err != nil {
				switch apperr.ReasonOf(err) {
				case "insufficient-funds", "invalid-amount", "debit-already-refunded", "credit-already-reversed", "invalid-reversal-amount", "authorization-expired":
				default:
					t.Fatalf("step %d: %v", step, err)
				}
			}
			if step%50 == 49 {
				for _, sh := range shops {
					b, err := s.MerchantBalances(ctx, sh.m)
					if err != nil {
						t.Fatal(err)
					}
					if got := b[0]; got.LiveMinor+got.STHMinor+got.RRMinor != got.CurrentMinor || got.STHMinor < 0 || got.RRMinor < 0 {
						t.Fatalf("step %d %s: %+v", step, sh.m.Fields["login"], got)
					}
					rec, err := s.Reconcile(ctx, sh.m)
					if err != nil || len(rec.Differences) != 0 {
						t.Fatalf("step %d: reconciliation %+v %v", step, rec.Differences, err)
					}
				}
				found, err := ledger.Verify(ctx, db.Ledger())
				if err != nil || len(found) != 0 {
					t.Fatalf("verify: %v %v", found, err)
				}
			}
		}
	})
}
