package clock_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/clock"
)

// The Federal Reserve's published holiday schedules
// (federalreserve.gov/aboutthefed/k8.htm): the dates the Banks are closed.
// Saturday holidays are absent, because the Fed does not close for them.
var fedSchedules = map[int][]string{
	2024: {
		"2024-01-01 New Year's Day",
		"2024-01-15 Birthday of Martin Luther King, Jr.",
		"2024-02-19 Washington's Birthday",
		"2024-05-27 Memorial Day",
		"2024-06-19 Juneteenth National Independence Day",
		"2024-07-04 Independence Day",
		"2024-09-02 Labor Day",
		"2024-10-14 Columbus Day",
		"2024-11-11 Veterans Day",
		"2024-11-28 Thanksgiving Day",
		"2024-12-25 Christmas Day",
	},
	2025: {
		"2025-01-01 New Year's Day",
		"2025-01-20 Birthday of Martin Luther King, Jr.",
		"2025-02-17 Washington's Birthday",
		"2025-05-26 Memorial Day",
		"2025-06-19 Juneteenth National Independence Day",
		"2025-07-04 Independence Day",
		"2025-09-01 Labor Day",
		"2025-10-13 Columbus Day",
		"2025-11-11 Veterans Day",
		"2025-11-27 Thanksgiving Day",
		"2025-12-25 Christmas Day",
	},
	2026: { // July 4 is a Saturday: open Friday July 3.
		"2026-01-01 New Year's Day",
		"2026-01-19 Birthday of Martin Luther King, Jr.",
		"2026-02-16 Washington's Birthday",
		"2026-05-25 Memorial Day",
		"2026-06-19 Juneteenth National Independence Day",
		"2026-09-07 Labor Day",
		"2026-10-12 Columbus Day",
		"2026-11-11 Veterans Day",
		"2026-11-26 Thanksgiving Day",
		"2026-12-25 Christmas Day",
	},
	2027: { // June 19 and December 25 are Saturdays; July 4 is a Sunday.
		"2027-01-01 New Year's Day",
		"2027-01-18 Birthday of Martin Luther King, Jr.",
		"2027-02-15 Washington's Birthday",
		"2027-05-31 Memorial Day",
		"2027-07-05 Independence Day",
		"2027-09-06 Labor Day",
		"2027-10-11 Columbus Day",
		"2027-11-11 Veterans Day",
		"2027-11-25 Thanksgiving Day",
	},
}

func TestFedHolidaysMatchThePublishedSchedules(t *testing.T) {
	cal := clock.FedCalendar()
	for year, want := range fedSchedules {
		t.Run(fmt.Sprint(year), func(t *testing.T) {
			var got []string
			for _, h := range cal.Holidays(year) {
				if h.Date.Location() != cal.Location() || h.Date.Hour() != 0 {
					t.Errorf("%s: date %s is not midnight in %s", h.Name, h.Date, cal.Location())
				}
				got = append(got, h.Date.Format(time.DateOnly)+" "+h.Name)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("Holidays(%d):\n got %q\nwant %q", year, got, want)
			}
			for _, line := range want {
				day := nyNoon(t, line[:len(time.DateOnly)])
				if cal.IsBusinessDay(day) {
					t.Errorf("%s is a business day", line)
				}
				if name, ok := cal.HolidayOn(day); !ok || name != line[len(time.DateOnly)+1:] {
					t.Errorf("HolidayOn(%s) = %q, %v", line, name, ok)
				}
			}
		})
	}
}

func TestBusinessDays(t *testing.T) {
	cal := clock.FedCalendar()
	for _, tc := range []struct {
		day      string
		business bool
		why      string
	}{
		{"2026-01-16", true, "an ordinary Friday"},
		{"2026-01-17", false, "Saturday"},
		{"2026-01-18", false, "Sunday"},
		{"2026-07-03", true, "Friday before a Saturday Independence Day: the Fed is open"},
		{"2026-07-04", false, "a Saturday, holiday or not"},
		{"2027-06-18", true, "Friday before a Saturday Juneteenth"},
		{"2027-12-24", true, "Friday before a Saturday Christmas"},
		{"2027-12-31", true, "Friday before a Saturday New Year's Day 2028"},
		{"2021-12-31", true, "Friday before a Saturday New Year's Day 2022"},
		{"2027-07-05", false, "Independence Day on a Sunday, observed Monday"},
		{"2023-01-02", false, "New Year's Day on a Sunday, observed Monday"},
		{"2022-06-20", false, "Juneteenth on a Sunday, observed Monday"},
		{"2022-12-26", false, "Christmas on a Sunday, observed Monday"},
		{"2029-11-12", false, "Veterans Day on a Sunday, observed Monday"},
		{"2021-06-18", true, "Juneteenth 2021 became law too late for the Fed to close"},
		{"2020-06-19", true, "no Juneteenth holiday before 2022"},
		{"2024-12-24", true, "Christmas Eve is no holiday"},
		{"2025-11-28", true, "the day after Thanksgiving is no holiday"},
	} {
		if got := cal.IsBusinessDay(nyNoon(t, tc.day)); got != tc.business {
			t.Errorf("IsBusinessDay(%s) = %v, want %v: %s", tc.day, got, tc.business, tc.why)
		}
	}
}

// TestHolidayRulesForAnyYear checks the rules against their definitions,
// independently of how they are computed, far outside the years above.
func TestHolidayRulesForAnyYear(t *testing.T) {
	type rule struct {
		month      time.Month
		weekday    time.Weekday
		minDay     int
		maxDay     int
		holidayFor string
	}
	rules := []rule{
		{time.January, time.Monday, 15, 21, "Birthday of Martin Luther King, Jr."},
		{time.February, time.Monday, 15, 21, "Washington's Birthday"},
		{time.May, time.Monday, 25, 31, "Memorial Day"},
		{time.September, time.Monday, 1, 7, "Labor Day"},
		{time.October, time.Monday, 8, 14, "Columbus Day"},
		{time.November, time.Thursday, 22, 28, "Thanksgiving Day"},
	}
	fixed := map[string]string{
		"01-01": "New Year's Day", "06-19": "Juneteenth National Independence Day",
		"07-04": "Independence Day", "11-11": "Veterans Day", "12-25": "Christmas Day",
	}
	cal := clock.NewCalendar(time.UTC)
	for year := 1990; year <= 2200; year++ {
		got := map[string]time.Time{}
		for _, h := range cal.Holidays(year) {
			if h.Date.Year() != year {
				t.Fatalf("%d: %s moved into %d", year, h.Name, h.Date.Year())
			}
			if wd := h.Date.Weekday(); wd == time.Saturday || wd == time.Sunday {
				t.Fatalf("%d: %s closes the Fed on a %s", year, h.Name, wd)
			}
			got[h.Name] = h.Date
		}
		for _, r := range rules {
			d, ok := got[r.holidayFor]
			if !ok || d.Month() != r.month || d.Weekday() != r.weekday || d.Day() < r.minDay || d.Day() > r.maxDay {
				t.Fatalf("%d: %s on %s", year, r.holidayFor, d.Format(time.DateOnly))
			}
		}
		for monthDay, name := range fixed {
			on, _ := time.Parse(time.DateOnly, fmt.Sprintf("%04d-%s", year, monthDay))
			d, ok := got[name]
			switch {
			case name == "Juneteenth National Independence Day" && year < 2022:
				if ok {
					t.Fatalf("%d: Juneteenth before 2022", year)
				}
			case on.Weekday() == time.Saturday:
				if ok {
					t.Fatalf("%d: %s on a Saturday is observed on %s", year, name, d.Format(time.DateOnly))
				}
			case on.Weekday() == time.Sunday:
				if !ok || !d.Equal(on.AddDate(0, 0, 1)) {
					t.Fatalf("%d: %s on a Sunday is observed on %s, want the Monday", year, name, d.Format(time.DateOnly))
				}
			default:
				if !ok || !d.Equal(on) {
					t.Fatalf("%d: %s observed on %s, want %s", year, name, d.Format(time.DateOnly), on.Format(time.DateOnly))
				}
			}
		}
	}
}

func TestTheCalendarLocationDecidesTheDate(t *testing.T) {
	// 02:00 UTC on Tuesday 2026-01-20 is still Monday evening, MLK Day, in
	// New York.
	instant := time.Date(2026, 1, 20, 2, 0, 0, 0, time.UTC)
	if clock.FedCalendar().IsBusinessDay(instant) {
		t.Error("in New York the instant is on MLK Day")
	}
	if !clock.NewCalendar(time.UTC).IsBusinessDay(instant) {
		t.Error("in UTC the instant is on an ordinary Tuesday")
	}
	if (clock.Calendar{}).Location() != clock.FedCalendar().Location() {
		t.Error("the zero Calendar must be the Fed's")
	}
	if (clock.Calendar{}).IsBusinessDay(instant) {
		t.Error("the zero Calendar must judge dates in New York")
	}
	defer func() {
		if recover() == nil {
			t.Error("NewCalendar(nil) did not panic")
		}
	}()
	clock.NewCalendar(nil)
}

func TestAddBusinessDays(t *testing.T) {
	cal := clock.FedCalendar()
	ny := cal.Location()
	for _, tc := range []struct {
		from string // New York wall time
		n    int
		want string // New York wall time
		why  string
	}{
		{"2026-01-14 10:00", 0, "2026-01-14 10:00", "zero days"},
		{"2026-01-17 10:00", 0, "2026-01-17 10:00", "zero days from a Saturday stays put"},
		{"2026-01-14 10:00", 1, "2026-01-15 10:00", "an ordinary week"},
		{"2026-01-14 10:00", 2, "2026-01-16 10:00", "an ordinary week"},
		{"2026-01-16 10:00", 1, "2026-01-20 10:00", "weekend, then MLK Day"},
		{"2026-01-17 10:00", 1, "2026-01-20 10:00", "from a Saturday: the first business day after it"},
		{"2026-01-19 10:00", 1, "2026-01-20 10:00", "from a holiday: the first business day after it"},
		{"2025-11-26 16:45", 1, "2025-11-28 16:45", "over Thanksgiving"},
		{"2026-07-02 09:00", 1, "2026-07-03 09:00", "Friday July 3, 2026 is a business day"},
		{"2026-07-03 09:00", 1, "2026-07-06 09:00", "a Saturday holiday costs nothing extra"},
		{"2027-07-01 09:00", 2, "2027-07-06 09:00", "Sunday July 4, 2027 closes Monday July 5"},
		{"2025-12-24 12:00", 3, "2025-12-30 12:00", "over Christmas"},
		{"2024-12-20 08:30", 10, "2025-01-07 08:30", "over Christmas and New Year"},
		{"2026-03-02 09:00", 5, "2026-03-09 09:00", "across the start of daylight saving"},
		{"2026-10-30 23:59", 1, "2026-11-02 23:59", "across the end of daylight saving"},
	} {
		from, want := nyTime(t, tc.from), nyTime(t, tc.want)
		got := cal.AddBusinessDays(from, tc.n)
		if !got.Equal(want) {
			t.Errorf("AddBusinessDays(%s, %d) = %s, want %s: %s", tc.from, tc.n, got.In(ny).Format(time.DateTime), tc.want, tc.why)
		}
		if n := cal.BusinessDaysBetween(from, got); n != tc.n {
			t.Errorf("BusinessDaysBetween(%s, %s) = %d, want %d", tc.from, tc.want, n, tc.n)
		}
		if tc.n == 1 && !cal.NextBusinessDay(from).Equal(want) {
			t.Errorf("NextBusinessDay(%s) = %s, want %s", tc.from, cal.NextBusinessDay(from), tc.want)
		}
	}
}

func TestAddBusinessDaysKeepsTheCallersLocation(t *testing.T) {
	cal := clock.FedCalendar()
	// 03:00 UTC on Saturday 2026-01-17 is Friday 22:00 in New York; the next
	// business day there is Tuesday (MLK Day), at 22:00 New York time.
	from := time.Date(2026, 1, 17, 3, 0, 0, 0, time.UTC)
	got := cal.AddBusinessDays(from, 1)
	want := time.Date(2026, 1, 21, 3, 0, 0, 0, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("got %s, want %s in UTC", got, want)
	}
	// Across the start of daylight saving the New York wall time is kept, so
	// the UTC time moves by an hour.
	got = cal.AddBusinessDays(time.Date(2026, 3, 6, 14, 0, 0, 0, time.UTC), 1)
	if want := time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("across daylight saving: got %s, want %s", got, want)
	}
}

func TestAddBusinessDaysRefusesNegativeDays(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("AddBusinessDays(t, -1) did not panic")
		}
	}()
	clock.FedCalendar().AddBusinessDays(time.Now(), -1)
}

func TestBusinessDaysBetween(t *testing.T) {
	cal := clock.FedCalendar()
	for _, tc := range []struct {
		from, to string // New York wall times
		want     int
	}{
		{"2026-01-14 09:00", "2026-01-14 17:00", 0},
		{"2026-01-14 17:00", "2026-01-14 09:00", 0},
		{"2026-01-16 09:00", "2026-01-17 09:00", 0}, // Friday to Saturday
		{"2026-01-17 09:00", "2026-01-18 09:00", 0}, // the weekend
		{"2026-01-16 23:00", "2026-01-20 01:00", 1}, // over MLK Day
		{"2026-01-20 01:00", "2026-01-16 23:00", -1},
		{"2025-11-30 00:00", "2026-01-01 00:00", 22},  // December 2025: 23 weekdays less Christmas
		{"2026-01-01 00:00", "2027-01-01 00:00", 251}, // 260 weekdays after New Year, 9 of them holidays
	} {
		if got := cal.BusinessDaysBetween(nyTime(t, tc.from), nyTime(t, tc.to)); got != tc.want {
			t.Errorf("BusinessDaysBetween(%s, %s) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestBusinessDaysBetweenUndoesAddBusinessDays checks the stated inverse for
// every start date of two years, business day or not.
func TestBusinessDaysBetweenUndoesAddBusinessDays(t *testing.T) {
	cal := clock.FedCalendar()
	from := nyTime(t, "2026-01-01 13:00")
	for day := 0; day < 2*365; day++ {
		start := from.AddDate(0, 0, day)
		for n := range 12 {
			end := cal.AddBusinessDays(start, n)
			if got := cal.BusinessDaysBetween(start, end); got != n {
				t.Fatalf("from %s: BusinessDaysBetween after adding %d = %d", start, n, got)
			}
			if n > 0 && !cal.IsBusinessDay(end) {
				t.Fatalf("from %s: adding %d business days lands on %s", start, n, end)
			}
		}
	}
}

func nyTime(t *testing.T, wall string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02 15:04", wall, clock.FedCalendar().Location())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func nyNoon(t *testing.T, day string) time.Time {
	t.Helper()
	return nyTime(t, day+" 12:00")
}
