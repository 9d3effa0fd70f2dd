package ledger

import (
	"testing"
	"time"
)

// Batches shrink when operations grow slow, so that one batch takes about
// maxBatchTime, and grow back when they are fast again; they never go
// below minBatch nor above the configured maximum.
func TestBatchesAreSizedByTheCostOfTheirOperations(t *testing.T) {
	c := &Committer{maxBatch: 512}
	if got := c.batchLimit(); got != 512 {
		t.Fatalf("before any batch: %d, want the maximum", got)
	}
	for range 50 {
		c.learnCost(400*time.Millisecond, 200) // 2 ms an operation
	}
	if got := c.batchLimit(); got < 45 || got > 55 {
		t.Fatalf("at 2 ms an operation: a batch of %d, want about 50 (100 ms)", got)
	}
	for range 50 {
		c.learnCost(time.Second, 10) // 100 ms an operation
	}
	if got := c.batchLimit(); got != minBatch {
		t.Fatalf("at 100 ms an operation: %d, want the minimum %d", got, minBatch)
	}
	for range 100 {
		c.learnCost(10*time.Millisecond, 500) // 20 µs an operation
	}
	if got := c.batchLimit(); got != 512 {
		t.Fatalf("at 20 µs an operation: %d, want the maximum", got)
	}
}
