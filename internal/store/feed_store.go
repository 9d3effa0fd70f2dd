package store

import (
	"context"
	"database/sql"
	"errors"
	"github.com/poise-payments/poise/internal/merchants"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/payments"
)

const feedColumns = "id, marketplace_id, merchant_id, type, amount, currency, gate, source_id, occurred_at_us, endpoint_id"

// InsertFeed implements payments.FeedTx. The row is held back and written
// in bulk with the transaction's others (see write_behind.go).
func (t *Tx) InsertFeed(ctx context.Context, e payments.FeedEntry) error {
	t.deferInsert("balance_transactions", feedColumns,
		e.ID, e.Marketplace, e.Merchant, e.Type, e.AmountMinor, e.Currency, e.Gate, e.SourceID, e.OccurredAt.UnixMicro(), e.Endpoint)
	return nil
}

// FeedOf lists a merchant's balance transactions, oldest first.
func (db *DB) FeedOf(ctx context.Context, marketplace, merchant string) ([]payments.FeedEntry, error) {
	return collectWith(scanFeedEntry)(db.Query(ctx, "SELECT "+feedColumns+" FROM balance_transactions WHERE marketplace_id = ? AND merchant_id = ? ORDER BY occurred_at_us, id",
		marketplace, merchant))
}

// InsertLogin implements merchants.LoginTx: ErrDuplicate when taken.
func (t *Tx) InsertLogin(ctx context.Context, login, marketplace, resourceID string) error {
	_, err := t.Exec(ctx, "INSERT INTO paynet_logins (login, marketplace_id, resource_id) VALUES (?, ?, ?)", login, marketplace, resourceID)
	return err
}

// Login finds who a login belongs to.
func (db *DB) Login(ctx context.Context, login string) (marketplace, resourceID string, err error) {
	err = db.QueryRow(ctx, "SELECT marketplace_id, resource_id FROM paynet_logins WHERE login = ?", login).Scan(&marketplace, &resourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return marketplace, resourceID, err
}

// ClaimExternalID implements merchants.AdjustmentTx: ErrDuplicate when the
// external ID was used before, with the adjustment that used it.
func (t *Tx) ClaimExternalID(ctx context.Context, marketplace, externalID, adjustmentID string) (string, error) {
	var existing string
	err := t.QueryRow(ctx, "SELECT adjustment_id FROM adjustment_external_ids WHERE marketplace_id = ? AND external_id = ?", marketplace, externalID).Scan(&existing)
	if err == nil {
		return existing, ErrDuplicate
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	_, err = t.Exec(ctx, "INSERT INTO adjustment_external_ids (marketplace_id, external_id, adjustment_id) VALUES (?, ?, ?)", marketplace, externalID, adjustmentID)
	return "", err
}

// LinkedTo implements payments.Tx: the resources of a type whose link rel
// names target, newest first, read in the transaction. When the
// transaction holds back no resource of that type, the database already
// has every one there is, and nothing needs flushing first.
//
// The answer is kept until the transaction writes a resource of that type
// or rolls back to a savepoint: in a batch, every payment to a merchant
// asks for the merchant's balances and rules, which payments never change.
func (t *Tx) LinkedTo(ctx context.Context, marketplace, target, rel, typ string, limit int) ([]payments.Resource, error) {
	q := payments.LinkedQuestion{Marketplace: marketplace, Target: target, Rel: rel, Type: typ, Limit: limit}
	if kept, ok := t.linked[typ][linkedKeyOf(q)]; ok {
		out := make([]payments.Resource, len(kept))
		for i, r := range kept {
			out[i] = cloneResource(r)
		}
		return out, nil
	}
	query := t.queryDirect
	if t.holdsBackType(typ) {
		query = t.Query
	}
	found, err := collectWith(scanResource)(query(ctx, linkedToQuery, linkedToArgs(q)...))
	if err != nil {
		return nil, err
	}
	t.keepLinked(q, found)
	return found, nil
}

// askLinked is LinkedTo's question q, to go in a pipeline (see Prefetch).
func (t *Tx) askLinked(q payments.LinkedQuestion) askedInPipeline {
	var found []payments.Resource
	return askedInPipeline{
		step: pgStep{query: linkedToQuery, args: linkedToArgs(q), rows: func(rows pgx.Rows) error {
			return scanEach(rows, func(raw resourceRow) error {
				r, err := raw.decode()
				found = append(found, r)
				return err
			})
		}},
		keep: func() { t.keepLinked(q, found) },
	}
}

// keepLinked keeps, for the rest of the transaction, found as the answer
// to q (see LinkedTo). It keeps copies: the caller may change found.
func (t *Tx) keepLinked(q payments.LinkedQuestion, found []payments.Resource) {
	if t.linked == nil {
		t.linked = make(map[string]map[linkedKey][]payments.Resource)
	}
	if t.linked[q.Type] == nil {
		t.linked[q.Type] = make(map[linkedKey][]payments.Resource)
	}
	kept := make([]payments.Resource, len(found))
	for i, r := range found {
		kept[i] = cloneResource(r)
	}
	t.linked[q.Type][linkedKeyOf(q)] = kept
}

// linkedKey is a LinkedTo question, as the transaction keeps its answer.
type linkedKey struct {
	marketplace, target, rel, typ string
	limit                         int
}

func linkedKeyOf(q payments.LinkedQuestion) linkedKey {
	return linkedKey{q.Marketplace, q.Target, q.Rel, q.Type, q.Limit}
}

// resourceWritten drops what the transaction keeps that a write of a
// resource of typ in marketplace may change.
func (t *Tx) resourceWritten(marketplace, typ string) {
	delete(t.linked, typ)
	if typ == "callbacks" {
		delete(t.callbacks, marketplace)
	}
}

// LinkedTo implements payments.BalanceReads: LinkedTo outside a
// transaction, without the count a page of a list needs.
func (db *DB) LinkedTo(ctx context.Context, marketplace, target, rel, typ string, limit int) ([]payments.Resource, error) {
	q := payments.LinkedQuestion{Marketplace: marketplace, Target: target, Rel: rel, Type: typ, Limit: limit}
	return collectWith(scanResource)(db.Query(ctx, linkedToQuery, linkedToArgs(q)...))
}

// linkedToQuery answers a LinkedTo question, with linkedToArgs.
const linkedToQuery = `SELECT r.id, r.marketplace_id, r.type, r.status, r.hidden, r.created_at_us, r.updated_at_us, r.body
		FROM resource_links l JOIN resources r ON r.id = l.resource_id
		WHERE l.target_id = ? AND l.rel = ? AND l.type = ? AND r.marketplace_id = ? AND NOT r.hidden
		ORDER BY r.created_at_us DESC, r.id DESC LIMIT ?`

func linkedToArgs(q payments.LinkedQuestion) []any {
	return []any{q.Target, q.Rel, q.Type, q.Marketplace, q.Limit}
}

const effectColumns = `entry_id, balance_key, party_id, balance_name, source_id, rule, signed_amount, fee, reserve, sth, live, buffer,
	reserve_until_us, sth_until_us`

// InsertBalanceEffect implements payments.BalanceTx. The row is held back
// and written in bulk with the transaction's others.
func (t *Tx) InsertBalanceEffect(ctx context.Context, be merchants.BalanceEffect) error {
	t.deferInsert("balance_effects", effectColumns,
		be.EntryID, be.BalanceKey, be.PartyID, be.BalanceName, be.SourceID, be.RuleJSON, be.SignedMinor, be.FeeMinor,
		be.ReserveMinor, be.STHMinor, be.LiveMinor, be.BufferMinor, microsOrZero(be.ReserveUntil), microsOrZero(be.STHUntil))
	return nil
}

func timeOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

func scanEffect(row rowScanner) (merchants.BalanceEffect, error) {
	var be merchants.BalanceEffect
	var rr, sth int64
	if err := row.Scan(&be.EntryID, &be.BalanceKey, &be.PartyID, &be.BalanceName, &be.SourceID, &be.RuleJSON, &be.SignedMinor, &be.FeeMinor,
		&be.ReserveMinor, &be.STHMinor, &be.LiveMinor, &be.BufferMinor, &rr, &sth); err != nil {
		return be, err
	}
	be.ReserveUntil, be.STHUntil = timeOrZero(rr), timeOrZero(sth)
	rule, err := merchants.DecodeRule(be.RuleJSON)
	be.Rule = rule
	return be, err
}

// EffectsOfSource implements payments.BalanceTx.
func (t *Tx) EffectsOfSource(ctx context.Context, sourceID string) ([]merchants.BalanceEffect, error) {
	return collectWith(scanEffect)(t.Query(ctx, "SELECT "+effectColumns+" FROM balance_effects WHERE source_id = ? ORDER BY entry_id, balance_key", sourceID))
}

// EffectsOfBalance implements payments.BalanceReads.
func (db *DB) EffectsOfBalance(ctx context.Context, balanceKey string, fn func(merchants.BalanceEffect) error) error {
	rows, err := db.Query(ctx, "SELECT "+effectColumns+" FROM balance_effects WHERE balance_key = ?", balanceKey)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		be, err := scanEffect(rows)
		if err != nil {
			return err
		}
		if err := fn(be); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EffectOf implements payments.BalanceReads.
func (db *DB) EffectOf(ctx context.Context, entryID, partyID string) (merchants.BalanceEffect, error) {
	be, err := scanEffect(db.QueryRow(ctx, "SELECT "+effectColumns+" FROM balance_effects WHERE entry_id = ? AND party_id = ? ORDER BY balance_key LIMIT 1", entryID, partyID))
	if errors.Is(err, sql.ErrNoRows) {
		return be, ErrNotFound
	}
	return be, err
}

// AddRelease implements payments.BalanceTx.
func (t *Tx) AddRelease(ctx context.Context, balanceKey string, due time.Time, r balances.Release) error {
	_, err := t.Exec(ctx, `INSERT INTO balance_releases (balance_key, due_at_us, sth_amount, rr_amount) VALUES (?, ?, ?, ?)
		ON CONFLICT (balance_key, due_at_us) DO UPDATE SET sth_amount = balance_releases.sth_amount + excluded.sth_amount,
		rr_amount = balance_releases.rr_amount + excluded.rr_amount`, balanceKey, due.UnixMicro(), r.STHMinor, r.RRMinor)
	return err
}

// TakeRelease implements payments.BalanceTx.
func (t *Tx) TakeRelease(ctx context.Context, balanceKey string, due time.Time) (balances.Release, bool, error) {
	var r balances.Release
	err := t.QueryRow(ctx, "SELECT sth_amount, rr_amount FROM balance_releases WHERE balance_key = ? AND due_at_us = ?"+t.d.lockSuffix,
		balanceKey, due.UnixMicro()).Scan(&r.STHMinor, &r.RRMinor)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	_, err = t.Exec(ctx, "DELETE FROM balance_releases WHERE balance_key = ? AND due_at_us = ?", balanceKey, due.UnixMicro())
	return r, err == nil, err
}

// ClearReserveReleases implements payments.BalanceTx.
func (t *Tx) ClearReserveReleases(ctx context.Context, balanceKey string) error {
	if _, err := t.Exec(ctx, "UPDATE balance_releases SET rr_amount = 0 WHERE balance_key = ? AND rr_amount <> 0", balanceKey); err != nil {
		return err
	}
	_, err := t.Exec(ctx, "DELETE FROM balance_releases WHERE balance_key = ? AND sth_amount = 0 AND rr_amount = 0", balanceKey)
	return err
}

// DueReleases implements payments.BalanceReads.
func (db *DB) DueReleases(ctx context.Context, balanceKey string, now time.Time) (balances.Release, error) {
	var r balances.Release
	err := db.QueryRow(ctx, "SELECT COALESCE(SUM(sth_amount), 0), COALESCE(SUM(rr_amount), 0) FROM balance_releases WHERE balance_key = ? AND due_at_us <= ?",
		balanceKey, now.UnixMicro()).Scan(&r.STHMinor, &r.RRMinor)
	return r, err
}

// BalanceAccounts implements payments.BalanceReads.
func (db *DB) BalanceAccounts(ctx context.Context, accountIDs []string) (map[string]int64, error) {
	args := make([]any, len(accountIDs))
	for i, id := range accountIDs {
		args[i] = id
	}
	rows, err := db.Query(ctx, "SELECT id, posted FROM accounts WHERE id IN ("+placeholders(len(accountIDs))+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]int64, len(accountIDs))
	for rows.Next() {
		var id string
		var posted int64
		if err := rows.Scan(&id, &posted); err != nil {
			return nil, err
		}
		out[id] = posted
	}
	return out, rows.Err()
}

// CustomerFeed implements payments.BalanceTx.
func (t *Tx) CustomerFeed(ctx context.Context, marketplace, customer string, limit int) ([]payments.FeedEntry, error) {
	return collectWith(scanFeedEntry)(t.Query(ctx, "SELECT "+feedColumns+" FROM balance_transactions WHERE marketplace_id = ? AND merchant_id = ? ORDER BY occurred_at_us, id LIMIT ?",
		marketplace, customer, limit))
}

func scanFeedEntry(row rowScanner) (payments.FeedEntry, error) {
	var e payments.FeedEntry
	var at int64
	err := row.Scan(&e.ID, &e.Marketplace, &e.Merchant, &e.Type, &e.AmountMinor, &e.Currency, &e.Gate, &e.SourceID, &at, &e.Endpoint)
	e.OccurredAt = fromMicros(at)
	return e, err
}

// PendingHistory implements payments.BalanceReads.
func (db *DB) PendingHistory(ctx context.Context, limit int) ([][2]string, error) {
	rows, err := db.Query(ctx, "SELECT marketplace_id, party_id FROM balance_history_pending ORDER BY party_id LIMIT ?", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TakePendingHistory implements payments.BalanceTx.
func (t *Tx) TakePendingHistory(ctx context.Context, partyID string) (bool, error) {
	res, err := t.Exec(ctx, "DELETE FROM balance_history_pending WHERE party_id = ?", partyID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ScanFeedEffects implements payments.BalanceReads. Rows are streamed from
// the database as they are read, never gathered.
func (db *DB) ScanFeedEffects(ctx context.Context, marketplace, customer, partyID string, from, to time.Time,
	fn func(payments.FeedEntry, *merchants.BalanceEffect) error) error {
	rows, err := db.Query(ctx, `SELECT t.id, t.marketplace_id, t.merchant_id, t.type, t.amount, t.currency, t.gate, t.source_id, t.occurred_at_us, t.endpoint_id,
		e.entry_id, e.balance_key, e.party_id, e.balance_name, e.source_id, e.rule, e.signed_amount, e.fee, e.reserve, e.sth, e.live, e.buffer,
		e.reserve_until_us, e.sth_until_us
		FROM balance_transactions t LEFT JOIN balance_effects e ON e.entry_id = t.id AND e.party_id = ?
		WHERE t.marketplace_id = ? AND t.merchant_id = ? AND t.occurred_at_us >= ? AND t.occurred_at_us < ?
		ORDER BY t.occurred_at_us, t.id, e.balance_key`, partyID, marketplace, customer, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return err
	}
	defer rows.Close()
	last := ""
	for rows.Next() {
		var e payments.FeedEntry
		var at int64
		var eid, key, party, name, source, rule sql.NullString
		var signed, fee, reserve, sth, live, buffer, rrUntil, sthUntil sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Marketplace, &e.Merchant, &e.Type, &e.AmountMinor, &e.Currency, &e.Gate, &e.SourceID, &at, &e.Endpoint,
			&eid, &key, &party, &name, &source, &rule, &signed, &fee, &reserve, &sth, &live, &buffer, &rrUntil, &sthUntil); err != nil {
			return err
		}
		if e.ID == last {
			continue // counted by a second balance of the party: once is enough
		}
		last = e.ID
		e.OccurredAt = fromMicros(at)
		var be *merchants.BalanceEffect
		if eid.Valid {
			be = &merchants.BalanceEffect{EntryID: eid.String, BalanceKey: key.String, PartyID: party.String, BalanceName: name.String,
				SourceID: source.String, RuleJSON: rule.String, BufferMinor: buffer.Int64}
			be.SignedMinor, be.FeeMinor, be.ReserveMinor, be.STHMinor, be.LiveMinor = signed.Int64, fee.Int64, reserve.Int64, sth.Int64, live.Int64
			be.ReserveUntil, be.STHUntil = timeOrZero(rrUntil.Int64), timeOrZero(sthUntil.Int64)
			if be.Rule, err = merchants.DecodeRule(be.RuleJSON); err != nil {
				return err
			}
		}
		if err := fn(e, be); err != nil {
			return err
		}
	}
	return rows.Err()
}
