package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
)

// resourceBody is how a resource's fields and links are kept in its row.
type resourceBody struct {
	Fields  map[string]any    `json:"fields"`
	Links   map[string]string `json:"links"`
	Private map[string]any    `json:"private,omitempty"`
}

const resourceColumns = "id, marketplace_id, type, status, hidden, created_at_us, updated_at_us, body"

// resourceRow is a resources row as stored.
type resourceRow struct {
	id, marketplace, typ, status string
	hidden                       bool
	createdUs, updatedUs         int64
	body                         string
}

func scanResourceRow(row rowScanner) (resourceRow, error) {
	var raw resourceRow
	if err := row.Scan(&raw.id, &raw.marketplace, &raw.typ, &raw.status, &raw.hidden, &raw.createdUs, &raw.updatedUs, &raw.body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return raw, ledger.ErrNotFound
		}
		return raw, err
	}
	return raw, nil
}

func (raw resourceRow) decode() (payments.Resource, error) {
	r := payments.Resource{ID: raw.id, Marketplace: raw.marketplace, Type: raw.typ, Status: raw.status, Hidden: raw.hidden,
		CreatedAt: fromMicros(raw.createdUs), UpdatedAt: fromMicros(raw.updatedUs)}
	// Numbers stay json.Number: amounts never pass through a float.
	var b resourceBody
	dec := json.NewDecoder(strings.NewReader(raw.body))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return r, fmt.Errorf("store: resource %s has a malformed body: %w", r.ID, err)
	}
	r.Fields, r.Links, r.Private = b.Fields, b.Links, b.Private
	if r.Fields == nil {
		r.Fields = map[string]any{}
	}
	if r.Links == nil {
		r.Links = map[string]string{}
	}
	if r.Private == nil {
		r.Private = map[string]any{}
	}
	return r, nil
}

func scanResource(row rowScanner) (payments.Resource, error) {
	raw, err := scanResourceRow(row)
	if err != nil {
		return payments.Resource{ID: raw.id}, err
	}
	return raw.decode()
}

// rowOf is r as its row stores it.
func rowOf(r payments.Resource, body string) resourceRow {
	return resourceRow{id: r.ID, marketplace: r.Marketplace, typ: r.Type, status: r.Status, hidden: r.Hidden,
		createdUs: r.CreatedAt.UnixMicro(), updatedUs: r.UpdatedAt.UnixMicro(), body: body}
}

// GetResource implements payments.Store. A resource of another marketplace
// is reported missing, exactly like one that does not exist.
func (db *DB) GetResource(ctx context.Context, marketplace, id string) (payments.Resource, error) {
	return scanResource(db.QueryRow(ctx, "SELECT "+resourceColumns+" FROM resources WHERE id = ? AND marketplace_id = ?", id, marketplace))
}

// ListResources implements payments.Store: newest first unless q orders
// otherwise.
func (db *DB) ListResources(ctx context.Context, q payments.ListQuery) ([]payments.Resource, int, error) {
	list, err := db.dialect.listWhere(resourceRows, q)
	if err != nil {
		return nil, 0, err
	}
	from := "FROM resources r" + list.join + " WHERE r.marketplace_id = ? AND r.type = ?"
	args := []any{q.Marketplace, q.Type}
	switch {
	case len(q.LinkRels) > 0:
		rels := append([]string{}, q.LinkRels...)
		if q.LinkRel != "" {
			rels = append(rels, q.LinkRel)
		}
		// A semi-join lists a resource once even when it links the target
		// under two of the rels.
		from += " AND r.id IN (SELECT l.resource_id FROM resource_links l WHERE l.target_id = ? AND l.type = ? AND l.rel IN (" + placeholders(len(rels)) + "))"
		args = append(args, q.LinkTarget, q.Type)
		for _, rel := range rels {
			args = append(args, rel)
		}
	case q.LinkRel != "":
		from = "FROM resource_links l JOIN resources r ON r.id = l.resource_id" + list.join +
			" WHERE l.target_id = ? AND l.rel = ? AND l.type = ? AND r.marketplace_id = ?"
		args = []any{q.LinkTarget, q.LinkRel, q.Type, q.Marketplace}
	}
	if q.BuyersOf != "" {
		// The customer links of the order's succeeded debits: one index
		// range over the order's links, then each debit's own.
		from += ` AND r.id IN (SELECT c.target_id FROM resource_links o
			JOIN resources d ON d.id = o.resource_id AND d.status = 'succeeded'
			JOIN resource_links c ON c.resource_id = o.resource_id AND c.rel = 'customer'
			WHERE o.target_id = ? AND o.rel = 'order' AND o.type = 'debits')`
		args = append(args, q.BuyersOf)
	}
	if !q.WithHidden {
		from += " AND NOT r.hidden"
	}
	for _, cond := range list.where {
		from += " AND " + cond
	}
	args = append(args, list.whereArgs...)
	total := -1
	if !q.WithoutTotal {
		if err := db.QueryRow(ctx, "SELECT COUNT(*) "+from, args...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	args = append(args, list.orderArgs...)
	out, err := collectWith(scanResource)(db.Query(ctx, "SELECT r.id, r.marketplace_id, r.type, r.status, r.hidden, r.created_at_us, r.updated_at_us, r.body "+
		from+" ORDER BY "+strings.Join(list.order, ", ")+" LIMIT ? OFFSET ?", append(args, q.Limit, q.Offset)...))
	return out, total, err
}

// LockResource implements payments.Tx. A resource the transaction holds
// back, or has locked before, is answered from its copy; another is read
// and locked in the database, where the held-back writes cannot matter
// (they concern other rows).
func (t *Tx) LockResource(ctx context.Context, marketplace, id string) (payments.Resource, error) {
	if r, ok, err := t.recall(marketplace, id); ok {
		return r, err
	}
	raw, err := scanResourceRow(t.queryRowDirect(ctx, "SELECT "+resourceColumns+" FROM resources WHERE id = ? AND marketplace_id = ?"+t.d.lockSuffix, id, marketplace))
	if err != nil {
		return payments.Resource{}, err
	}
	return t.rememberRead(raw)
}

// InsertResource implements payments.Tx. The row is held back and
// written with the rest of the transaction's (see write_behind.go); a
// duplicate ID fails the transaction then.
func (t *Tx) InsertResource(ctx context.Context, r payments.Resource) error {
	body, err := encodeBody(r)
	if err != nil {
		return err
	}
	t.deferResource(lockedRow{raw: rowOf(r, body), links: liveLinks(r.Links)}, true)
	return nil
}

// storedMarketplace returns the marketplace the database has resource id
// in, when the transaction has the row (locked, or held back as an update
// of it); stored is false otherwise, and for a held-back insert.
func (t *Tx) storedMarketplace(id string) (marketplace string, stored bool) {
	if i, ok := t.latest[id]; ok {
		if t.pending[i].insert {
			return "", false
		}
		return t.pending[i].resource.raw.marketplace, true
	}
	if row, ok := t.locked[id]; ok {
		return row.raw.marketplace, true
	}
	return "", false
}

// moveResource writes at once that a stored resource is now in marketplace
// (held-back updates leave marketplace_id as it is; see updateResources),
// and makes the transaction's copies say so.
func (t *Tx) moveResource(ctx context.Context, id, marketplace string) error {
	res, err := t.Exec(ctx, "UPDATE resources SET marketplace_id = ? WHERE id = ?", marketplace, id)
	if err := checkResourcesUpdated(res, err, 1); err != nil {
		return err
	}
	if row, ok := t.locked[id]; ok {
		row.raw.marketplace = marketplace
		if row.decoded != nil {
			row.decoded.Marketplace = marketplace
		}
	}
	return nil
}

// UpdateResource implements payments.Tx. The marketplace of a resource
// changes only when an unclaimed instrument is claimed. An update of a
// row the transaction has seen (locked, written or held back) is held
// back; another is written at once, so that a missing row is reported.
func (t *Tx) UpdateResource(ctx context.Context, r payments.Resource) error {
	body, err := encodeBody(r)
	if err != nil {
		return err
	}
	row := lockedRow{raw: rowOf(r, body), links: liveLinks(r.Links)}
	if from, stored := t.storedMarketplace(r.ID); stored && from != r.Marketplace {
		if err := t.moveResource(ctx, r.ID, r.Marketplace); err != nil {
			return err
		}
	}
	if held, ok := t.heldBack(r.ID); ok {
		// Still an insert if the held-back version is one; it keeps the
		// created instant the row was inserted with.
		row.raw.createdUs = held.raw.createdUs
		t.deferResource(row, false)
		return nil
	}
	if stored, ok := t.locked[r.ID]; ok {
		row.raw.createdUs = stored.raw.createdUs
		t.deferResource(row, false)
		return nil
	}
	t.resourceWritten(r.Marketplace, r.Type)
	res, err := t.Exec(ctx, "UPDATE resources SET marketplace_id = ?, status = ?, hidden = ?, updated_at_us = ?, body = ? WHERE id = ?",
		r.Marketplace, r.Status, r.Hidden, r.UpdatedAt.UnixMicro(), body, r.ID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return ledger.ErrNotFound
	}
	if _, err := t.Exec(ctx, "DELETE FROM resource_links WHERE resource_id = ?", r.ID); err != nil {
		return err
	}
	rels := slices.Sorted(maps.Keys(row.links))
	for _, rel := range rels {
		if _, err := t.Exec(ctx, "INSERT INTO resource_links ("+linkColumns+") VALUES (?, ?, ?, ?, ?)",
			row.links[rel], rel, r.Type, r.CreatedAt.UnixMicro(), r.ID); err != nil {
			return err
		}
	}
	return nil
}

const apiKeyColumns = "id, secret_hash, marketplace_id, meta, created_at_us, deleted"

func scanAPIKey(row rowScanner) (payments.APIKey, error) {
	var k payments.APIKey
	var meta string
	var created int64
	if err := row.Scan(&k.ID, &k.SecretHash, &k.Marketplace, &meta, &created, &k.Deleted); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return k, ledger.ErrNotFound
		}
		return k, err
	}
	k.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(meta), &k.Meta); err != nil {
		return k, fmt.Errorf("store: api key %s has malformed meta: %w", k.ID, err)
	}
	return k, nil
}

// APIKeyBySecretHash implements payments.Store; deleted keys are not found.
func (db *DB) APIKeyBySecretHash(ctx context.Context, hash string) (payments.APIKey, error) {
	return scanAPIKey(db.QueryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE secret_hash = ? AND NOT deleted", hash))
}

// ListAPIKeys implements payments.Store: a marketplace's live keys (or the
// ones q.IDs names), newest first unless q orders otherwise.
func (db *DB) ListAPIKeys(ctx context.Context, q payments.ListQuery) ([]payments.APIKey, int, error) {
	list, err := db.dialect.listWhere(apiKeyRows, q)
	if err != nil {
		return nil, 0, err
	}
	from := "FROM api_keys k" + list.join + " WHERE k.marketplace_id = ? AND NOT k.deleted"
	args := []any{q.Marketplace}
	for _, cond := range list.where {
		from += " AND " + cond
	}
	args = append(args, list.whereArgs...)
	total := -1
	if !q.WithoutTotal {
		if err := db.QueryRow(ctx, "SELECT COUNT(*) "+from, args...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	args = append(args, list.orderArgs...)
	out, err := collectWith(scanAPIKey)(db.Query(ctx, "SELECT k.id, k.secret_hash, k.marketplace_id, k.meta, k.created_at_us, k.deleted "+
		from+" ORDER BY "+strings.Join(list.order, ", ")+" LIMIT ? OFFSET ?", append(args, q.Limit, q.Offset)...))
	return out, total, err
}

func encodeMeta(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// InsertAPIKey implements payments.Tx.
func (t *Tx) InsertAPIKey(ctx context.Context, k payments.APIKey) error {
	meta, err := encodeMeta(k.Meta)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, "INSERT INTO api_keys ("+apiKeyColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		k.ID, k.SecretHash, k.Marketplace, meta, k.CreatedAt.UnixMicro(), k.Deleted)
	return err
}

// UpdateAPIKey implements payments.Tx.
func (t *Tx) UpdateAPIKey(ctx context.Context, k payments.APIKey) error {
	meta, err := encodeMeta(k.Meta)
	if err != nil {
		return err
	}
	_, err = t.Exec(ctx, "UPDATE api_keys SET marketplace_id = ?, meta = ?, deleted = ? WHERE id = ?", k.Marketplace, meta, k.Deleted, k.ID)
	return err
}

// HasCallbacks implements payments.Tx. The answer is kept for the rest of
// the transaction, which in a batch serves every event of the marketplace;
// a callback the transaction writes drops it.
func (t *Tx) HasCallbacks(ctx context.Context, marketplace string) (bool, error) {
	if has, ok := t.callbacks[marketplace]; ok {
		return has, nil
	}
	query := t.queryRowDirect
	if t.holdsBackType("callbacks") {
		query = t.QueryRow
	}
	var n int
	if err := query(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM resources WHERE marketplace_id = ? AND type = 'callbacks' AND NOT hidden LIMIT 1) AS c", marketplace).Scan(&n); err != nil {
		return false, err
	}
	t.knowCallbacks(marketplace, n > 0)
	return n > 0, nil
}

// knowCallbacks keeps HasCallbacks's answer for marketplace.
func (t *Tx) knowCallbacks(marketplace string, has bool) {
	if t.callbacks == nil {
		t.callbacks = make(map[string]bool)
	}
	t.callbacks[marketplace] = has
}

// askCallbacks is HasCallbacks's question for every ID of ids it does not
// know the answer for, to go in a pipeline: a batch's first pipeline on
// PostgreSQL asks it of every ID its hint names (the marketplaces are among
// them) rather than leave each marketplace's question to a round trip of
// its own. ok is false when there is nothing to ask, or when the
// transaction holds back a callback: the database does not have it yet.
func (t *Tx) askCallbacks(ids []string) (a askedInPipeline, ok bool) {
	if t.holdsBackType("callbacks") {
		return a, false
	}
	var unknown []string
	for _, id := range ids {
		if _, ok := t.callbacks[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 0 {
		return a, false
	}
	with := make(map[string]bool)
	a.step = pgStep{query: liveCallbacksOf, args: []any{unknown}, rows: func(rows pgx.Rows) error {
		for rows.Next() {
			var marketplace string
			if err := rows.Scan(&marketplace); err != nil {
				return err
			}
			with[marketplace] = true
		}
		return nil
	}}
	a.keep = func() {
		for _, id := range unknown {
			t.knowCallbacks(id, with[id])
		}
	}
	return a, true
}

// liveCallbacksOf names, of the IDs given, those of marketplaces with a
// callback that is not deleted. Each ID is one lookup in resources_list,
// in a LATERAL subquery with a LIMIT so that the planner keeps it a lookup
// (see lockEach).
const liveCallbacksOf = `SELECT k.id FROM unnest(CAST(? AS TEXT[])) AS k(id) CROSS JOIN LATERAL (
	SELECT 1 FROM resources WHERE resources.marketplace_id = k.id AND resources.type = 'callbacks' AND NOT resources.hidden LIMIT 1) AS c`

// ResourcesByID reads the resources of marketplace named by ids, in
// statements of a few hundred IDs each; IDs of other marketplaces, or of
// nothing, are absent from the answer.
func (db *DB) ResourcesByID(ctx context.Context, marketplace string, ids []string) (map[string]payments.Resource, error) {
	return marketplaceRowsByID(ctx, db.Query, "SELECT "+resourceColumns+" FROM resources", "id", marketplace, ids,
		scanResource, func(r payments.Resource) string { return r.ID })
}
