package clock_test

import (
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
)

func TestNextACHCutoff(t *testing.T) {
	la := mustZone(t, "America/Los_Angeles")
	pt := func(wall string) time.Time {
		t.Helper()
		d, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", wall, la)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		created string // Pacific wall time
		want    string // Pacific wall time of the cut-off
		why     string
	}{
		{"2026-01-12 09:00:00", "2026-01-12 15:30:00", "a Monday morning makes that day's batch"},
		{"2026-01-12 15:29:59.999999999", "2026-01-12 15:30:00", "just before the cut-off"},
		{"2026-01-12 15:30:00", "2026-01-12 15:30:00", "exactly at the cut-off is not after it: it makes the batch"},
		{"2026-01-12 15:30:00.000000001", "2026-01-13 15:30:00", "after 3:30 PM waits for the next business day"},
		{"2026-01-12 17:00:00", "2026-01-13 15:30:00", "already the next day in UTC, still Monday in Pacific Time"},
		{"2026-01-12 00:00:00", "2026-01-12 15:30:00", "midnight"},
		{"2026-01-16 15:45:00", "2026-01-20 15:30:00", "Friday after the cut-off: weekend, then MLK Day"},
		{"2026-01-17 11:00:00", "2026-01-20 15:30:00", "Saturday"},
		{"2026-01-19 11:00:00", "2026-01-20 15:30:00", "on MLK Day itself"},
		{"2025-11-26 16:00:00", "2025-11-28 15:30:00", "the eve of Thanksgiving"},
		{"2026-07-03 12:00:00", "2026-07-03 15:30:00", "Friday before a Saturday Independence Day has a batch"},
		{"2027-07-02 16:00:00", "2027-07-06 15:30:00", "Sunday Independence Day observed Monday"},
		{"2025-12-24 15:31:00", "2025-12-26 15:30:00", "Christmas Eve after the cut-off"},
		{"2024-12-31 18:00:00", "2025-01-02 15:30:00", "New Year's Eve after the cut-off"},
		// The week daylight saving starts (Sunday 2026-03-08): the cut-off
		// stays at 15:30 Pacific, so it moves from 23:30 to 22:30 UTC.
		{"2026-03-06 15:00:00", "2026-03-06 15:30:00", "the Friday before, still PST"},
		{"2026-03-06 16:00:00", "2026-03-09 15:30:00", "Friday after the cut-off: Monday, now PDT"},
		{"2026-03-08 02:30:00", "2026-03-09 15:30:00", "in the hour that does not exist"},
		{"2026-03-09 16:00:00", "2026-03-10 15:30:00", "23:00 UTC is before a winter cut-off but after a summer one"},
		// The week it ends (Sunday 2026-11-01).
		{"2026-10-30 15:45:00", "2026-11-02 15:30:00", "Friday after the cut-off: Monday, now PST"},
		{"2026-11-01 01:30:00", "2026-11-02 15:30:00", "in the hour that happens twice"},
		{"2026-11-02 14:45:00", "2026-11-02 15:30:00", "22:45 UTC is after a summer cut-off but before a winter one"},
	} {
		created, want := pt(tc.created), pt(tc.want)
		got := clock.NextACHCutoff(created.UTC())
		if !got.Equal(want) {
			t.Errorf("NextACHCutoff(%s PT) = %s PT, want %s PT: %s", tc.created, got.In(la).Format(time.DateTime), tc.want, tc.why)
		}
		if got.Location() != time.UTC {
			t.Errorf("NextACHCutoff of a UTC time returned %s", got.Location())
		}
	}
}

func TestACHCutoffInUTCAcrossDaylightSaving(t *testing.T) {
	for _, tc := range []struct{ day, wantUTC string }{
		{"2026-03-06", "2026-03-06T23:30:00Z"},
		{"2026-03-09", "2026-03-09T22:30:00Z"},
		{"2026-10-30", "2026-10-30T22:30:00Z"},
		{"2026-11-02", "2026-11-02T23:30:00Z"},
	} {
		day, _ := time.Parse(time.DateOnly, tc.day)
		got := clock.NextACHCutoff(day.Add(12 * time.Hour)).Format(time.RFC3339)
		if got != tc.wantUTC {
			t.Errorf("cut-off on %s at %s, want %s", tc.day, got, tc.wantUTC)
		}
	}
}

func TestNextACHCutoffKeepsTheCallersLocation(t *testing.T) {
	ny := clock.FedCalendar().Location()
	created := time.Date(2026, 1, 12, 12, 0, 0, 0, ny)
	got := clock.NextACHCutoff(created)
	if want := time.Date(2026, 1, 12, 18, 30, 0, 0, ny); !got.Equal(want) || got.Location() != ny {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestACHBatchesPartitionTime checks the batch rule on every quarter hour of
// three months: each instant belongs to exactly one batch, the first cut-off
// not before it, and a cut-off belongs to its own batch.
func TestACHBatchesPartitionTime(t *testing.T) {
	la := mustZone(t, "America/Los_Angeles")
	cal := clock.FedCalendar()
	start := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 3, 0)
	for at := start; at.Before(end); at = at.Add(15 * time.Minute) {
		c := clock.NextACHCutoff(at)
		if c.Before(at) {
			t.Fatalf("%s: cut-off %s is before it", at, c)
		}
		local := c.In(la)
		if local.Hour() != 15 || local.Minute() != 30 || local.Second() != 0 || local.Nanosecond() != 0 {
			t.Fatalf("%s: cut-off at %s Pacific", at, local)
		}
		if !cal.IsBusinessDay(c) {
			t.Fatalf("%s: cut-off on %s, no business day", at, c)
		}
		if !clock.NextACHCutoff(c).Equal(c) {
			t.Fatalf("cut-off %s is not in its own batch", c)
		}
		if c.Sub(at) > 5*24*time.Hour {
			t.Fatalf("%s waits until %s", at, c)
		}
	}
}

func TestACHSettlementDate(t *testing.T) {
	la := mustZone(t, "America/Los_Angeles")
	pt := func(wall string) time.Time {
		t.Helper()
		d, err := time.ParseInLocation("2006-01-02 15:04", wall, la)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		created string // Pacific wall time
		days    int
		want    string // Pacific wall time
		why     string
	}{
		{"2026-01-12 10:00", 0, "2026-01-12 15:30", "zero days: the batch itself"},
		{"2026-01-12 10:00", clock.ACHDebitMinBusinessDays, "2026-01-15 15:30", "a debit, earliest"},
		{"2026-01-12 10:00", clock.ACHDebitMaxBusinessDays, "2026-01-16 15:30", "a debit, latest"},
		{"2026-01-10 10:00", clock.ACHDebitMinBusinessDays, "2026-01-15 15:30", "Saturday's debit goes in Monday's batch"},
		{"2026-01-15 16:00", clock.ACHDebitMinBusinessDays, "2026-01-22 15:30", "after Thursday's cut-off: Friday's batch, then MLK Day"},
		{"2025-12-24 12:00", clock.ACHRefundBusinessDays, "2025-12-26 15:30", "a refund over Christmas"},
		{"2027-07-02 09:00", clock.ACHCreditMaxBusinessDays, "2027-07-08 15:30", "a credit over a Monday-observed Independence Day"},
		{"2026-03-06 10:00", clock.ACHCreditMinBusinessDays, "2026-03-09 15:30", "a credit across the start of daylight saving"},
	} {
		got := clock.ACHSettlementDate(pt(tc.created).UTC(), tc.days)
		if want := pt(tc.want); !got.Equal(want) {
			t.Errorf("ACHSettlementDate(%s PT, %d) = %s PT, want %s PT: %s", tc.created, tc.days, got.In(la).Format(time.DateTime), tc.want, tc.why)
		}
	}
}
