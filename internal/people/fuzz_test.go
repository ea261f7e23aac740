package people_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/people"
)

// FuzzParseEmployeesCSV: any file parses without panicking, and every row
// it accepts is valid and unique.
func FuzzParseEmployeesCSV(f *testing.F) {
	f.Add("email,name,start_date\nana@example.com,Ana,2024-02-01\n")
	f.Add("email,name,start_date,end_date,country\nana@example.com,Ana,2024-02-01,2024-01-01,GB\nANA@example.com,A,2024-02-01,,XX\n")
	f.Add("\ufeffemail;name\n\"unterminated,quote\n")
	f.Add("email,email\n=cmd,@x\n")
	f.Fuzz(func(t *testing.T, data string) {
		rows, errs := people.ParseEmployeesCSV(check.New(), strings.NewReader(data))
		seen := map[string]bool{}
		for _, r := range rows {
			if _, fieldErrs := r.Input.Parse(check.New()); fieldErrs != nil {
				t.Fatalf("accepted an invalid row: %+v %v", r, fieldErrs)
			}
			email := notify.NormalizeAddress(r.Input.Email)
			if seen[email] {
				t.Fatalf("accepted %s twice", email)
			}
			seen[email] = true
		}
		for _, e := range errs {
			if e.Reason == "" {
				t.Fatalf("an error without a reason: %+v", e)
			}
		}
	})
}

// FuzzParseAcknowledgementsCSV: no panic, and no acknowledgement dated in
// the future is accepted.
func FuzzParseAcknowledgementsCSV(f *testing.F) {
	f.Add("email,policy,version,acknowledged_at\nana@example.com,backup,1.0,2024-02-01T10:00:00Z\n")
	f.Add("email,policy,version,acknowledged_at\nana@example.com,backup,1,2099-01-01\n")
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data string) {
		rows, _ := people.ParseAcknowledgementsCSV(strings.NewReader(data), now)
		for _, r := range rows {
			if r.AcknowledgedAt.After(now) {
				t.Fatalf("accepted a future acknowledgement: %+v", r)
			}
		}
	})
}

// FuzzParseTrainingCSV: no panic, every accepted row has an email and a
// course, and every refusal says why.
func FuzzParseTrainingCSV(f *testing.F) {
	f.Add("email,course,completed_on,source\nana@example.com,Security awareness,2025-11-02,KnowBe4\n")
	f.Add("email,course,completed_on\nana@example.com,,2099-01-01\nnot-an-email,X,2025-13-40\n")
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data string) {
		rows, errs := people.ParseTrainingCSV(check.New(), strings.NewReader(data), today)
		for _, r := range rows {
			if r.Email == "" || strings.TrimSpace(r.Input.Course) == "" {
				t.Fatalf("accepted an incomplete row: %+v", r)
			}
		}
		for _, e := range errs {
			if e.Reason == "" {
				t.Fatalf("an error without a reason: %+v", e)
			}
		}
	})
}
