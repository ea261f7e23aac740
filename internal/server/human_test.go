package server

import (
	"testing"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/people"
)

func TestHuman(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"in_progress", "In progress"},
		{people.CheckNotStarted, "Not started"}, // a named string type
		{"medium", "Medium"},                    // the seed's "Severity: Low / Medium / Critical"
		{"fixed", "Fixed"},                      // and "Status: Reported / Fixed / Resolved"
		{"critical", "Critical"},
		{"on_request", "On request"},
		{"soc2_report", "SOC 2 report"},
		{"iso_certificate", "ISO certificate"},
		{"pentest_summary", "Penetration test summary"},
		{"uk_gdpr", "UK GDPR"},
		{"ccpa", "CCPA/CPRA"},
		{"api", "API"},
		{"eu_us_dpf", "EU-US Data Privacy Framework"},
		{"start-verifying", "Start verifying"},
		{auth.Auditor, "Auditor"},
		{"public form", "public form"}, // written text is shown as it is
		{"Type 2", "Type 2"},
		{"EU", "EU"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := human(tt.in); got != tt.want {
			t.Errorf("human(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
