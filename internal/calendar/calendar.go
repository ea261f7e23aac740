// Package calendar does the date arithmetic that review intervals, training
// recurrences and deadlines share.
package calendar

import "time"

// AddMonths moves t by n calendar months, keeping the time of day and
// clamping to the month's last day: 31 January plus one month is 28 or 29
// February, not 2 or 3 March.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}
