// Package id generates Poise's identifiers.
//
// An ID is a short type prefix followed by 22 base62 characters that encode
// 48 bits of milliseconds since the Unix epoch and 80 random bits. IDs are
// generated, never taken from a database sequence, so they stay unique across
// processes and distributed databases; the time prefix keeps them roughly
// ordered by creation, which keeps B-tree inserts local.
package id

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
	"sync"
	"time"
)

// alphabet is in ASCII order so that fixed-width encodings sort like the
// numbers they encode.
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// width is ceil(128 / log2(62)): enough base62 digits for any 128-bit value.
const width = 22

// base is the radix of the encoding.
const base = uint64(len(alphabet))

// New returns a fresh identifier with the given prefix.
func New(prefix string) string {
	return NewAt(prefix, time.Now())
}

// last is the most recent value handed out, so that IDs made within one
// millisecond still sort in the order they were made: a later one is the
// earlier plus one. Across processes, IDs of one millisecond are merely
// unique.
var last struct {
	sync.Mutex
	hi, lo uint64
}

// NewAt returns a fresh identifier whose time part is t.
func NewAt(prefix string, t time.Time) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(t.UnixMilli())<<16)
	if _, err := rand.Read(raw[6:]); err != nil {
		// crypto/rand never fails on supported platforms; if it does, an ID
		// that could collide must not be handed out.
		panic("id: crypto/rand failed: " + err.Error())
	}
	hi, lo := binary.BigEndian.Uint64(raw[0:8]), binary.BigEndian.Uint64(raw[8:16])
	last.Lock()
	if hi>>16 <= last.hi>>16 {
		// Same (or an earlier) millisecond: continue from the last value.
		var carry uint64
		lo, carry = bits.Add64(last.lo, 1, 0)
		hi = last.hi + carry
	}
	last.hi, last.lo = hi, lo
	last.Unlock()
	var out [width]byte
	for i := width - 1; i >= 0; i-- {
		// Long division of the 128-bit value hi:lo by 62, one digit a step.
		var rem uint64
		hi, rem = bits.Div64(0, hi, base)
		lo, rem = bits.Div64(rem, lo, base)
		out[i] = alphabet[rem]
	}
	return prefix + string(out[:])
}

// MaxLen bounds an identifier a client may name: a prefix of up to seven
// characters ("TEST-MP") and 22 digits make 29; 64 also admits the 16 to 32
// character ids of imported Balanced resources.
const MaxLen = 64

// Valid reports whether s has the shape of an identifier: 2 to MaxLen
// ASCII letters, digits and hyphens. Anything else (a NUL, a slash, bytes
// that are not UTF-8) names nothing, so it can be refused before it reaches
// a database that would choke on it.
func Valid(s string) bool {
	if len(s) < 2 || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}
