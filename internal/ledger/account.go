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
	// TallyMinor is a running figure the account's owner keeps beside the
	// balance, moved by the same operations that move the account's money
	// (Writer.Tally) and stored with it in one row. It is not money the
	// account holds and no rule reads it: an order counts in it what it
	// has taken in, net of refunds and returns, so that a debit into the
	// order writes the row its balance already rewrites and no other.
	TallyMinor int64
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

// maxAccountIDLen bounds account IDs: generated ones are 24 characters,
// and callers naming their own get room for a prefix and a UUID.
const maxAccountIDLen = 64

// ValidAccountID reports whether id may name an account: letters, digits,
// '-' and '_' only, so IDs never need quoting in logs, URLs or the
// journal's text encoding of a transfer's legs.
func ValidAccountID(id string) bool {
	if id == "" || len(id) > maxAccountIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validCurrency checks the form of an ISO 4217 code; which codes exist is
// the money package's business, at the edges where currencies come in.
func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}
