package payments

import (
	"context"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/ledger"
)

// maxSweptPerSettlement bounds how many credits and reversals one
// settlement links to itself; a larger backlog is linked by the next.
const maxSweptPerSettlement = 1000

// Settle pays a payable account's whole balance out to a bank account or,
// when the balance is negative, pulls it in from the bank account. The
// account is at zero immediately afterwards.
func (s *Service) Settle(ctx context.Context, marketplace, accountID, bankID string, in TxInput) (Resource, error) {
	if bankID == "" {
		return Resource{}, apperr.WithReason(apperr.Invalid, "request", "funding_instrument is required")
	}
	// What to sweep is read before the operation; a credit committed in
	// between is swept by the next settlement, never lost.
	credits, _, err := s.store.ListResources(ctx, ListQuery{Marketplace: marketplace, Type: "credits", LinkRel: "destination", LinkTarget: accountID, Limit: maxSweptPerSettlement})
	if err != nil {
		return Resource{}, err
	}
	return s.transaction(ctx, marketplace, func(ctx context.Context, w *Writer) (Resource, error) {
		acct, err := w.Lock(ctx, marketplace, "accounts", accountID)
		if err != nil {
			return Resource{}, err
		}
		// Claimed in this operation, so a refused settlement claims nothing.
		bank, err := w.Lock(ctx, marketplace, "bank_accounts", bankID)
		if apperr.Is(err, apperr.NotFound) {
			bank, err = s.claimIn(ctx, w, marketplace, bankID, "bank_accounts")
		}
		if err != nil {
			return Resource{}, err
		}
		bal, err := w.Account(acct.ID)
		if err != nil {
			return Resource{}, err
		}
		balance := bal.PostedMinor
		if balance == 0 {
			return Resource{}, apperr.WithReason(apperr.Conflict, "account-nothing-to-settle", "the account's balance is zero")
		}
		amount, source, destination, prefix := balance, acct.ID, bank.ID, "SC"
		if balance < 0 {
			amount, source, destination, prefix = -balance, bank.ID, acct.ID, "SD"
		}
		live, err := w.requireACHSettings(ctx, marketplace)
		if err != nil {
			return Resource{}, err
		}
		outcome := bankOutcome(live, bank)
		desc, err := w.descriptor(ctx, marketplace, in.Descriptor, true)
		if err != nil {
			return Resource{}, err
		}
		st := newTransaction(marketplace, "settlements", amount, in, desc)
		st.Fields["transaction_number"] = transactionNumber(prefix)
		st.Links = map[string]string{"source": source, "destination": destination}
		if outcome == OutcomeFailed {
			fail(&st, "bank-account-not-valid", "the bank returned the settlement")
			if st, err = w.Create(ctx, st, "ST"); err != nil {
				return st, err
			}
			_, err = w.Emit(ctx, "settlement.failed", st)
			return st, err
		}
		tr, err := w.Transfer(ledger.TransferRequest{Code: "settlement", Ref: st.Fields["transaction_number"].(string), Postings: []ledger.Posting{
			{AccountID: acct.ID, AmountMinor: -balance}, {AccountID: BankNetworkAccount(marketplace), AmountMinor: balance}}})
		if err != nil {
			return Resource{}, err
		}
		// The account is settled at once (it is at zero); the bank entry
		// is pending until its business day, like a credit's.
		if achPending(outcome) {
			pend(&st)
			markSandboxReturn(&st, outcome)
		} else {
			succeed(&st)
		}
		st.Private["transfer"] = tr.ID
		if st, err = w.Create(ctx, st, "ST"); err != nil {
			return st, err
		}
		if st.Status == "pending" {
			if err := w.scheduleSettlement(ctx, st); err != nil {
				return st, err
			}
		}
		for _, c := range credits {
			if err := w.sweep(ctx, marketplace, c.ID, "credits", st.ID); err != nil {
				return st, err
			}
			reversals, _, err := s.store.ListResources(ctx, ListQuery{Marketplace: marketplace, Type: "reversals", LinkRel: "credit", LinkTarget: c.ID, Limit: maxSweptPerSettlement})
			if err != nil {
				return st, err
			}
			for _, rv := range reversals {
				if err := w.sweep(ctx, marketplace, rv.ID, "reversals", st.ID); err != nil {
					return st, err
				}
			}
		}
		_, err = w.Emit(ctx, "settlement.created", st)
		return st, err
	})
}

// sweep links a credit or reversal not yet settled to a settlement.
func (w *Writer) sweep(ctx context.Context, marketplace, id, typ, settlementID string) error {
	r, err := w.Lock(ctx, marketplace, typ, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.Link("settlement") != "" || r.Status == "failed" {
		return nil
	}
	r.Links["settlement"] = settlementID
	_, err = w.Save(ctx, r)
	return err
}
