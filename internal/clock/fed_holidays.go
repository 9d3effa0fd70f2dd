package clock

import "time"

// date is a calendar date with no time of day and no zone: the thing a
// holiday falls on. Instants become dates only through a Calendar's or the
// ACH cut-off's location.
type date struct {
	year  int
	month time.Month
	day   int
}

func dateOf(t time.Time, loc *time.Location) date {
	y, m, d := t.In(loc).Date()
	return date{y, m, d}
}

// addDays works on the date in UTC, where every day is 24 hours long, so that
// daylight-saving changes in the caller's zone cannot skip or repeat a date.
func (d date) addDays(n int) date {
	y, m, dd := time.Date(d.year, d.month, d.day+n, 0, 0, 0, 0, time.UTC).Date()
	return date{y, m, dd}
}

func (d date) weekday() time.Weekday {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC).Weekday()
}

func (d date) before(e date) bool {
	if d.year != e.year {
		return d.year < e.year
	}
	if d.month != e.month {
		return d.month < e.month
	}
	return d.day < e.day
}

// juneteenthFirstYear is the first year the Federal Reserve Banks closed for
// Juneteenth. The holiday became law on 2021-06-17, too late for the Fed to
// close that year, and dates of 2021 are recent enough to appear in real data.
// The other holidays are applied by today's rules to every year: their rules
// last changed in 1971 (Monday holidays) and 1986 (MLK Day), long before any
// money Poise will hold.
const juneteenthFirstYear = 2022

// fedHolidayCount is the number of Federal Reserve holidays in a year.
const fedHolidayCount = 11

type fedHoliday struct {
	name string
	// on is the date the holiday falls on by its rule, before observance.
	on date
}

// fedHolidaysOf returns the year's holidays by rule (not yet moved for
// weekends), in date order. An array, not a slice: IsBusinessDay runs this
// for every date it judges and should not allocate.
func fedHolidaysOf(year int) (hs [fedHolidayCount]fedHoliday, n int) {
	add := func(name string, on date) {
		hs[n] = fedHoliday{name, on}
		n++
	}
	add("New Year's Day", date{year, time.January, 1})
	add("Birthday of Martin Luther King, Jr.", nthWeekday(year, time.January, time.Monday, 3))
	add("Washington's Birthday", nthWeekday(year, time.February, time.Monday, 3))
	add("Memorial Day", lastWeekday(year, time.May, time.Monday))
	if year >= juneteenthFirstYear {
		add("Juneteenth National Independence Day", date{year, time.June, 19})
	}
	add("Independence Day", date{year, time.July, 4})
	add("Labor Day", nthWeekday(year, time.September, time.Monday, 1))
	add("Columbus Day", nthWeekday(year, time.October, time.Monday, 2))
	add("Veterans Day", date{year, time.November, 11})
	add("Thanksgiving Day", nthWeekday(year, time.November, time.Thursday, 4))
	add("Christmas Day", date{year, time.December, 25})
	return hs, n
}

// observedClosure returns the date the Federal Reserve is closed for a
// holiday, by the Fed's rule: a Sunday holiday is observed the Monday after;
// a Saturday holiday is not observed at all (the Banks are open the Friday
// before, unlike most federal offices), so ok is false and that Saturday is
// just a weekend day. The Fed's rule never moves a holiday into another year.
func observedClosure(on date) (closed date, ok bool) {
	switch on.weekday() {
	case time.Saturday:
		return date{}, false
	case time.Sunday:
		return on.addDays(1), true
	default:
		return on, true
	}
}

// fedHolidayClosedOn returns the name of the holiday for which the Federal
// Reserve is closed on d, if any.
func fedHolidayClosedOn(d date) (name string, ok bool) {
	hs, n := fedHolidaysOf(d.year)
	for _, h := range hs[:n] {
		if closed, observed := observedClosure(h.on); observed && closed == d {
			return h.name, true
		}
	}
	return "", false
}

func isBusinessDate(d date) bool {
	switch d.weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	_, holiday := fedHolidayClosedOn(d)
	return !holiday
}

// nthWeekday returns the n-th (1-based) given weekday of a month.
func nthWeekday(year int, month time.Month, wd time.Weekday, n int) date {
	first := date{year, month, 1}.weekday()
	return date{year, month, 1 + int(wd-first+7)%7 + 7*(n-1)}
}

// lastWeekday returns the last given weekday of a month.
func lastWeekday(year int, month time.Month, wd time.Weekday) date {
	// Day 0 of the next month is the last day of this one.
	y, m, last := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Date()
	lastWd := date{y, m, last}.weekday()
	return date{y, m, last - int(lastWd-wd+7)%7}
}
