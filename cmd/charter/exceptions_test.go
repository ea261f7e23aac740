package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/exception"
)

// TestExceptionsExpire: the command lapses an approved exception whose
// expiry has come, once, and refuses a bad reminder setting.
func TestExceptionsExpire(t *testing.T) {
	dir := dataDir(t)
	if code, out := charter(t, "seed"); code != 0 {
		t.Fatalf("seed: %d %s", code, out)
	}
	st := openStore(t, "sqlite://"+filepath.Join(dir, "charter.db"))
	var policyID int64
	if err := st.DB.Table("policies").Select("id").Where("slug = ?", "password").Scan(&policyID).Error; err != nil || policyID == 0 {
		t.Fatalf("password policy: %d %v", policyID, err)
	}
	now := time.Now().UTC()
	approved := now.AddDate(0, -1, 0)
	due := exception.Exception{PolicyID: policyID, Scope: "bill-01", Reason: "vendor", CompensatingControls: "isolation", State: exception.Approved,
		ExpiresOn: now.Truncate(24 * time.Hour), RequestedByID: 1, RequestedBy: "ana@example.com", RequestedAt: approved, ApprovedAt: &approved,
		DecidedBy: "ben@example.com", DecidedAt: &approved, UpdatedAt: approved}
	if err := st.DB.Create(&due).Error; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 exception(s) lapsed, 0 reminded", "0 exception(s) lapsed, 0 reminded"} {
		if code, out := charter(t, "exceptions", "expire"); code != 0 || !strings.Contains(out, want) {
			t.Fatalf("exceptions expire: %d %s, want %q", code, out, want)
		}
	}
	var state string
	st.DB.Table("policy_exceptions").Select("state").Where("id = ?", due.ID).Scan(&state)
	if state != string(exception.Lapsed) {
		t.Fatalf("state %q after expire", state)
	}
	if code, out := charter(t, "exceptions", "expire", "--exception-reminder-days", "0"); code == 0 || !strings.Contains(out, "exception-reminder-days") {
		t.Fatalf("a reminder 0 days ahead: %d %s", code, out)
	}
}
