package search_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/search"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// fill writes a few records of the registers searched, straight into
// their tables: the search reads them and nothing else.
func fill(t *testing.T, st *store.Store) {
	t.Helper()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	stmts := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO employees (email, name, employment_type, start_date, created_at, updated_at) VALUES (?, ?, 'employee', ?, ?, ?)`,
			[]any{"ana.lima@example.com", "Ana Lima", now, now, now}},
		{`INSERT INTO employees (email, name, employment_type, start_date, created_at, updated_at) VALUES (?, ?, 'employee', ?, ?, ?)`,
			[]any{"bo@example.com", "Bo 100% Sure_Thing", now, now, now}},
		{`INSERT INTO policies (slug, title, owner_role, review_interval_months, created_at, updated_at) VALUES (?, ?, 'CTO', 12, ?, ?)`,
			[]any{"backup", "Backup Policy", now, now}},
		{`INSERT INTO policy_exceptions (policy_id, section, scope, reason, compensating_controls, state, expires_on, requested_by_id, requested_by, requested_at, updated_at)
			VALUES ((SELECT id FROM policies WHERE slug = 'backup'), ?, ?, 'Rebuilt nightly', 'Source data backed up', 'approved', ?, 1, 'ana@example.com', ?, ?)`,
			[]any{"2 Retention", "Analytics replicas", now.AddDate(0, 3, 0), now, now}},
		{`INSERT INTO dpas (direction, counterparty, contact_email, status, created_at, updated_at) VALUES ('customer', ?, ?, 'signed', ?, ?)`,
			[]any{"Globex Corporation", "legal@globex.example", now, now}},
		{`INSERT INTO privacy_requests (reference, received_at, channel, law, request_type, requester_name, requester_email, status, created_at, updated_at)
			VALUES (?, ?, 'email', 'gdpr', 'access', ?, ?, 'received', ?, ?)`,
			[]any{"DSAR-2026-0007", now, "Carla Diaz", "carla@example.org", now, now}},
		{`INSERT INTO questionnaire_answers (question, answer, access, owner_email, state, author, created_at, updated_at)
			VALUES (?, ?, 'public', 'sec@example.com', 'approved', 'sec@example.com', ?, ?)`,
			[]any{"Do you encrypt data at rest?", "Yes, with AES-256 keys held in a KMS.", now, now}},
	}
	for _, s := range stmts {
		if err := st.DB.Exec(s.sql, s.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// titles lists the hits as "kind: title".
func titles(groups []search.Group) []string {
	var out []string
	for _, g := range groups {
		for _, h := range g.Hits {
			out = append(out, fmt.Sprintf("%s: %s", g.Kind, h.Title))
		}
	}
	return out
}

func TestFind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fill(t, st)
		svc := search.NewService(st.DB)
		for _, c := range []struct {
			name string
			role auth.Role
			q    string
			want []string
		}{
			{"an employee by an email fragment", auth.Viewer, "LIMA@EXAM", []string{"employees: Ana Lima"}},
			{"a DPA by its customer's name", auth.Viewer, "globex", []string{"dpas: Globex Corporation"}},
			{"a DPA by its contact's email", auth.Viewer, "legal@glob", []string{"dpas: Globex Corporation"}},
			{"a privacy request by its reference", auth.Editor, "dsar-2026-0007", []string{"privacy_requests: DSAR-2026-0007"}},
			{"a privacy request by the requester's email", auth.Admin, "carla@", []string{"privacy_requests: DSAR-2026-0007"}},
			{"a policy by its title", auth.Viewer, "backup pol", []string{"policies: Backup Policy"}},
			{"a policy exception by its scope", auth.Viewer, "analytics rep", []string{"exceptions: Analytics replicas"}},
			{"a policy exception by its section", auth.Viewer, "2 retention", []string{"exceptions: Analytics replicas"}},
			{"a questionnaire answer by its question", auth.Viewer, "ENCRYPT data", []string{"answers: Do you encrypt data at rest?"}},
			{"a questionnaire answer by its text", auth.Viewer, "aes-256", []string{"answers: Do you encrypt data at rest?"}},
			{"no privacy request for a viewer", auth.Viewer, "DSAR-2026", nil},
			{"no privacy request for an auditor", auth.Auditor, "carla", nil},
			{"% is literal", auth.Viewer, "100%", []string{"employees: Bo 100% Sure_Thing"}},
			{"% alone matches only a %", auth.Viewer, "%", []string{"employees: Bo 100% Sure_Thing"}},
			{"_ is literal", auth.Viewer, "e_t", []string{"employees: Bo 100% Sure_Thing"}},
			{"_ does not match any character", auth.Viewer, "an_ lima", nil},
			{"a backslash is literal", auth.Viewer, `\`, nil},
			{"a blank query finds nothing", auth.Admin, "   ", nil},
			{"no match", auth.Admin, "nothing like this", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				groups, err := svc.Find(context.Background(), c.role, c.q)
				if err != nil {
					t.Fatal(err)
				}
				got := titles(groups)
				if fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Errorf("Find(%s, %q) = %q, want %q", c.role, c.q, got, c.want)
				}
			})
		}
	})
}

// TestFindBoundsEachKind: a kind with many matches shows PerKind of them
// and says there are more.
func TestFindBoundsEachKind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for i := range search.PerKind + 2 {
			if err := st.DB.Exec(`INSERT INTO employees (email, name, employment_type, start_date, created_at, updated_at) VALUES (?, ?, 'employee', ?, ?, ?)`,
				fmt.Sprintf("p%02d@example.com", i), fmt.Sprintf("Person %02d", i), now, now, now).Error; err != nil {
				t.Fatal(err)
			}
		}
		groups, err := search.NewService(st.DB).Find(context.Background(), auth.Viewer, "person")
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 1 || len(groups[0].Hits) != search.PerKind || !groups[0].More || groups[0].Hits[0].Key != "p00@example.com" {
			t.Fatalf("groups %+v", groups)
		}
	})
}
