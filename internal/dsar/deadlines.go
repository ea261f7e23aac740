// Package dsar keeps the register of data subject requests under GDPR, UK
// GDPR and CCPA/CPRA: each request's legal deadlines, its verification,
// extension and outcome, the yearly figures the CCPA regulations ask larger
// businesses to publish, and the redaction of requester details once a
// closed request has been kept long enough.
package dsar

import (
	"time"

	"github.com/charter-registry/charter/internal/calendar"
)

// Laws a request can be made under.
const (
	GDPR   = "gdpr"
	UKGDPR = "uk_gdpr"
	CCPA   = "ccpa"
)

// day is t's calendar date (UTC midnight).
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Deadline is the last day to respond to a request received at received:
//   - GDPR and UK GDPR (Art. 12(3)): one month from receipt, to the same
//     day of the next month or that month's last day when it has no such
//     day; extended, two further months (three in all);
//   - CCPA (Cal. Code Regs. tit. 11 § 7021): 45 calendar days; extended
//     once, 45 more (90 in all).
func Deadline(law string, received time.Time, extended bool) time.Time {
	r := day(received)
	if law == CCPA {
		if extended {
			return r.AddDate(0, 0, 90)
		}
		return r.AddDate(0, 0, 45)
	}
	if extended {
		return calendar.AddMonths(r, 3)
	}
	return calendar.AddMonths(r, 1)
}

// AckDeadline is the last day to confirm receipt of a CCPA request: ten
// business days (Monday to Friday) after receipt. Other laws have none.
func AckDeadline(law string, received time.Time) (time.Time, bool) {
	if law != CCPA {
		return time.Time{}, false
	}
	d := day(received)
	for n := 0; n < 10; {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return d, true
}

// DueSoonDays is when an open request counts as due soon.
const DueSoonDays = 7

// Timing is an open request's standing against its deadline on today.
func Timing(deadline, today time.Time) string {
	t := day(today)
	switch {
	case t.After(deadline):
		return "overdue"
	case !t.Before(deadline.AddDate(0, 0, -DueSoonDays)):
		return "due soon"
	}
	return "on time"
}
