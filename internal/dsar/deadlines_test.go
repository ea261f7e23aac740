package dsar_test

import (
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/dsar"
)

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDeadlines(t *testing.T) {
	cases := []struct {
		law      string
		received string
		extended bool
		want     string
	}{
		{dsar.GDPR, "2026-03-10", false, "2026-04-10"},
		{dsar.GDPR, "2026-01-31", false, "2026-02-28"}, // no 31 February
		{dsar.GDPR, "2028-01-31", false, "2028-02-29"}, // leap year
		{dsar.GDPR, "2028-02-29", false, "2028-03-29"},
		{dsar.UKGDPR, "2026-12-31", false, "2027-01-31"}, // across the year
		{dsar.UKGDPR, "2026-08-31", false, "2026-09-30"},
		{dsar.GDPR, "2026-01-31", true, "2026-04-30"},  // three months in all
		{dsar.GDPR, "2027-11-30", true, "2028-02-29"},  // extension into a leap February
		{dsar.GDPR, "2026-11-30", true, "2027-02-28"},  // and a common one
		{dsar.CCPA, "2026-01-01", false, "2026-02-15"}, // 45 days
		{dsar.CCPA, "2028-02-01", false, "2028-03-17"}, // through 29 February
		{dsar.CCPA, "2026-12-20", false, "2027-02-03"},
		{dsar.CCPA, "2026-01-01", true, "2026-04-01"}, // 90 days in all
	}
	for _, c := range cases {
		// The time of day does not move the date.
		got := dsar.Deadline(c.law, d(c.received).Add(23*time.Hour+59*time.Minute), c.extended)
		if got.Format(time.DateOnly) != c.want {
			t.Errorf("%s received %s (extended %v): %s, want %s", c.law, c.received, c.extended, got.Format(time.DateOnly), c.want)
		}
	}
}

func TestCCPAAcknowledgementIsTenBusinessDays(t *testing.T) {
	cases := map[string]string{
		"2026-11-23": "2026-12-07", // Monday → Monday two weeks on
		"2026-11-27": "2026-12-11", // Friday
		"2026-11-28": "2026-12-11", // Saturday: counting starts Monday
		"2028-02-24": "2028-03-09", // across 29 February
	}
	for received, want := range cases {
		got, ok := dsar.AckDeadline(dsar.CCPA, d(received))
		if !ok || got.Format(time.DateOnly) != want {
			t.Errorf("received %s: %s, want %s", received, got.Format(time.DateOnly), want)
		}
	}
	if _, ok := dsar.AckDeadline(dsar.GDPR, d("2026-01-01")); ok {
		t.Error("GDPR has no acknowledgement deadline")
	}
}

func TestTiming(t *testing.T) {
	deadline := d("2026-04-10")
	for today, want := range map[string]string{"2026-04-01": "on time", "2026-04-03": "due soon", "2026-04-10": "due soon", "2026-04-11": "overdue"} {
		if got := dsar.Timing(deadline, d(today).Add(15*time.Hour)); got != want {
			t.Errorf("%s: %s, want %s", today, got, want)
		}
	}
}
