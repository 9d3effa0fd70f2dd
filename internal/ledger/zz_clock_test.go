package ledger_test

import (
	"sync"
	"time"
)

// temporary until internal/clock lands
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManual(t time.Time) *manualClock { return &manualClock{t: t} }
func (c *manualClock) Now() time.Time    { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }
