package ledger

import "time"

// Account holds money of one currency. Its balance is materialized in three
// buckets, updated in the same database transaction as the postings that
// change them, so reading a balance costs one row at any history size.
//
// Sign convention: a posting's amount is positive when money comes into the
// account and negative when it leaves. The sum of every account of a
// currency is therefore always zero.
type Account struct {
	ID string
	// Owner scopes the account to a tenant (a marketplace, an operator);
	// every read outside the ledger filters on it.
	Owner string
	// Kind says what the account stands for ("escrow", "order", "card", ...).
	Kind     string
	Currency string
	// MayGoNegative is true for accounts that stand for the outside world
	// (a card network, a bank): money comes from them without a balance.
	// Every other account refuses a posting that would leave it short.
	MayGoNegative bool
	CreatedAt     time.Time
	Balance
}

// Balance is the materialized state of an account, in minor units.
type Balance struct {
	// PostedMinor is the sum of every posted amount.
	PostedMinor int64
	// PendingInMinor is money promised to the account by pending transfers.
	PendingInMinor int64
	// PendingOutMinor is money promised away by pending transfers. It counts
	// against available funds from the moment the pending transfer exists.
	PendingOutMinor int64
}

// AvailableMinor is what the account can still send: posted funds less what
// pending transfers have already promised away.
func (b Balance) AvailableMinor() int64 { return b.PostedMinor - b.PendingOutMinor }

// guarded reports whether the account obeys its balance rule.
func (a *Account) guarded() bool {
	if a.PendingInMinor < 0 || a.PendingOutMinor < 0 {
		return false
	}
	return a.MayGoNegative || a.AvailableMinor() >= 0
}
