package merchants_test

import (
	"context"
	"fmt"
	"github.com/poise-payments/poise/internal/merchants"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
	"github.com/poise-payments/poise/internal/scheduler"
	"github.com/poise-payments/poise/internal/store/storetest"
)

// modelRule is a sale rule as the model knows it: rates in basis points.
type modelRule struct {
	feeBP, fixed, reserveBP int64
	periodDays              int
	bump                    string // ASAP, ASAP_plus_RR, BDAY+n, DAY+n
	bumpDays                int
}

func (r modelRule) rule() merchants.BalanceRule {
	rate := func(bp int64) money.Rate {
		x, _ := money.ParseRate(fmt.Sprintf("%d.%02d", bp/100, bp%100))
		return x
	}
	bump := r.bump
	if bump == "BDAY" || bump == "DAY" {
		bump = fmt.Sprintf("%s+%d", r.bump, r.bumpDays)
	}
	return merchants.BalanceRule{Type: "sale", Action: "add", FeeRate: rate(r.feeBP), FeeFixedMinor: r.fixed,
		ReserveRate: rate(r.reserveBP), ReservePeriodDays: r.periodDays, DateBump: bump}
}

// modelTxn is one transaction as the model saw it happen, with the sale
// rule in force then (nil: the seed's table: add or deduct, no fee, live
// at once).
type modelTxn struct {
	at     time.Time
	signed int64 // + adds, − deducts
	rule   *modelRule
	// reserveMoved is set when the reserve was moved by hand after it.
	reserveMoved bool
}

// shareOf is amount × bp / 10 000, halves away from zero, for amounts ≥ 0.
func shareOf(amount, bp int64) int64 { return (amount*bp + 5_000) / 10_000 }

// modelBalance recomputes a balance from its transactions at instant now,
// written from the seed's description, not from the code under test.
func modelBalance(txns []modelTxn, bufferMinor int64, now time.Time) (current, sth, rr, live int64) {
	ny := clock.FedCalendar().Location()
	cal := clock.FedCalendar()
	for _, t := range txns {
		if t.rule == nil || t.signed <= 0 {
			current += t.signed
			continue
		}
		r := t.rule
		fee := shareOf(t.signed, r.feeBP) + r.fixed
		current += t.signed - fee
		var reserve int64
		if r.bump != "ASAP" && r.reserveBP > 0 {
			reserve = shareOf(t.signed, r.reserveBP)
			y, m, d := t.at.In(ny).Date()
			until := time.Date(y, m, d, 0, 0, 0, 0, ny).AddDate(0, 0, 1+r.periodDays)
			if now.Before(until) && !t.reserveMoved {
				rr += reserve
			}
		}
		if r.bump == "BDAY" || r.bump == "DAY" {
			local := t.at.In(ny)
			day := time.Date(local.Year(), local.Month(), local.Day(), 12, 0, 0, 0, ny)
			for n := r.bumpDays; n > 0; {
				day = day.AddDate(0, 0, 1)
				if r.bump == "DAY" || cal.IsBusinessDay(day) {
					n--
				}
			}
			// The first minute after the transaction's hour, on the due day.
			hour := local.Hour()
			if local.Minute() != 0 || local.Second() != 0 || local.Nanosecond() != 0 {
				hour++
			}
			until := time.Date(day.Year(), day.Month(), day.Day(), hour, 1, 0, 0, ny)
			if now.Before(until) {
				sth += t.signed - fee - reserve
			}
		}
	}
	return current, sth, rr, current - sth - rr
}

// Random debits, refunds, holds (captured in part or voided), payouts,
// reversals, adjustments, reserve moves, rule changes and release runs,
// with the clock moving between them: every bucket of every balance equals
// an independent model that recomputes it from the transactions and the
// rule in force at each one's time; every balance reconciles with the
// ledger; the ledger verifies.
func TestBalancesReconcileUnderRandomOperations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		w := newWorld(t, kind, time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC))
		s, clk, mp, db := w.s, w.clk, w.mp, w.db
		sched := scheduler.New(db, clk)
		sched.Handle(merchants.JobBalanceRelease, s.RunBalanceRelease)
		card, _ := s.CreateCard(ctx, mp.ID, payments.CardInput{Number: "4111111111111111", ExpirationMonth: 1, ExpirationYear: 2030})
		type shop struct {
			m       payments.Resource
			order   string
			bank    string
			debits  []string
			credits []string
			holds   []string
			rule    *modelRule
			txns    []modelTxn
			buffer  int64
		}
		rng := rand.New(rand.NewPCG(7, 11))
		bumps := []string{"ASAP", "ASAP_plus_RR", "BDAY", "DAY"}
		newRule := func(i int) *modelRule {
			return &modelRule{feeBP: 290 + int64(rng.IntN(300)), fixed: int64(10 * rng.IntN(4)), reserveBP: 750 + int64(rng.IntN(1000)),
				periodDays: 3 + rng.IntN(5), bump: bumps[i%len(bumps)], bumpDays: rng.IntN(4)}
		}
		var shops []*shop
		for i := range bumps {
			cu, _ := s.CreateCustomer(ctx, mp.ID, payments.CustomerInput{})
			m, err := s.CreateMerchant(ctx, mp.ID, merchants.PartyInput{Login: fmt.Sprintf("%s-shop-%d", kind, i), ControlKey: "a control key 12345", Customer: cu.ID, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			account := []string{"9900000002", "9900000000"}[i%2]
			b, _ := s.CreateBankAccount(ctx, mp.ID, payments.BankAccountInput{Name: "S", AccountNumber: account, RoutingNumber: "021000021", Customer: cu.ID})
			o, _ := s.CreateOrder(ctx, mp.ID, cu.ID, payments.OrderInput{})
			sh := &shop{m: m, order: o.ID, bank: b.ID, rule: newRule(i)}
			if _, err := s.SetBalanceRule(ctx, mp.ID, m.ID, sh.rule.rule()); err != nil {
				t.Fatal(err)
			}
			shops = append(shops, sh)
		}
		happened := func(sh *shop, signed int64, sale bool) {
			var r *modelRule
			if sale {
				r = sh.rule
			}
			sh.txns = append(sh.txns, modelTxn{at: clk.Now(), signed: signed, rule: r})
		}
		for step := 0; step < 400; step++ {
			i := rng.IntN(len(shops))
			sh := shops[i]
			n := 1 + rng.Int64N(20_000)
			var err error
			switch op := rng.IntN(12); op {
			case 7:
				in := amount(n)
				in.Instrument, in.Order = card.ID, sh.order
				var h payments.Resource
				if h, err = s.CreateHold(ctx, mp.ID, in); err == nil {
					sh.holds = append(sh.holds, h.ID)
				}
			case 8:
				if len(sh.holds) > 0 {
					j := rng.IntN(len(sh.holds))
					hold := sh.holds[j]
					sh.holds = append(sh.holds[:j], sh.holds[j+1:]...)
					if rng.IntN(2) == 0 {
						var d payments.Resource
						part := 1 + rng.Int64N(n)
						if d, err = s.CaptureHold(ctx, mp.ID, hold, amount(part)); err == nil {
							sh.debits = append(sh.debits, d.ID)
							// A capture is not a sale: the seed's table applies.
							happened(sh, payments.Int(d.Fields["amount"]), false)
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
					happened(sh, n, true)
				}
			case 2:
				if len(sh.debits) > 0 {
					back := 1 + rng.Int64N(3_000)
					if _, err = s.Refund(ctx, mp.ID, sh.debits[rng.IntN(len(sh.debits))], amount(back)); err == nil {
						happened(sh, -back, false)
					}
				}
			case 3:
				in := amount(n / 2)
				in.Instrument, in.Order = sh.bank, sh.order
				var c payments.Resource
				if c, err = s.Credit(ctx, mp.ID, in); err == nil {
					happened(sh, -(n / 2), false)
					if c.Status == "succeeded" {
						sh.credits = append(sh.credits, c.ID)
					} else {
						sh.buffer += n / 2
					}
				}
			case 4:
				if len(sh.credits) > 0 {
					back := 1 + rng.Int64N(1_000)
					if _, err = s.Reverse(ctx, mp.ID, sh.credits[rng.IntN(len(sh.credits))], amount(back)); err == nil {
						happened(sh, back, false)
					}
				}
			case 5:
				if _, err = s.Adjust(ctx, mp.ID, sh.m.ID, merchants.AdjustmentInput{AmountMinor: n - 10_000, ExternalSource: "random"}); err == nil {
					happened(sh, n-10_000, false)
				}
			case 6:
				clk.Advance(time.Duration(rng.IntN(72*60)) * time.Minute)
			case 9:
				// The rate plan changes; only later sales follow it.
				sh.rule = newRule(i)
				_, err = s.SetBalanceRule(ctx, mp.ID, sh.m.ID, sh.rule.rule())
			case 10:
				if rng.IntN(4) == 0 {
					if _, err = s.MoveReserve(ctx, mp.ID, sh.m.ID); err == nil {
						for k := range sh.txns {
							sh.txns[k].reserveMoved = true
						}
					}
				}
			case 11:
				_, err = sched.RunDue(ctx)
			}
			if err != nil {
				switch apperr.ReasonOf(err) {
				case "insufficient-funds", "invalid-amount", "debit-already-refunded", "credit-already-reversed", "invalid-reversal-amount", "authorization-expired":
				default:
					if !(apperr.Is(err, apperr.Invalid) && n == 10_000) { // an adjustment of zero
						t.Fatalf("step %d: %v", step, err)
					}
				}
			}
			if step%25 == 24 {
				for _, sh := range shops {
					b, err := s.MerchantBalances(ctx, sh.m)
					if err != nil {
						t.Fatal(err)
					}
					got := b[0]
					current, sth, rr, live := modelBalance(sh.txns, sh.buffer, clk.Now())
					if got.CurrentMinor != current || got.STHMinor != sth || got.RRMinor != rr || got.LiveMinor != live || got.BufferMinor != sh.buffer {
						t.Fatalf("step %d %s at %s: got current %d sth %d rr %d live %d buffer %d; the model says %d %d %d %d %d",
							step, sh.m.Fields["login"], clk.Now(), got.CurrentMinor, got.STHMinor, got.RRMinor, got.LiveMinor, got.BufferMinor,
							current, sth, rr, live, sh.buffer)
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
