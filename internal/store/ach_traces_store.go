package store

import "context"

// TakeACHTraces implements payments.Tx: it reserves n trace sequences of an
// ODFI inside a window's close and returns the first. floor is where the
// closing marketplace's own sequence stands, so traces it gave out before
// the ODFI's sequence was shared are never given again. The row is locked
// by the update until the close commits; a rolled-back close gives nothing
// out.
func (t *Tx) TakeACHTraces(ctx context.Context, odfi string, n, floor int64) (int64, error) {
	if _, err := t.Exec(ctx, "INSERT INTO ach_odfi_traces (odfi_routing, next_sequence) VALUES (?, ?) ON CONFLICT (odfi_routing) DO NOTHING", odfi, floor); err != nil {
		return 0, err
	}
	if _, err := t.Exec(ctx, `UPDATE ach_odfi_traces SET next_sequence = (CASE WHEN next_sequence < ? THEN ? ELSE next_sequence END) + ?
		WHERE odfi_routing = ?`, floor, floor, n, odfi); err != nil {
		return 0, err
	}
	var next int64
	if err := t.QueryRow(ctx, "SELECT next_sequence FROM ach_odfi_traces WHERE odfi_routing = ?", odfi).Scan(&next); err != nil {
		return 0, err
	}
	return next - n, nil
}
