package store

import (
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
	row, ok := t.heldBack(id)
	if !ok {
		row, ok = t.locked[id]
	}
	if !ok || row.raw.marketplace != marketplace {
		return payments.Resource{}, false, nil
	}
	r, err := row.raw.decode()
	return r, true, err
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
