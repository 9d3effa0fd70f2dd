package id_test

import (
	"strings"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/id"
)

func TestIDsAreUniqueFixedWidthAndTimeOrdered(t *testing.T) {
	seen := map[string]bool{}
	base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	prev := ""
	for i := 0; i < 10_000; i++ {
		v := id.NewAt("WD", base.Add(time.Duration(i)*time.Millisecond))
		if !strings.HasPrefix(v, "WD") || len(v) != 2+22 {
			t.Fatalf("id %q: want WD and 22 characters", v)
		}
		if seen[v] {
			t.Fatalf("id %q generated twice", v)
		}
		seen[v] = true
		if v <= prev {
			t.Fatalf("id %q sorts before the earlier %q", v, prev)
		}
		prev = v
	}
	// Same millisecond: still unique, and in the order they were made.
	prev = ""
	for i := 0; i < 1000; i++ {
		v := id.NewAt("", base.Add(time.Hour))
		if v <= prev {
			t.Fatalf("id %q made after %q sorts before it", v, prev)
		}
		prev = v
	}
}

func TestValidAcceptsGeneratedIDsAndRefusesOtherBytes(t *testing.T) {
	for _, prefix := range []string{"CC", "WD", "TEST-MP", "OR"} {
		if v := id.New(prefix); !id.Valid(v) {
			t.Errorf("generated id %q is not valid", v)
		}
	}
	for _, s := range []string{"", "C", "CC\x00", "CC/1", "../cards", "CC 1", "CC\xff", "CCé", strings.Repeat("A", id.MaxLen+1)} {
		if id.Valid(s) {
			t.Errorf("%q is valid", s)
		}
	}
}
