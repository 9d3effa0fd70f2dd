package balances

import "time"

// ScheduleRunAt is the n-th run of a schedule: weekly every 7 days from the first
// date; monthly on the first date's day of the month, or the month's last
// day when it is shorter (a schedule on the 31st runs on 28 or 29
// February), always at the first date's time of day.
func ScheduleRunAt(period string, first time.Time, n int) time.Time {
	if period == "weekly" {
		return first.AddDate(0, 0, 7*n)
	}
	y, m, d := first.Date()
	month := time.Date(y, m+time.Month(n), 1, first.Hour(), first.Minute(), first.Second(), 0, first.Location())
	last := month.AddDate(0, 1, -1).Day()
	return month.AddDate(0, 0, min(d, last)-1)
}
