package calendar_test

import (
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/calendar"
)

func TestAddMonths(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	cases := []struct {
		from   string
		months int
		want   string
	}{
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"}, // leap year
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-05-15", 12, "2027-05-15"},
		{"2028-02-29", 12, "2029-02-28"},
		{"2026-11-30", 3, "2027-02-28"},
		{"2026-08-31", -6, "2026-02-28"},
	}
	for _, c := range cases {
		if got := calendar.AddMonths(d(c.from), c.months); !got.Equal(d(c.want)) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", c.from, c.months, got.Format(time.DateOnly), c.want)
		}
	}
	at := time.Date(2026, 1, 31, 17, 45, 0, 0, time.UTC)
	if got := calendar.AddMonths(at, 1); got != time.Date(2026, 2, 28, 17, 45, 0, 0, time.UTC) {
		t.Errorf("time of day not kept: %s", got)
	}
}
