package dashboard

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// ruleTransactionTypes are the transaction types of the seed's balance
// rules table, in its order, and the adjustment's.
var ruleTransactionTypes = []string{"sale", "capture", "dispute", "chargeback_reversal", "arbitration", "payout_cancel",
	"chargeback", "prearbitration", "reversal", "payout", "transfer", "preauth", "cancel", "fraud", "retrieval",
	"pan_eligibility", "create_card_mapping", "update_card_mapping", "inquire_card_mapping", "delete_card_mapping",
	"mfo_scoring", "account_verification", "void", "adjustment"}

// balanceKinds are the seed's kinds of balance: account, processor (for
// an acquirer), card mapping and gate group.
var balanceKinds = []string{"account", "processor", "card_mapping", "gate_group"}

// ruleGates are the rails a rule may be limited to.
var ruleGates = []string{"card", "ach", "adjustment"}

type configurationData struct {
	Head      partyHead
	Balances  []payments.Resource
	Endpoints []payments.Resource
	Rules     []payments.Resource
	// BalanceNames are the names a rule may override, or for a manager the
	// balances of its merchants it may take as default.
	BalanceNames   []string
	DefaultBalance string
	Types, Kinds   []string
	Gates          []string
	Today          string
}

// configuration shows a party's balances (kind, currency, endpoints,
// created date), endpoints, rules and overrides, and for a manager its
// default balance; an operator gets the forms that add to them.
func (d *Dashboard) configuration(p *page) error {
	party, err := d.partyOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	data := configurationData{Head: headOf(p, party, "configuration"), Types: ruleTransactionTypes, Kinds: balanceKinds, Gates: ruleGates,
		DefaultBalance: payments.Str(party.Fields["default_balance"])}
	linked := func(typ, target string) ([]payments.Resource, error) {
		items, _, err := d.svc.List(p.ctx, payments.ListQuery{Marketplace: p.mp(), Type: typ, LinkRel: "merchant", LinkTarget: target,
			Limit: maxPartyList, WithoutTotal: true})
		return items, err
	}
	if data.Balances, err = linked("balances", party.ID); err != nil {
		return err
	}
	if data.Rules, err = linked("balance_rules", party.ID); err != nil {
		return err
	}
	// A manager's balances count endpoints of the merchants it oversees.
	owners := []string{party.ID}
	if party.Type == roleManagers {
		owners = overseen(party)
	}
	for _, id := range owners {
		eps, err := linked("endpoints", id)
		if err != nil {
			return err
		}
		data.Endpoints = append(data.Endpoints, eps...)
	}
	if party.Type == roleManagers {
		seen := map[string]bool{}
		for _, id := range owners {
			m, err := d.svc.GetTyped(p.ctx, p.mp(), roleMerchants, id)
			if err != nil {
				return err
			}
			names, err := d.mer.BalanceNames(p.ctx, m)
			if err != nil {
				return err
			}
			for _, n := range names {
				if !seen[n] {
					seen[n] = true
					data.BalanceNames = append(data.BalanceNames, n)
				}
			}
		}
	} else if data.BalanceNames, err = d.mer.BalanceNames(p.ctx, party); err != nil {
		return err
	}
	now, err := d.svc.NowFor(p.ctx, p.mp())
	if err != nil {
		return err
	}
	data.Today = now.In(zone).Format(dateLayout)
	return d.showParty(p, http.StatusOK, "configuration", "Configuration of "+data.Head.Login, data)
}

func configurationPath(id string) string { return partyPath(id) + "/configuration" }

// form reads a trimmed field of the posted form.
func form(p *page, name string) string { return strings.TrimSpace(p.r.PostFormValue(name)) }

func (d *Dashboard) createEndpoint(p *page) error {
	m, err := d.merchantOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	currency := strings.ToUpper(form(p, "currency"))
	if currency == "" {
		currency = payments.Currency
	}
	if _, err := d.mer.CreateEndpoint(p.ctx, p.mp(), m.ID, form(p, "name"), currency); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, configurationPath(m.ID), http.StatusSeeOther)
	return nil
}

func (d *Dashboard) createBalance(p *page) error {
	party, err := d.partyOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	in := merchants.BalanceInput{Name: form(p, "name"), Currency: strings.ToUpper(form(p, "currency")), Kind: form(p, "kind"),
		Endpoints: p.r.PostForm["endpoints"]}
	if _, err := d.mer.CreateBalance(p.ctx, p.mp(), party.ID, in); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, configurationPath(party.ID), http.StatusSeeOther)
	return nil
}

// createRule sets a rule, or with a balance named an override of that
// balance, with every field of the seed's configuration: transaction type,
// action, the rate plan's fee (a rate and a fixed amount), the rolling
// reserve's rate and period, date bumping, and the gate and endpoint it is
// limited to.
func (d *Dashboard) createRule(p *page) error {
	party, err := d.partyOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	rule := merchants.BalanceRule{Type: form(p, "transaction_type"), Action: form(p, "action"), DateBump: form(p, "date_bump"),
		Balance: form(p, "balance"), Gate: form(p, "gate"), Endpoint: form(p, "endpoint")}
	if rule.DateBump == "" {
		rule.DateBump = "ASAP"
	}
	for name, rate := range map[string]*money.Rate{"fee_rate": &rule.FeeRate, "reserve_rate": &rule.ReserveRate} {
		if s := form(p, name); s != "" {
			if *rate, err = money.ParseRate(s); err != nil {
				return apperr.New(apperr.Invalid, "%s must be a percentage such as 2.9", strings.ReplaceAll(name, "_", " "))
			}
		}
	}
	if s := form(p, "fee_fixed"); s != "" {
		if rule.FeeFixedMinor, err = parseAmountMinor(s); err != nil {
			return err
		}
	}
	if s := form(p, "reserve_period_days"); s != "" {
		if rule.ReservePeriodDays, err = strconv.Atoi(s); err != nil {
			return apperr.New(apperr.Invalid, "the reserve period must be a whole number of days")
		}
	}
	if _, err := d.mer.SetBalanceRule(p.ctx, p.mp(), party.ID, rule); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, configurationPath(party.ID), http.StatusSeeOther)
	return nil
}

// setDefaultBalance is the seed's "Def." of a manager.
func (d *Dashboard) setDefaultBalance(p *page) error {
	party, err := d.partyOf(p, p.r.PathValue("id"))
	if err != nil {
		return err
	}
	if party.Type != roleManagers {
		return apperr.New(apperr.NotFound, "only a manager has a default balance")
	}
	if _, err := d.mer.SetManagerDefaultBalance(p.ctx, p.mp(), party.ID, form(p, "balance")); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, configurationPath(party.ID), http.StatusSeeOther)
	return nil
}

// setCreatedDate is the seed's "Change created date" of a balance.
func (d *Dashboard) setCreatedDate(p *page) error {
	b, err := d.svc.GetTyped(p.ctx, p.mp(), "balances", p.r.PathValue("id"))
	if err != nil {
		return err
	}
	at, err := parseDay(form(p, "created_date"))
	if err != nil {
		return err
	}
	if _, err := d.mer.SetBalanceCreatedDate(p.ctx, p.mp(), b.ID, at); err != nil {
		return err
	}
	http.Redirect(p.w, p.r, configurationPath(b.Link("merchant")), http.StatusSeeOther)
	return nil
}

// parseDay reads a date input's day as its start in the marketplace's
// days.
func parseDay(s string) (time.Time, error) {
	t, err := time.ParseInLocation(dateLayout, s, zone)
	if err != nil {
		return time.Time{}, apperr.New(apperr.Invalid, "dates must be written as 2026-11-30")
	}
	return t, nil
}
