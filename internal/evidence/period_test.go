package evidence_test

import (
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/evidence"
)

func TestDefaultPeriod(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	audit := &evidence.Period{From: day("2026-04-01"), To: day("2027-03-31")}
	tests := []struct {
		name     string
		now      time.Time
		audit    *evidence.Period
		from, to string
	}{
		{"the audit period under way", time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC), audit, "2026-04-01", "2027-03-31"},
		{"else the year to date", time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC), nil, "2026-01-01", "2026-12-07"},
		{"on 1 January, that one day", time.Date(2027, 1, 1, 0, 30, 0, 0, time.UTC), nil, "2027-01-01", "2027-01-01"},
		{"the day in UTC", time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)), nil, "2027-01-01", "2027-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := evidence.DefaultPeriod(tt.now, tt.audit)
			if got := p.From.Format(time.DateOnly) + " " + p.To.Format(time.DateOnly); got != tt.from+" "+tt.to {
				t.Errorf("got %s, want %s %s", got, tt.from, tt.to)
			}
		})
	}
}
