package store

import (
	"maps"

	"github.com/poise-payments/poise/internal/payments"
)

// A write transaction keeps the resource rows it has locked or written.
// A row locked once stays locked until commit (FOR UPDATE on PostgreSQL;
// SQLite's write lock covers the database), so only this transaction can
// change it meanwhile, and it does so through InsertResource and
// UpdateResource, which keep the copy current. Reading it again then
// costs no round trip: in a batch, every operation locks its
// marketplace (for its clock), and a hot order or card is locked by every
// debit. A rollback to a savepoint may undo writes, so it forgets every
// row; the transaction's end forgets them with the Tx.
//
// An update also compares the resource's links with the row's, and
// rewrites its link rows only when they changed, which for an order
// updated by every debit into it they seldom do.

// lockedRow is a resource row as stored, with its links decoded.
type lockedRow struct {
	raw   resourceRow
	links map[string]string
}

// remember keeps row as the transaction's copy of its resource.
func (t *Tx) remember(raw resourceRow, links map[string]string) {
	if t.locked == nil {
		t.locked = make(map[string]lockedRow)
	}
	t.locked[raw.id] = lockedRow{raw: raw, links: liveLinks(links)}
}

// recall returns the transaction's copy of resource id of marketplace,
// decoded afresh so that the caller may change it freely.
func (t *Tx) recall(marketplace, id string) (payments.Resource, bool, error) {
	row, ok := t.locked[id]
	if !ok || row.raw.marketplace != marketplace {
		return payments.Resource{}, false, nil
	}
	r, err := row.raw.decode()
	return r, true, err
}

// forgetLocked drops every kept row, after a rollback to a savepoint.
func (t *Tx) forgetLocked() { t.locked = nil }

// sameLinks reports whether links are what the kept row of id has.
func (t *Tx) sameLinks(id string, links map[string]string) bool {
	row, ok := t.locked[id]
	return ok && maps.Equal(row.links, liveLinks(links))
}

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
