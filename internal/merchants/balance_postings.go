package merchants

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/poise-payments/poise/internal/payments"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/clock"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/scheduler"
)

// Merchant balances are ledger accounts. Each balance has a ledger key,
// and the key names its accounts, one per bucket:
//
//	key_sth, key_rr, key_live  the buckets whose sum is the current balance
//	key_fee                    what the rate plans took
//	key_txn, key_adj           where transactions and adjustments came from
//	key_buf, key_bufsrc        payouts in flight (a memo: not current money)
//
// A transaction that reaches a balance is posted at once, under the rule
// in force at that instant: its signed amount out of key_txn (key_adj),
// the fee into key_fee, the reserve into key_rr, the short-term hold into
// key_sth and the rest into key_live. So at every moment
//
//	sth + rr + live = −(txn + adj) − fee.
//
// Releases move key_sth and key_rr into key_live at their due instants.
const (
	bucketSTH    = "sth"
	bucketRR     = "rr"
	bucketLive   = "live"
	bucketFee    = "fee"
	bucketTxn    = "txn"
	bucketAdj    = "adj"
	bucketBuf    = "buf"
	bucketBufSrc = "bufsrc"
)

// bucketsMayGoNegative says which buckets may go below zero: the sources
// stand for the transactions that fed the balance; live goes negative when
// payouts and fees exceed what came in; a short-term hold goes negative
// when a fee is larger than its sale (the seed's arithmetic); a reserve
// goes negative when deduct rules hold more than add rules (a deduction
// that reaches live at its release). A fee total and a buffer never do,
// and the ledger refuses a posting that would make them. (A reserve
// account opened before deduct rules held reserves refuses to go below
// zero: its balance keeps the rule it was opened under.)
var bucketsMayGoNegative = map[string]bool{
	bucketSTH: true, bucketRR: true, bucketLive: true, bucketFee: false,
	bucketTxn: true, bucketAdj: true, bucketBuf: false, bucketBufSrc: true,
}

// BalanceAccount names the ledger account of one bucket of a balance.
func BalanceAccount(key, bucket string) string { return key + "_" + bucket }

// JobBalanceRelease posts what falls due on one balance at one instant.
const JobBalanceRelease = "balance.release"

// BalanceEffect is what one transaction did to one balance, as stored
// with it: the rule resolved then, and its effect.
type BalanceEffect struct {
	EntryID, BalanceKey, PartyID, BalanceName, SourceID string
	// RuleJSON is the resolved rule as stored (see ruleRecord).
	RuleJSON string
	balances.Effect
	BufferMinor int64
}

// ruleRecord is a resolved rule as a balance effect keeps it.
type ruleRecord struct {
	ID                string `json:"id,omitempty"`
	Type              string `json:"type"`
	Action            string `json:"action"`
	FeeRate           string `json:"fee_rate"`
	FeeFixedMinor     int64  `json:"fee_fixed"`
	ReserveRate       string `json:"reserve_rate"`
	ReservePeriodDays int    `json:"reserve_period_days"`
	DateBump          string `json:"date_bump"`
	ReserveOnDeduct   bool   `json:"reserve_on_deduct,omitempty"`
	Balance           string `json:"balance,omitempty"`
	Gate              string `json:"gate,omitempty"`
	Endpoint          string `json:"endpoint,omitempty"`
}

func encodeRule(r balances.Rule) string {
	b, _ := json.Marshal(ruleRecord{ID: r.ID, Type: r.Type, Action: r.Action, FeeRate: r.FeeRate.Decimal(), FeeFixedMinor: r.FeeFixedMinor,
		ReserveRate: r.ReserveRate.Decimal(), ReservePeriodDays: r.ReservePeriodDays, DateBump: r.DateBump, ReserveOnDeduct: r.ReserveOnDeduct,
		Balance: r.Balance, Gate: r.Gate, Endpoint: r.Endpoint})
	return string(b)
}

// DecodeRule reads a rule as a balance effect keeps it.
func DecodeRule(s string) (balances.Rule, error) {
	var rec ruleRecord
	if err := json.Unmarshal([]byte(s), &rec); err != nil {
		return balances.Rule{}, fmt.Errorf("merchants: stored rule %q: %w", s, err)
	}
	fee, err1 := money.ParseRate(rec.FeeRate)
	res, err2 := money.ParseRate(rec.ReserveRate)
	if err1 != nil || err2 != nil {
		return balances.Rule{}, fmt.Errorf("merchants: stored rule %q has malformed rates", s)
	}
	return balances.Rule{ID: rec.ID, Type: rec.Type, Action: rec.Action, FeeRate: fee, FeeFixedMinor: rec.FeeFixedMinor, ReserveRate: res,
		ReservePeriodDays: rec.ReservePeriodDays, DateBump: rec.DateBump, ReserveOnDeduct: rec.ReserveOnDeduct, Balance: rec.Balance, Gate: rec.Gate, Endpoint: rec.Endpoint}, nil
}

// maxPartiesPerCustomer bounds the merchants one customer is, and
// maxManagersPerMerchant the managers overseeing one: a transaction is
// posted to each of their balances in its own operation.
const (
	maxPartiesPerCustomer  = 10
	maxManagersPerMerchant = 10
)

// postEntry posts a feed entry into every balance it reaches: each balance
// of each merchant that is the entry's customer, and of each manager
// overseeing one, under that party's rule in force now.
func (w *op) postEntry(ctx context.Context, e payments.FeedEntry, source payments.Resource) error {
	groups, err := w.postGroups(ctx, e.Marketplace, e.Merchant)
	if err != nil {
		return err
	}
	return w.postInto(ctx, groups, e, attrsOf(e), source)
}

// postTarget is one party whose balances an entry may reach, with its
// balances and its rules in force.
type postTarget struct {
	party payments.Resource
	set   balanceSet
	rules *ruleBook
}

// postGroup is a merchant and the managers overseeing it: its balance set
// names the endpoint of an entry that names none, and each target posts it.
type postGroup struct {
	resolve balanceSet
	targets []postTarget
}

// partiesOf is the question postGroups asks first: the merchants a
// customer is.
func partiesOf(marketplace, customer string) payments.LinkedQuestion {
	return payments.LinkedQuestion{Marketplace: marketplace, Target: customer, Rel: "customer", Type: "merchants", Limit: maxPartiesPerCustomer}
}

// postGroups reads, inside an operation, the parties a customer's entries
// reach: each merchant the customer is, then each of its managers.
func (w *op) postGroups(ctx context.Context, marketplace, customer string) ([]postGroup, error) {
	q := partiesOf(marketplace, customer)
	merchants, err := w.tx.LinkedTo(ctx, q.Marketplace, q.Target, q.Rel, q.Type, q.Limit)
	if err != nil {
		return nil, err
	}
	var out []postGroup
	for _, m := range merchants {
		t, err := w.postTarget(ctx, m)
		if err != nil {
			return nil, err
		}
		g := postGroup{resolve: t.set, targets: []postTarget{t}}
		for _, mgID := range managersOf(m) {
			mg, err := w.tx.LockResource(ctx, m.Marketplace, mgID)
			if err != nil {
				return nil, err
			}
			t, err := w.postTarget(ctx, mg)
			if err != nil {
				return nil, err
			}
			g.targets = append(g.targets, t)
		}
		out = append(out, g)
	}
	return out, nil
}

func (w *op) postTarget(ctx context.Context, party payments.Resource) (postTarget, error) {
	set, err := w.partyBalances(ctx, party)
	if err != nil {
		return postTarget{}, err
	}
	rules, err := w.ruleBookOf(ctx, party)
	if err != nil {
		return postTarget{}, err
	}
	return postTarget{party: party, set: set, rules: rules}, nil
}

// postInto posts an entry into the balances of groups.
func (w *op) postInto(ctx context.Context, groups []postGroup, e payments.FeedEntry, attrs txnAttrs, source payments.Resource) error {
	for _, g := range groups {
		entry := g.resolve.resolve(e)
		for _, t := range g.targets {
			if err := w.postTo(ctx, t.party, t.set, entry, attrs, source, t.rules.at(entry.OccurredAt)); err != nil {
				return err
			}
		}
	}
	return nil
}

// postHistory posts entries that happened before a party's balances were
// ledger accounts, each under the party's rules that were in force at its
// time (see rule_book.go). Entries arrive resolved to their
// endpoints.
func (w *op) postHistory(ctx context.Context, party payments.Resource, entries []payments.FeedEntry) error {
	set, err := w.partyBalances(ctx, party)
	if err != nil {
		return err
	}
	book, err := w.ruleBookOf(ctx, party)
	if err != nil {
		return err
	}
	for _, e := range entries {
		var source payments.Resource
		if e.Type == payments.FeedPayout {
			if source, err = w.tx.LockResource(ctx, e.Marketplace, e.SourceID); err != nil {
				return err
			}
		}
		if err := w.postTo(ctx, party, set, set.resolve(e), attrsOf(e), source, book.at(e.OccurredAt)); err != nil {
			return err
		}
	}
	return nil
}

// PostPendingHistory posts the history of the merchants and managers that
// existed before balances were ledger accounts (a server upgraded from
// then): each party's feed, once, in one operation per party that also
// forgets the party's row. It is run at start-up; a party with more than
// maxHistoryPosted transactions is an error for an operator to look at.
func (s *Service) PostPendingHistory(ctx context.Context) (int, error) {
	done := 0
	for {
		pending, err := s.store.PendingHistory(ctx, maxPendingPerPass)
		if err != nil || len(pending) == 0 {
			return done, err
		}
		for _, p := range pending {
			if _, err := s.write(payments.WithoutIdempotency(ctx), p[0], nil, func(ctx context.Context, w *op) (any, error) {
				return nil, w.postPartyHistory(ctx, p[0], p[1])
			}); err != nil {
				return done, fmt.Errorf("merchants: posting the balance history of %s: %w", p[1], err)
			}
			done++
		}
	}
}

// maxPendingPerPass bounds the parties read per pass of PostPendingHistory.
const maxPendingPerPass = 100

func (w *op) postPartyHistory(ctx context.Context, marketplace, partyID string) error {
	taken, err := w.tx.TakePendingHistory(ctx, partyID)
	if err != nil || !taken {
		return err
	}
	party, err := w.Lock(ctx, marketplace, "", partyID)
	if err != nil {
		return err
	}
	merchants := []payments.Resource{party}
	if party.Type == "managers" {
		merchants = nil
		for _, v := range party.Fields["merchants"].([]any) {
			m, err := w.Lock(ctx, marketplace, "merchants", payments.Str(v))
			if err != nil {
				return err
			}
			// From now on the merchant's transactions reach the manager.
			if !containsStr(managersOf(m), party.ID) {
				m.Private["managers"] = append(managersOf(m), party.ID)
				if _, err := w.Save(ctx, m); err != nil {
					return err
				}
			}
			merchants = append(merchants, m)
		}
	}
	var entries []payments.FeedEntry
	for _, m := range merchants {
		feed, err := w.tx.CustomerFeed(ctx, marketplace, m.Link("customer"), maxHistoryPosted+1)
		if err != nil {
			return err
		}
		set, err := w.partyBalances(ctx, m)
		if err != nil {
			return err
		}
		for _, e := range feed {
			entries = append(entries, set.resolve(e))
		}
	}
	if len(entries) > maxHistoryPosted {
		return fmt.Errorf("merchants: %s has more than %d balance transactions to post in one operation", partyID, maxHistoryPosted)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].OccurredAt.Before(entries[j].OccurredAt) })
	return w.postHistory(ctx, party, entries)
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// managersOf lists the managers overseeing a merchant.
func managersOf(m payments.Resource) []string {
	list, _ := m.Private["managers"].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, payments.Str(v))
	}
	return out
}

// ruleBookOf reads a party's rules inside an operation.
func (w *op) ruleBookOf(ctx context.Context, party payments.Resource) (*ruleBook, error) {
	items, err := w.tx.LinkedTo(ctx, party.Marketplace, party.ID, "merchant", "balance_rules", maxRulesPerMerchant)
	if err != nil {
		return nil, err
	}
	return newRuleBook(items)
}

// postTo posts an entry into the balances of one party that count it,
// under rules.
func (w *op) postTo(ctx context.Context, party payments.Resource, set balanceSet, e payments.FeedEntry, attrs txnAttrs, source payments.Resource, rules balances.Rules) error {
	txn := balances.Txn{Type: e.Type, AmountMinor: e.AmountMinor, Gate: e.Gate, Endpoint: e.Endpoint, At: e.OccurredAt}
	for _, name := range set.names {
		if !set.selects(name, e, attrs) {
			continue
		}
		key := set.keys[name]
		eff, err := balances.EffectOf(rules.Resolve(name, txn), txn, clock.FedCalendar())
		if err != nil {
			return err
		}
		be := BalanceEffect{EntryID: e.ID, BalanceKey: key, PartyID: party.ID, BalanceName: name, SourceID: e.SourceID,
			RuleJSON: encodeRule(eff.Rule), Effect: eff}
		if e.Type == payments.FeedPayout && source.Status == "pending" {
			be.BufferMinor = e.AmountMinor
		}
		if err := w.postEffect(ctx, e.Marketplace, set.currencyOf(name), be); err != nil {
			return err
		}
	}
	return nil
}

// ensureBalanceAccounts opens the accounts of a balance. They open with
// their party or balance; a posting opens them only for a party of a
// version that had none (posted at upgrade).
func (w *op) ensureBalanceAccounts(marketplace, key, currency string) error {
	if _, err := w.Account(BalanceAccount(key, bucketLive)); err == nil {
		return nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	for _, b := range []string{bucketSTH, bucketRR, bucketLive, bucketFee, bucketTxn, bucketAdj, bucketBuf, bucketBufSrc} {
		if _, err := w.CreateAccount(ledger.Account{ID: BalanceAccount(key, b), Owner: marketplace, Kind: "balance_" + b,
			Currency: currency, MayGoNegative: bucketsMayGoNegative[b]}); err != nil {
			return err
		}
	}
	return nil
}

// moveBuckets posts one transfer between buckets of a balance, leaving
// out postings of zero; it posts nothing when every amount is zero.
func (w *op) moveBuckets(key, code, ref string, amounts map[string]int64) error {
	var ps []ledger.Posting
	for _, b := range []string{bucketTxn, bucketAdj, bucketFee, bucketRR, bucketSTH, bucketLive, bucketBuf, bucketBufSrc} {
		if n := amounts[b]; n != 0 {
			ps = append(ps, ledger.Posting{AccountID: BalanceAccount(key, b), AmountMinor: n})
		}
	}
	if len(ps) == 0 {
		return nil
	}
	_, err := w.Transfer(ledger.TransferRequest{Code: code, Ref: ref, Postings: ps})
	return err
}

// postEffect posts one effect into a balance's accounts, stores it, and
// books its releases.
func (w *op) postEffect(ctx context.Context, marketplace, currency string, be BalanceEffect) error {
	if err := w.ensureBalanceAccounts(marketplace, be.BalanceKey, currency); err != nil {
		return err
	}
	from := bucketTxn
	if be.Rule.Type == balances.Adjustment {
		from = bucketAdj
	}
	if err := w.moveBuckets(be.BalanceKey, "balance", be.EntryID, map[string]int64{
		from: -be.SignedMinor, bucketFee: be.FeeMinor, bucketRR: be.ReserveMinor, bucketSTH: be.STHMinor, bucketLive: be.LiveMinor,
	}); err != nil {
		return err
	}
	if err := w.moveBuckets(be.BalanceKey, "balance_buffer", be.EntryID, map[string]int64{
		bucketBufSrc: -be.BufferMinor, bucketBuf: be.BufferMinor,
	}); err != nil {
		return err
	}
	if w.gathering {
		w.effects = append(w.effects, be)
	} else if err := w.tx.InsertBalanceEffect(ctx, be); err != nil {
		return err
	}
	if be.STHMinor != 0 {
		if err := w.bookRelease(ctx, marketplace, be.BalanceKey, be.STHUntil, balances.Release{STHMinor: be.STHMinor}); err != nil {
			return err
		}
	}
	if be.ReserveMinor != 0 {
		return w.bookRelease(ctx, marketplace, be.BalanceKey, be.ReserveUntil, balances.Release{RRMinor: be.ReserveMinor})
	}
	return nil
}

// bookRelease adds to what falls due on a balance at an instant, with the
// one job that posts it.
func (w *op) bookRelease(ctx context.Context, marketplace, key string, due time.Time, r balances.Release) error {
	if w.releases != nil {
		k := releaseKey{key, due.UnixMicro()}
		sum := w.releases[k]
		sum.STHMinor += r.STHMinor
		sum.RRMinor += r.RRMinor
		w.releases[k] = sum
		return nil
	}
	if err := w.tx.AddRelease(ctx, key, due, r); err != nil {
		return err
	}
	// due is a time of the marketplace's clock; jobs are kept in process
	// time (a test clock's advance moves them).
	return w.tx.ScheduleJob(ctx, scheduler.Job{Kind: JobBalanceRelease, Key: releaseJobKey(key, due), Payload: marketplace, DueAt: w.ProcessTime(due)}, w.ProcessNow())
}

// gather makes the operation gather its releases and balance effects
// until flushGathered writes them.
func (w *op) gather() {
	w.releases = map[releaseKey]balances.Release{}
	w.gathering = true
}

// flushGathered stores the effects gathered and books the releases.
func (w *op) flushGathered(ctx context.Context, marketplace string) error {
	effects := w.effects
	w.effects, w.gathering = nil, false
	if err := w.tx.InsertBalanceEffects(ctx, effects); err != nil {
		return err
	}
	return w.flushReleases(ctx, marketplace)
}

// flushReleases books them.
func (w *op) gatherReleases() { w.releases = map[releaseKey]balances.Release{} }

// flushReleases books the releases gathered, in the order of their
// balances and instants so that concurrent operations lock rows alike.
func (w *op) flushReleases(ctx context.Context, marketplace string) error {
	keys := make([]releaseKey, 0, len(w.releases))
	for k := range w.releases {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].key != keys[j].key {
			return keys[i].key < keys[j].key
		}
		return keys[i].due < keys[j].due
	})
	gathered := w.releases
	w.releases = nil
	for _, k := range keys {
		if err := w.bookRelease(ctx, marketplace, k.key, time.UnixMicro(k.due), gathered[k]); err != nil {
			return err
		}
	}
	return nil
}

func releaseJobKey(key string, due time.Time) string {
	return key + "@" + strconv.FormatInt(due.UnixMicro(), 10)
}

// RunBalanceRelease is the handler of JobBalanceRelease: what falls due on
// one balance at one instant moves to live, the row that booked it goes,
// and the job completes, in one transaction, so it happens exactly once.
func (s *Service) RunBalanceRelease(ctx context.Context, j scheduler.Job) error {
	key, at, ok := strings.Cut(j.Key, "@")
	us, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil {
		return fmt.Errorf("merchants: release job %s has a malformed key %q", j.ID, j.Key)
	}
	due := time.UnixMicro(us)
	_, err = s.write(payments.WithoutIdempotency(ctx), j.Payload, nil, func(ctx context.Context, w *op) (any, error) {
		r, found, err := w.tx.TakeRelease(ctx, key, due)
		if err != nil {
			return nil, err
		}
		if found {
			if err := w.moveBuckets(key, "balance_release", j.Key, map[string]int64{
				bucketSTH: -r.STHMinor, bucketRR: -r.RRMinor, bucketLive: r.STHMinor + r.RRMinor,
			}); err != nil {
				return nil, err
			}
		}
		return nil, w.tx.CompleteJob(ctx, j.ID, w.ProcessNow())
	})
	return err
}

// releaseBuffer ends what a payout held in the buffers of the balances it
// reached, once the payout has its final status.
func (w *op) releaseBuffer(ctx context.Context, sourceID string) error {
	effects, err := w.tx.EffectsOfSource(ctx, sourceID)
	if err != nil {
		return err
	}
	for _, be := range effects {
		if err := w.moveBuckets(be.BalanceKey, "balance_buffer", be.EntryID, map[string]int64{
			bucketBuf: -be.BufferMinor, bucketBufSrc: be.BufferMinor,
		}); err != nil {
			return err
		}
	}
	return nil
}
