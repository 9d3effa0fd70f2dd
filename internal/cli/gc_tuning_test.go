package cli

import (
	"math"
	"runtime/debug"
	"testing"
)

// The server's collector settings apply only where GOGC and GOMEMLIMIT
// are unset; an operator's own settings stand.
func TestGCTuningLeavesTheEnvironmentsSettings(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	unset := func(string) (string, bool) { return "", false }
	if gc, limit := tuneGC(unset); gc != serverGCPercent || limit != serverMemoryLimit {
		t.Fatalf("with nothing set: %d, %d", gc, limit)
	}
	if got := debug.SetGCPercent(100); got != serverGCPercent {
		t.Fatalf("GC percent %d, want %d", got, serverGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != serverMemoryLimit {
		t.Fatalf("memory limit %d, want %d", got, serverMemoryLimit)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	set := func(name string) (string, bool) {
		return map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"}[name], true
	}
	if gc, limit := tuneGC(set); gc != -1 || limit != -1 {
		t.Fatalf("with both set it changed them: %d, %d", gc, limit)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GC percent changed to %d although GOGC was set", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("memory limit changed to %d although GOMEMLIMIT was set", got)
	}
}
