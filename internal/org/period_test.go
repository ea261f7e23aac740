package org_test

import (
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/org"
)

func TestAuditPeriodAt(t *testing.T) {
	day := func(s string) *time.Time { d, _ := time.Parse(time.DateOnly, s); return &d }
	type1 := org.Certification{Framework: "SOC 2", Type: "Type 1", ReportDate: day("2026-03-01")}
	lastYear := org.Certification{Framework: "SOC 2", Type: "Type 2", PeriodStart: day("2025-01-01"), PeriodEnd: day("2025-12-31")}
	thisYear := org.Certification{Framework: "SOC 2", Type: "Type 2", PeriodStart: day("2026-01-01"), PeriodEnd: day("2026-12-31")}
	iso := org.Certification{Framework: "ISO 27001", PeriodStart: day("2026-06-01"), PeriodEnd: day("2027-05-31")}
	tests := []struct {
		name        string
		certs       []org.Certification
		now         string
		first, last string // "" when no period is under way
	}{
		{"no certification", nil, "2026-12-07", "", ""},
		{"no period recorded", []org.Certification{type1}, "2026-12-07", "", ""},
		{"only a past period", []org.Certification{lastYear}, "2026-12-07", "", ""},
		{"the period holding today", []org.Certification{lastYear, thisYear}, "2026-12-07", "2026-01-01", "2026-12-31"},
		{"its first day", []org.Certification{thisYear}, "2026-01-01", "2026-01-01", "2026-12-31"},
		{"its last day", []org.Certification{thisYear}, "2026-12-31", "2026-01-01", "2026-12-31"},
		{"the latest started of two", []org.Certification{iso, thisYear}, "2026-12-07", "2026-06-01", "2027-05-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &org.Organization{Certifications: tt.certs}
			first, last, ok := o.AuditPeriodAt(day(tt.now).Add(15 * time.Hour))
			got := ""
			if ok {
				got = first.Format(time.DateOnly) + " " + last.Format(time.DateOnly)
			}
			if want := tt.first + " " + tt.last; got != want && !(got == "" && tt.first == "") {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
