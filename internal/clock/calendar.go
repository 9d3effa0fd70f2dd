package clock

import "time"

// newYork is where the Federal Reserve's business day is judged: its
// holidays and weekends are days in New York.
var newYork = mustLoadLocation("America/New_York")

// Calendar counts US Federal Reserve business days: Monday to Friday, except
// the days the Federal Reserve Banks close for a holiday (see Holidays).
//
// A business day is a calendar date, but Poise holds instants, so a Calendar
// has a location that decides which date an instant falls on: 02:00 UTC on a
// Tuesday is still Monday evening in New York. FedCalendar judges dates in
// America/New_York, as the Fed does; NewCalendar lets a caller judge them
// where its rule says (the ACH cut-off, for one, is a Pacific Time rule). The
// location never changes which dates are holidays, only which date an
// instant is on.
//
// The zero Calendar is FedCalendar. A Calendar is a small value, safe for
// concurrent use.
type Calendar struct {
	loc *time.Location
}

// FedCalendar returns the Federal Reserve's calendar, judging dates in
// America/New_York.
func FedCalendar() Calendar { return Calendar{loc: newYork} }

// NewCalendar returns the Federal Reserve's business-day calendar judging
// the date of an instant in loc. A nil loc panics: the point of calling
// NewCalendar is to say the zone, and a silent default would hide a caller
// that forgot to.
func NewCalendar(loc *time.Location) Calendar {
	if loc == nil {
		panic("clock: NewCalendar with a nil location")
	}
	return Calendar{loc: loc}
}

// Location returns the zone in which the calendar reads dates.
func (c Calendar) Location() *time.Location {
	if c.loc == nil {
		return newYork
	}
	return c.loc
}

// Holiday is a day the Federal Reserve Banks are closed for a holiday.
type Holiday struct {
	Name string
	// Date is midnight, in the calendar's location, of the day the Fed is
	// closed: the observed day, which for a Sunday holiday is the Monday after.
	Date time.Time
}

// Holidays returns the days of year on which the Federal Reserve is closed
// for a holiday, in date order. They are computed by rule for any year:
//
//   - New Year's Day, January 1
//   - Birthday of Martin Luther King, Jr., third Monday in January
//   - Washington's Birthday, third Monday in February
//   - Memorial Day, last Monday in May
//   - Juneteenth National Independence Day, June 19, from 2022
//   - Independence Day, July 4
//   - Labor Day, first Monday in September
//   - Columbus Day, second Monday in October
//   - Veterans Day, November 11
//   - Thanksgiving Day, fourth Thursday in November
//   - Christmas Day, December 25
//
// A holiday on a Sunday is observed on the Monday after. A holiday on a
// Saturday is not observed: the Fed, unlike most federal offices, stays open
// the Friday before, so such a holiday is absent from the list and its
// Saturday is simply a weekend day.
func (c Calendar) Holidays(year int) []Holiday {
	loc := c.Location()
	hs, n := fedHolidaysOf(year)
	out := make([]Holiday, 0, n)
	for _, h := range hs[:n] {
		closed, ok := observedClosure(h.on)
		if !ok {
			continue
		}
		out = append(out, Holiday{
			Name: h.name,
			Date: time.Date(closed.year, closed.month, closed.day, 0, 0, 0, 0, loc),
		})
	}
	return out
}

// HolidayOn reports whether the Fed is closed for a holiday on the date of t
// in the calendar's location, and which holiday.
func (c Calendar) HolidayOn(t time.Time) (name string, ok bool) {
	return fedHolidayClosedOn(dateOf(t, c.Location()))
}

// IsBusinessDay reports whether the date of t, in the calendar's location, is
// a Federal Reserve business day.
func (c Calendar) IsBusinessDay(t time.Time) bool {
	return isBusinessDate(dateOf(t, c.Location()))
}

// AddBusinessDays returns the instant at the same wall-clock time, in the
// calendar's location, as t, on the n-th business day after the date of t.
// Only business days strictly after t's date count, whether or not that date
// is itself a business day: from a Friday or a Saturday, one business day is
// the Monday (if it is not a holiday). n == 0 returns t unchanged.
//
// Keeping the time of day makes "n business days later" the same number of
// hours in every week but for weekends and holidays, which is how a delay
// such as "succeeded 3 business days after the batch" reads. Should that wall
// time not exist on the target date (a daylight-saving gap), time.Date's
// normalization applies; in the US the clocks change on Sundays, never on a
// business day.
//
// The result is in t's location. n must not be negative: counting backwards
// has no use in Poise, and a negative n is a caller's bug, so it panics. The
// work is linear in n.
func (c Calendar) AddBusinessDays(t time.Time, n int) time.Time {
	if n < 0 {
		panic("clock: AddBusinessDays with a negative number of days")
	}
	if n == 0 {
		return t
	}
	loc := c.Location()
	local := t.In(loc)
	d := dateOf(t, loc)
	for n > 0 {
		d = d.addDays(1)
		if isBusinessDate(d) {
			n--
		}
	}
	h, m, s := local.Clock()
	return time.Date(d.year, d.month, d.day, h, m, s, local.Nanosecond(), loc).In(t.Location())
}

// NextBusinessDay returns the same wall-clock time on the first business day
// after the date of t, as in "submitted for processing at 3:30 PM the next
// business day". It is AddBusinessDays(t, 1), named for how rules read.
func (c Calendar) NextBusinessDay(t time.Time) time.Time {
	return c.AddBusinessDays(t, 1)
}

// BusinessDaysBetween counts the business days whose date lies after the date
// of from and on or before the date of to, in the calendar's location: the
// interval is (from, to], so that
//
//	BusinessDaysBetween(t, AddBusinessDays(t, n)) == n
//
// for every t and every n >= 0, and a transfer made on a business day has
// waited 0 business days that same day. Times of day are ignored. When to is
// before from, the count is negative: -BusinessDaysBetween(to, from). The
// work is linear in the number of days between them.
func (c Calendar) BusinessDaysBetween(from, to time.Time) int {
	loc := c.Location()
	a, b := dateOf(from, loc), dateOf(to, loc)
	sign := 1
	if b.before(a) {
		a, b, sign = b, a, -1
	}
	count := 0
	for d := a.addDays(1); !b.before(d); d = d.addDays(1) {
		if isBusinessDate(d) {
			count++
		}
	}
	return sign * count
}
