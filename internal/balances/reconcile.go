package balances

import "fmt"

// Ledgered is a balance's accounts as the ledger holds them (posted
// amounts, sign as the ledger's: money in is positive).
type Ledgered struct {
	STH, RR, Live, Fee, Txn, Adj, Buf, BufSrc int64
}

// Made is what the stored effects of a balance's transactions add up to.
type Made struct {
	Txns, Adjs, Fees, Buffered int64
}

// Add counts one stored effect.
func (m *Made) Add(e Effect, bufferMinor int64) {
	if e.Rule.Type == Adjustment {
		m.Adjs += e.SignedMinor
	} else {
		m.Txns += e.SignedMinor
	}
	m.Fees += e.FeeMinor
	m.Buffered += bufferMinor
}

// CurrentMinor is the current balance the effects make.
func (m Made) CurrentMinor() int64 { return m.Txns + m.Adjs - m.Fees }

// Check lists how a balance disagrees with what made it: its accounts of
// transactions, adjustments and fees with the sums of its effects, its
// buckets in the ledger and as read with the current those make, and its
// buffer with its source and what payouts put in it.
func Check(read Buckets, acct Ledgered, made Made) []string {
	var out []string
	differ := func(what string, got, want int64) {
		if got != want {
			out = append(out, fmt.Sprintf("%s is %d, but %d", what, got, want))
		}
	}
	differ("the transactions account", -acct.Txn, made.Txns)
	differ("the adjustments account", -acct.Adj, made.Adjs)
	differ("the fees account", acct.Fee, made.Fees)
	differ("current (short-term hold + reserve + live accounts)", acct.STH+acct.RR+acct.Live, made.CurrentMinor())
	differ("current as read", read.CurrentMinor, made.CurrentMinor())
	differ("the buffer account with its source", acct.Buf+acct.BufSrc, 0)
	if acct.Buf < 0 || acct.Buf > made.Buffered {
		differ("the buffer", acct.Buf, made.Buffered)
	}
	return out
}

// SameEffect reports whether a stored effect is the one computed.
func SameEffect(got, want Effect) bool {
	return got.SignedMinor == want.SignedMinor && got.FeeMinor == want.FeeMinor && got.ReserveMinor == want.ReserveMinor &&
		got.STHMinor == want.STHMinor && got.LiveMinor == want.LiveMinor && got.STHUntil.Equal(want.STHUntil) && got.ReserveUntil.Equal(want.ReserveUntil)
}
