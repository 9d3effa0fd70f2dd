package dashboard

import (
	"sync"
	"time"
)

// Limits on failed sign-ins.
const (
	// maxFailedSignIns is how many wrong secrets one client address may
	// send per failedSignInWindow. A person mistyping a pasted key needs a
	// few tries; guessing a 32-byte secret needs astronomically more.
	maxFailedSignIns = 5
	// failedSignInWindow is how long failures count against an address.
	failedSignInWindow = 10 * time.Minute
	// maxTrackedAddresses bounds the memory of the limiter. When it is
	// full of addresses still inside their window, a new address is
	// refused too: under a spray from that many addresses, refusing
	// sign-ins for a few minutes is the safe side.
	maxTrackedAddresses = 10_000
)

type failures struct {
	count int
	since time.Time
}

// signInLimit counts failed sign-ins per client address.
type signInLimit struct {
	mu     sync.Mutex
	byAddr map[string]failures
}

func newSignInLimit() *signInLimit { return &signInLimit{byAddr: map[string]failures{}} }

// allowed reports whether addr may try to sign in now.
func (l *signInLimit) allowed(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.byAddr[addr]
	if !ok {
		if len(l.byAddr) >= maxTrackedAddresses {
			l.dropExpired(now)
			return len(l.byAddr) < maxTrackedAddresses
		}
		return true
	}
	if now.Sub(f.since) >= failedSignInWindow {
		delete(l.byAddr, addr)
		return true
	}
	return f.count < maxFailedSignIns
}

// failed counts a failed sign-in of addr.
func (l *signInLimit) failed(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.byAddr[addr]
	if !ok || now.Sub(f.since) >= failedSignInWindow {
		if !ok && len(l.byAddr) >= maxTrackedAddresses {
			l.dropExpired(now)
			if len(l.byAddr) >= maxTrackedAddresses {
				return
			}
		}
		f = failures{since: now}
	}
	f.count++
	l.byAddr[addr] = f
}

// dropExpired forgets addresses whose window has passed. The caller holds mu.
func (l *signInLimit) dropExpired(now time.Time) {
	for a, f := range l.byAddr {
		if now.Sub(f.since) >= failedSignInWindow {
			delete(l.byAddr, a)
		}
	}
}
