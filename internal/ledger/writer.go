package ledger

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/id"
)

// batch is the state of one committer batch: one database transaction, the
// accounts it has locked with their balances as the batch has left them,
// and the rows it will write when it commits.
//
// Transfers are applied to the in-memory balances of locked accounts, and
// written in bulk at the end: a batch of a thousand transfers costs a
// handful of statements, and a hot account is read and written once per
// batch, not once per transfer. The locks make the in-memory balances the
// truth for the life of the transaction, even with other processes sharing
// the database.
type batch struct {
	ctx      context.Context
	tx       Tx
	now      time.Time
	accounts map[string]*Account
	// dirty holds the stored accounts whose balance this batch changed.
	dirty       map[string]bool
	newAccounts []*Account
	transfers   []Transfer
	// buffered maps the ID of a pending transfer created in this batch to its
	// index in transfers, so it can be posted or voided before it is stored.
	buffered map[string]int
	// savepoints numbers the savepoints taken, to name them uniquely.
	savepoints int
}

func newBatch(ctx context.Context, tx Tx, now time.Time) *batch {
	return &batch{
		ctx:      ctx,
		tx:       tx,
		now:      now,
		accounts: make(map[string]*Account),
		dirty:    make(map[string]bool),
		buffered: make(map[string]int),
	}
}

// lock loads and locks every named account not yet held by the batch.
func (b *batch) lock(ids []string) error {
	var missing []string
	for _, aid := range ids {
		if _, ok := b.accounts[aid]; !ok {
			missing = append(missing, aid)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	missing = dedupSorted(missing)
	accounts, err := b.tx.LockAccounts(b.ctx, missing)
	b.hold(accounts)
	return err
}

// prefetch locks the accounts ids (sorted, each once) name, with what the
// store reads for the batch's operations (Tx.Prefetch).
func (b *batch) prefetch(ids []string) error {
	accounts, err := b.tx.Prefetch(b.ctx, ids)
	b.hold(accounts)
	return err
}

// hold keeps accounts the batch has locked.
func (b *batch) hold(accounts []Account) {
	for i := range accounts {
		a := accounts[i]
		b.accounts[a.ID] = &a
	}
}

// flush writes what the batch buffered: new accounts, the journal, and the
// balances of every stored account it changed.
func (b *batch) flush() error {
	if len(b.newAccounts) > 0 {
		rows := make([]Account, len(b.newAccounts))
		for i, a := range b.newAccounts {
			rows[i] = *a
		}
		if err := b.tx.InsertAccounts(b.ctx, rows); err != nil {
			return err
		}
	}
	if len(b.transfers) > 0 {
		if err := b.tx.InsertTransfers(b.ctx, b.transfers); err != nil {
			return err
		}
	}
	if len(b.dirty) > 0 {
		ids := make([]string, 0, len(b.dirty))
		for aid := range b.dirty {
			ids = append(ids, aid)
		}
		sort.Strings(ids)
		rows := make([]Account, len(ids))
		for i, aid := range ids {
			a := b.accounts[aid]
			if !a.guarded() {
				panic(fmt.Sprintf("ledger: account %s would be stored breaking its rule: %+v", aid, a.Balance))
			}
			rows[i] = *a
		}
		if err := b.tx.SetBalances(b.ctx, rows); err != nil {
			return err
		}
	}
	return nil
}

// Writer is what one operation of a batch sees. Everything it does is undone
// if the operation returns an error: balances in memory are restored and,
// when the operation wrote to the database, its savepoint is rolled back.
// One refused operation never sinks the others of its batch.
type Writer struct {
	b *batch
	// before holds each account's state as it was before this operation
	// first touched it; wasDirty whether the batch had changed it already.
	before      map[string]Account
	wasDirty    map[string]bool
	transfersAt int
	accountsAt  int
	// restores undo changes to transfers buffered by earlier operations.
	restores  []func()
	savepoint string
}

func newWriter(b *batch) *Writer {
	return &Writer{
		b:           b,
		before:      make(map[string]Account),
		wasDirty:    make(map[string]bool),
		transfersAt: len(b.transfers),
		accountsAt:  len(b.newAccounts),
	}
}

// Now is the instant the batch runs at; every record it writes carries it.
func (w *Writer) Now() time.Time { return w.b.now }

// Tx gives the operation the database transaction for writes of its own
// (resources, events, idempotency records). The operation's savepoint is
// taken on first use, so operations that only move money pay nothing for it.
func (w *Writer) Tx() (Tx, error) {
	if err := w.ensureSavepoint(); err != nil {
		return nil, err
	}
	return w.b.tx, nil
}

func (w *Writer) ensureSavepoint() error {
	if w.savepoint != "" {
		return nil
	}
	w.b.savepoints++
	name := fmt.Sprintf("op%d", w.b.savepoints)
	if err := w.b.tx.Savepoint(w.b.ctx, name); err != nil {
		return err
	}
	w.savepoint = name
	return nil
}

// finish ends the operation: released when it succeeded, undone when not.
func (w *Writer) finish(ok bool) error {
	if ok {
		if w.savepoint != "" {
			return w.b.tx.Release(w.b.ctx, w.savepoint)
		}
		return nil
	}
	for i := len(w.restores) - 1; i >= 0; i-- {
		w.restores[i]()
	}
	for aid, prev := range w.before {
		*w.b.accounts[aid] = prev
		if !w.wasDirty[aid] {
			delete(w.b.dirty, aid)
		}
	}
	for _, a := range w.b.newAccounts[w.accountsAt:] {
		delete(w.b.accounts, a.ID)
	}
	w.b.newAccounts = w.b.newAccounts[:w.accountsAt]
	for _, t := range w.b.transfers[w.transfersAt:] {
		delete(w.b.buffered, t.ID)
	}
	w.b.transfers = w.b.transfers[:w.transfersAt]
	if w.savepoint != "" {
		return w.b.tx.RollbackTo(w.b.ctx, w.savepoint)
	}
	return nil
}

// touch returns a locked account, remembering its prior state for undo.
func (w *Writer) touch(aid string) (*Account, error) {
	a, ok := w.b.accounts[aid]
	if !ok {
		if err := w.b.lock([]string{aid}); err != nil {
			return nil, err
		}
		if a, ok = w.b.accounts[aid]; !ok {
			return nil, apperr.New(apperr.NotFound, "account %s does not exist", aid)
		}
	}
	if _, seen := w.before[aid]; !seen {
		w.before[aid] = *a
		w.wasDirty[aid] = w.b.dirty[aid]
	}
	return a, nil
}

// markDirty records that a stored account's balance changed in this batch.
func (w *Writer) markDirty(a *Account) {
	for _, n := range w.b.newAccounts {
		if n == a {
			return
		}
	}
	w.b.dirty[a.ID] = true
}

// Tally adds delta to a stored account's tally (Account.TallyMinor). Like a
// transfer, it is undone if the operation fails.
func (w *Writer) Tally(aid string, delta int64) error {
	a, err := w.touch(aid)
	if err != nil {
		return err
	}
	a.TallyMinor += delta
	w.markDirty(a)
	return nil
}

// Account returns an account as this batch sees it, locked.
func (w *Writer) Account(aid string) (Account, error) {
	if a, ok := w.b.accounts[aid]; ok {
		return *a, nil
	}
	if err := w.b.lock([]string{aid}); err != nil {
		return Account{}, err
	}
	a, ok := w.b.accounts[aid]
	if !ok {
		return Account{}, apperr.New(apperr.NotFound, "account %s does not exist", aid)
	}
	return *a, nil
}

// CreateAccount opens an account with a zero balance.
func (w *Writer) CreateAccount(a Account) (Account, error) {
	if a.ID == "" {
		a.ID = id.New("LA")
	}
	if a.Owner == "" || a.Kind == "" {
		return Account{}, apperr.New(apperr.Invalid, "an account needs an owner and a kind")
	}
	if !ValidAccountID(a.ID) {
		return Account{}, apperr.New(apperr.Invalid, "account ID %q must be 1 to %d letters, digits, '-' or '_'", a.ID, maxAccountIDLen)
	}
	if !validCurrency(a.Currency) {
		return Account{}, apperr.New(apperr.Invalid, "currency %q is not a three-letter ISO 4217 code", a.Currency)
	}
	if _, err := w.Account(a.ID); err == nil {
		return Account{}, apperr.New(apperr.Conflict, "account %s exists already", a.ID)
	} else if !apperr.Is(err, apperr.NotFound) {
		return Account{}, err
	}
	a.Balance = Balance{}
	a.CreatedAt = w.b.now
	stored := a
	w.b.accounts[a.ID] = &stored
	w.b.newAccounts = append(w.b.newAccounts, &stored)
	return a, nil
}

// Transfer moves money at once, or reserves it when the request is pending.
// A transfer that would leave an account short of its rule is refused with
// apperr.InsufficientFunds and changes nothing.
func (w *Writer) Transfer(req TransferRequest) (Transfer, error) {
	if err := req.validateShape(); err != nil {
		return Transfer{}, err
	}
	if req.ID == "" {
		req.ID = id.New("TR")
	}
	if _, ok := w.b.buffered[req.ID]; ok {
		return Transfer{}, apperr.New(apperr.Conflict, "transfer %s exists already", req.ID)
	}
	t := Transfer{
		ID:        req.ID,
		Kind:      KindPosted,
		Status:    StatusPosted,
		Postings:  make([]Posting, len(req.Postings)),
		Code:      req.Code,
		Ref:       req.Ref,
		CreatedAt: w.b.now,
	}
	if req.Pending {
		t.Kind, t.Status, t.ExpiresAt = KindPending, StatusPending, req.ExpiresAt
		if !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(w.b.now) {
			return Transfer{}, apperr.New(apperr.Invalid, "a pending transfer must expire in the future")
		}
	}
	accounts := make([]*Account, len(req.Postings))
	sums := make(map[string]int64, 1)
	for i, p := range req.Postings {
		a, err := w.touch(p.AccountID)
		if err != nil {
			return Transfer{}, err
		}
		if p.Currency != "" && p.Currency != a.Currency {
			return Transfer{}, apperr.New(apperr.Invalid, "account %s holds %s, not %s", a.ID, a.Currency, p.Currency)
		}
		p.Currency = a.Currency
		t.Postings[i] = p
		accounts[i] = a
		sums[a.Currency] += p.AmountMinor
	}
	for cur, s := range sums {
		if s != 0 {
			return Transfer{}, apperr.New(apperr.Invalid, "postings in %s sum to %d, not zero", cur, s)
		}
	}
	checkBalanced(&t)
	// A refused transfer changes nothing, even when the operation goes on
	// (to record a failed payment, say): keep the balances to restore.
	prior := make([]Balance, len(accounts))
	for i, a := range accounts {
		prior[i] = a.Balance
	}
	for i, p := range t.Postings {
		a := accounts[i]
		switch {
		case t.Kind == KindPending && p.AmountMinor > 0:
			a.PendingInMinor += p.AmountMinor
		case t.Kind == KindPending:
			a.PendingOutMinor -= p.AmountMinor
		default:
			a.PostedMinor += p.AmountMinor
		}
		w.markDirty(a)
	}
	for i, a := range accounts {
		if !a.guarded() {
			for j, b := range accounts {
				b.Balance = prior[j]
			}
			return Transfer{}, apperr.New(apperr.InsufficientFunds,
				"account %s has %d available, not enough for this transfer", a.ID, prior[i].AvailableMinor())
		}
	}
	w.b.transfers = append(w.b.transfers, t)
	if t.Kind == KindPending {
		w.b.buffered[t.ID] = len(w.b.transfers) - 1
	}
	return t, nil
}

// Post turns a pending transfer into a posted one. amountMinor zero posts it
// in full; a smaller amount posts part and releases the rest. Posting part
// is allowed only for a two-legged transfer, where "part" has one meaning.
func (w *Writer) Post(pendingID string, amountMinor int64) (Transfer, error) {
	p, err := w.resolve(pendingID, StatusPosted)
	if err != nil {
		return Transfer{}, err
	}
	full := p.amountOf()
	if amountMinor < 0 || amountMinor > full {
		return Transfer{}, apperr.New(apperr.Invalid, "cannot post %d of a pending transfer of %d", amountMinor, full)
	}
	if amountMinor != 0 && amountMinor != full && len(p.Postings) != 2 {
		return Transfer{}, apperr.New(apperr.Invalid, "only a two-legged pending transfer can be posted in part")
	}
	if amountMinor == 0 {
		amountMinor = full
	}
	record := Transfer{
		ID:        id.New("TR"),
		Kind:      KindPost,
		Status:    StatusPosted,
		PendingID: p.ID,
		Postings:  make([]Posting, len(p.Postings)),
		Code:      p.Code,
		Ref:       p.Ref,
		CreatedAt: w.b.now,
	}
	for i, leg := range p.Postings {
		amount := leg.AmountMinor
		if amountMinor != full {
			amount = amountMinor
			if leg.AmountMinor < 0 {
				amount = -amountMinor
			}
		}
		record.Postings[i] = Posting{AccountID: leg.AccountID, Currency: leg.Currency, AmountMinor: amount}
	}
	checkBalanced(&record)
	if err := w.release(p, record.Postings); err != nil {
		return Transfer{}, err
	}
	w.b.transfers = append(w.b.transfers, record)
	return record, w.settle(p, StatusPosted, record.ID)
}

// Void releases a pending transfer without moving any money.
func (w *Writer) Void(pendingID string) (Transfer, error) {
	return w.lapse(pendingID, KindVoid, StatusVoided)
}

// Expire releases a pending transfer whose expiry has come.
func (w *Writer) Expire(pendingID string) (Transfer, error) {
	return w.lapse(pendingID, KindExpire, StatusExpired)
}

func (w *Writer) lapse(pendingID string, kind Kind, status Status) (Transfer, error) {
	p, err := w.resolve(pendingID, status)
	if err != nil {
		return Transfer{}, err
	}
	if kind == KindExpire && (p.ExpiresAt.IsZero() || p.ExpiresAt.After(w.b.now)) {
		return Transfer{}, apperr.New(apperr.Conflict, "transfer %s has not expired", p.ID)
	}
	if err := w.release(p, nil); err != nil {
		return Transfer{}, err
	}
	record := Transfer{ID: id.New("TR"), Kind: kind, Status: StatusPosted, PendingID: p.ID, Code: p.Code, Ref: p.Ref, CreatedAt: w.b.now}
	w.b.transfers = append(w.b.transfers, record)
	return record, w.settle(p, status, record.ID)
}

// resolve finds a pending transfer, in this batch or in the store, and checks
// that it may still move to the terminal status asked for.
func (w *Writer) resolve(pendingID string, to Status) (Transfer, error) {
	var p Transfer
	if i, ok := w.b.buffered[pendingID]; ok {
		p = w.b.transfers[i]
	} else {
		if err := w.ensureSavepoint(); err != nil {
			return Transfer{}, err
		}
		stored, err := w.b.tx.LockTransfer(w.b.ctx, pendingID)
		if err == ErrNotFound {
			return Transfer{}, apperr.New(apperr.NotFound, "transfer %s does not exist", pendingID)
		}
		if err != nil {
			return Transfer{}, err
		}
		p = stored
	}
	if p.Kind != KindPending {
		return Transfer{}, apperr.New(apperr.Conflict, "transfer %s is not a pending transfer", p.ID)
	}
	if p.Status != StatusPending {
		return Transfer{}, apperr.New(apperr.Conflict, "transfer %s is %s already and cannot become %s", p.ID, p.Status, to)
	}
	if to == StatusPosted && !p.ExpiresAt.IsZero() && !p.ExpiresAt.After(w.b.now) {
		return Transfer{}, apperr.New(apperr.Conflict, "transfer %s expired at %s", p.ID, p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return p, nil
}

// release takes a pending transfer's amounts off the pending buckets and
// applies posted, the legs that post (nil when nothing posts).
func (w *Writer) release(p Transfer, posted []Posting) error {
	for i, leg := range p.Postings {
		a, err := w.touch(leg.AccountID)
		if err != nil {
			return err
		}
		if leg.AmountMinor > 0 {
			a.PendingInMinor -= leg.AmountMinor
		} else {
			a.PendingOutMinor += leg.AmountMinor
		}
		if posted != nil {
			a.PostedMinor += posted[i].AmountMinor
		}
		w.markDirty(a)
		// Releasing a hold only ever frees funds, so a broken rule here
		// means the stored balances were wrong before: a bug, not a refusal.
		if !a.guarded() {
			panic(fmt.Sprintf("ledger: releasing %s broke the rule of account %s: %+v", p.ID, a.ID, a.Balance))
		}
	}
	return nil
}

// settle records the terminal status of a pending transfer: in the buffer
// when the batch created it, in the database otherwise.
func (w *Writer) settle(p Transfer, status Status, by string) error {
	if i, ok := w.b.buffered[p.ID]; ok {
		prev := w.b.transfers[i]
		w.restores = append(w.restores, func() { w.b.transfers[i] = prev })
		w.b.transfers[i].Status, w.b.transfers[i].ResolvedAt, w.b.transfers[i].ResolvedBy = status, w.b.now, by
		return nil
	}
	err := w.b.tx.ResolvePending(w.b.ctx, p.ID, status, w.b.now, by)
	if err == ErrNotPending {
		return apperr.New(apperr.Conflict, "transfer %s is no longer pending", p.ID)
	}
	return err
}

func dedupSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
