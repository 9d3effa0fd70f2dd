package ledger

import (
	"fmt"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
)

// Kind says what a transfer record is.
type Kind string

const (
	// KindPosted moves money at once.
	KindPosted Kind = "posted"
	// KindPending reserves money (a hold): pending-in and pending-out move,
	// posted balances do not.
	KindPending Kind = "pending"
	// KindPost records the posting of a pending transfer, in full or in part.
	KindPost Kind = "post"
	// KindVoid records that a pending transfer was released without posting.
	KindVoid Kind = "void"
	// KindExpire records that a pending transfer ran past its expiry.
	KindExpire Kind = "expire"
)

// MovesPosted reports whether postings of this kind change posted balances.
func (k Kind) MovesPosted() bool { return k == KindPosted || k == KindPost }

// Status is the state of a transfer. Only pending transfers ever change
// status, and only once: pending → posted | voided | expired.
type Status string

const (
	StatusPosted  Status = "posted"
	StatusPending Status = "pending"
	StatusVoided  Status = "voided"
	StatusExpired Status = "expired"
)

// Limits. Each bounds work the committer does inside one database
// transaction, or keeps sums far from int64 overflow.
const (
	// MaxPostings bounds one transfer; real operations need 2 to 4 legs
	// (a debit with a fee and a reserve), so 16 leaves room without letting
	// one transfer lock half the ledger.
	MaxPostings = 16
	// MaxAmountMinor is 10^15 minor units (10 trillion dollars). Keeping
	// every posting below it means 9,000 of them can be summed without any
	// chance of overflowing int64, so balances never wrap.
	MaxAmountMinor int64 = 1_000_000_000_000_000
	// maxCodeLen and maxRefLen bound the free-text labels of a transfer.
	maxCodeLen = 64
	maxRefLen  = 256
)

// Posting is one leg of a transfer: an amount into (positive) or out of
// (negative) one account.
type Posting struct {
	AccountID string
	// Currency must equal the account's; empty means "the account's".
	Currency    string
	AmountMinor int64
}

// Transfer is an immutable record in the journal. The one field that ever
// changes is the Status of a pending transfer, once, from pending to a
// terminal state; everything else is written once.
type Transfer struct {
	ID        string
	Kind      Kind
	Status    Status
	PendingID string // for post, void and expire: the pending transfer they resolve
	Postings  []Posting
	// Code names the business operation ("debit", "refund", ...); Ref points
	// at the resource that caused it. Both are for people and reports.
	Code      string
	Ref       string
	CreatedAt time.Time
	// ExpiresAt, for a pending transfer, is when it lapses; zero means never.
	ExpiresAt time.Time
	// ResolvedAt and ResolvedBy, for a pending transfer no longer pending,
	// say when and by which transfer record it was resolved.
	ResolvedAt time.Time
	ResolvedBy string
}

// TransferRequest asks the ledger to move or reserve money.
type TransferRequest struct {
	// ID is optional; the ledger generates one when empty. A caller that
	// supplies IDs gets a conflict when it reuses one.
	ID       string
	Postings []Posting
	// Pending makes this a two-phase transfer (a hold).
	Pending   bool
	ExpiresAt time.Time
	Code      string
	Ref       string
}

// amountOf returns the amount a two-legged transfer moves.
func (t *Transfer) amountOf() int64 {
	for _, p := range t.Postings {
		if p.AmountMinor > 0 {
			return p.AmountMinor
		}
	}
	return 0
}

// validateShape checks everything about a request that needs no account.
func (r *TransferRequest) validateShape() error {
	if n := len(r.Postings); n < 2 || n > MaxPostings {
		return apperr.New(apperr.Invalid, "a transfer needs between 2 and %d postings, got %d", MaxPostings, n)
	}
	if len(r.Code) > maxCodeLen || len(r.Ref) > maxRefLen {
		return apperr.New(apperr.Invalid, "transfer code or ref is too long")
	}
	if !r.Pending && !r.ExpiresAt.IsZero() {
		return apperr.New(apperr.Invalid, "only a pending transfer can expire")
	}
	seen := make(map[string]bool, len(r.Postings))
	for _, p := range r.Postings {
		if p.AccountID == "" {
			return apperr.New(apperr.Invalid, "a posting names no account")
		}
		if seen[p.AccountID] {
			return apperr.New(apperr.Invalid, "account %s appears twice in one transfer", p.AccountID)
		}
		seen[p.AccountID] = true
		if p.AmountMinor == 0 {
			return apperr.New(apperr.Invalid, "a posting of zero moves nothing")
		}
		if p.AmountMinor > MaxAmountMinor || p.AmountMinor < -MaxAmountMinor {
			return apperr.New(apperr.Invalid, "amount %d is beyond the limit of %d minor units", p.AmountMinor, MaxAmountMinor)
		}
	}
	return nil
}

// checkBalanced asserts that the postings of t sum to zero per currency. It
// is called on every transfer before it is written; a failure here is a bug,
// since requests were validated against their accounts already.
func checkBalanced(t *Transfer) {
	sums := make(map[string]int64, 1)
	for _, p := range t.Postings {
		sums[p.Currency] += p.AmountMinor
	}
	for cur, s := range sums {
		if s != 0 {
			panic(fmt.Sprintf("ledger: transfer %s postings sum to %d %s, not zero", t.ID, s, cur))
		}
	}
}
