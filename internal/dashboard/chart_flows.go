package dashboard

import (
	"context"
	"sync"
	"time"
)

// Past days of a chart are read once per process: what an account's
// journal took in and gave out over an interval that has ended never
// changes (the journal is immutable, and a posting is dated when its
// batch starts, well within settleMargin of its commit), so each read of
// a chart reads from the database only the intervals not yet kept, at
// least the open one that ends now: one range of the postings key per
// account, today's postings, whatever the history.

// settleMargin is how long after an interval ends it is kept: far longer
// than a committer's batch takes between dating its postings and
// committing them, and than the clocks of servers sharing one database
// drift apart.
const settleMargin = time.Minute

// maxKeptFlows bounds the intervals kept: 30 days of four accounts for
// each of about 500 merchants before the oldest are forgotten. A forgotten
// interval is read again from the journal.
const maxKeptFlows = 1 << 16

// flow is what an account's journal took in and gave out over an interval.
type flow struct{ inMinor, outMinor int64 }

type flowKey struct {
	account string
	// fromUs, toUs bound the interval in the journal's (process) time.
	fromUs, toUs int64
}

// flowMemo keeps the flows of intervals that have ended.
type flowMemo struct {
	mu   sync.Mutex
	kept map[flowKey]flow
}

func newFlowMemo() *flowMemo { return &flowMemo{kept: map[flowKey]flow{}} }

func (m *flowMemo) get(k flowKey) (flow, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.kept[k]
	return f, ok
}

func (m *flowMemo) put(k flowKey, f flow) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.kept) >= maxKeptFlows {
		// Forget everything rather than track ages: the next reads of each
		// chart cost what a first read costs, once.
		clear(m.kept)
	}
	m.kept[k] = f
}

// accountFlows is an account's posted balance and its journal's flows in
// each interval [bounds[i], bounds[i+1]), the last one [bounds[len-1], ∞),
// bounds in the journal's time. The intervals from the first one not kept
// onward are read in one statement with the balance, so the balance and
// what follows it in the journal agree; the ones before it are kept ones.
func (d *Dashboard) accountFlows(ctx context.Context, account string, bounds []time.Time) (postedMinor int64, flows []flow, err error) {
	n := len(bounds)
	keyOf := func(i int) (flowKey, bool) {
		if i+1 >= n {
			return flowKey{}, false // open: never kept
		}
		return flowKey{account: account, fromUs: bounds[i].UnixMicro(), toUs: bounds[i+1].UnixMicro()}, true
	}
	flows = make([]flow, n)
	first := 0
	for ; first < n; first++ {
		k, closed := keyOf(first)
		if !closed {
			break
		}
		f, ok := d.flows.get(k)
		if !ok {
			break
		}
		flows[first] = f
	}
	postedMinor, err = d.history.IntervalPostings(ctx, account, bounds[first:], func(i int, inMinor, outMinor int64) {
		flows[first+i] = flow{inMinor, outMinor}
	})
	if err != nil {
		return 0, nil, err
	}
	settled := d.clk.Now().Add(-settleMargin)
	for i := first; i < n; i++ {
		if k, closed := keyOf(i); closed && !bounds[i+1].After(settled) {
			d.flows.put(k, flows[i])
		}
	}
	return postedMinor, flows, nil
}
