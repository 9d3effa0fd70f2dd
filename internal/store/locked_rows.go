package store

import (
	"context"
	"maps"

	"github.com/poise-payments/poise/internal/ledger"
	"github.com/poise-payments/poise/internal/payments"
)

// A write transaction keeps the resource rows it has locked, or written
// to the database, as the database has them. A row locked once stays
// locked until commit (FOR UPDATE on PostgreSQL; SQLite's write lock
// covers the database), so only this transaction can change it meanwhile,
// and it does so through InsertResource and UpdateResource, whose writes
// are held back and become the kept copy when flushed (write_behind.go).
// Reading a row again then costs no round trip: in a batch, every
// operation locks its marketplace (for its clock), and a hot order or
// card is locked by every debit. A rollback to a taken savepoint may undo
// writes, so it forgets every row; the transaction's end forgets them
// with the Tx.
//
// The kept copy's links are what the database's link rows say, so a flush
// rewrites a resource's link rows only when they changed, which for an
// order updated by every debit into it they seldom do.

// lockedRow is a resource row as stored, with its links decoded, and the
// whole resource once some read has decoded it.
type lockedRow struct {
	raw     resourceRow
	links   map[string]string
	decoded *payments.Resource
}

// remember keeps row as the transaction's copy of its resource.
func (t *Tx) remember(row lockedRow) {
	if t.locked == nil {
		t.locked = make(map[string]*lockedRow)
	}
	t.locked[row.raw.id] = &row
}

// rememberRead keeps a row read from the database, decoded, and returns a
// copy of it for the caller.
func (t *Tx) rememberRead(raw resourceRow) (payments.Resource, error) {
	r, err := t.rememberDecoded(raw)
	if err != nil {
		return payments.Resource{}, err
	}
	return cloneResource(*r), nil
}

// rememberDecoded keeps a row read from the database, decoded, and
// returns the kept copy, which the caller must not change.
func (t *Tx) rememberDecoded(raw resourceRow) (*payments.Resource, error) {
	r, err := raw.decode()
	if err != nil {
		return &r, err
	}
	t.remember(lockedRow{raw: raw, links: liveLinks(r.Links), decoded: &r})
	return &r, nil
}

// recall returns the transaction's copy of resource id of marketplace, a
// deep copy that the caller may change freely. A row is decoded once and
// copied after that: the hot rows of a batch (its marketplaces, a hot card
// or order) are read by every operation.
func (t *Tx) recall(marketplace, id string) (payments.Resource, bool, error) {
	row, ok := t.heldBack(id)
	if !ok {
		row, ok = t.locked[id]
	}
	if !ok || row.raw.marketplace != marketplace {
		return payments.Resource{}, false, nil
	}
	if row.decoded == nil {
		r, err := row.raw.decode()
		if err != nil {
			return r, true, err
		}
		row.decoded = &r
	}
	return cloneResource(*row.decoded), true, nil
}

// LinksOf answers the type and live links of a resource the transaction
// holds back or has locked, without decoding its body.
func (t *Tx) LinksOf(marketplace, id string) (typ string, links map[string]string, ok bool) {
	row, ok := t.heldBack(id)
	if !ok {
		row, ok = t.locked[id]
	}
	if !ok || row.raw.marketplace != marketplace {
		return "", nil, false
	}
	return row.raw.typ, row.links, true
}

// cloneResource copies r deeply enough that no change to the copy reaches
// r: its maps and the maps and lists within them. The other values a
// decoded body holds (strings, json.Number, booleans) are immutable.
func cloneResource(r payments.Resource) payments.Resource {
	r.Fields = cloneMap(r.Fields)
	r.Private = cloneMap(r.Private)
	r.Links = maps.Clone(r.Links)
	return r
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// forgetLocked drops every kept row, after a rollback to a savepoint.
func (t *Tx) forgetLocked() { t.locked = nil }

// liveLinks copies the links that name a target: an empty one is no link
// and has no row.
func liveLinks(links map[string]string) map[string]string {
	out := make(map[string]string, len(links))
	for rel, target := range links {
		if target != "" {
			out[rel] = target
		}
	}
	return out
}

// Prefetch implements ledger.Tx: it locks the accounts ids names, and
// reads and locks the resources it names that the transaction does not
// have yet: on PostgreSQL one statement each, sent together; on SQLite,
// whose write lock already covers every row, a few reads.
func (t *Tx) Prefetch(ctx context.Context, ids []string) ([]ledger.Account, error) {
	var missing, plain []string
	var questions []payments.LinkedQuestion
	for _, id := range ids {
		if q, ok := payments.ParseLinkedHint(id); ok {
			// A question about a type the transaction holds back is left
			// to LinkedTo, which flushes first.
			if _, known := t.linked[q.Type][linkedKeyOf(q)]; !known && !t.holdsBackType(q.Type) {
				questions = append(questions, q)
			}
			continue
		}
		plain = append(plain, id)
		if _, ok := t.latest[id]; ok {
			continue
		}
		if _, ok := t.locked[id]; ok {
			continue
		}
		missing = append(missing, id)
	}
	return t.d.bulk.prefetch(ctx, t, plain, missing, questions, func(raw resourceRow) error {
		_, err := t.rememberDecoded(raw)
		return err
	})
}
