package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
	"gorm.io/gorm"
)

func TestEscapeCell(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://x")`: `'=HYPERLINK("http://x")`,
		"+1":                     "'+1",
		"-2":                     "'-2",
		"@SUM(A1)":               "'@SUM(A1)",
		"\tTab":                  "'\tTab",
		"\rCR":                   "'\rCR",
		"\x00nul":                "'\x00nul",
		"Ana":                    "Ana",
		"a=b":                    "a=b",
		"":                       "",
	} {
		if got := evidence.EscapeCell(in); got != want {
			t.Errorf("EscapeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// CSVWriter ends every record with CRLF and keeps a cell's own line
// breaks, a lone CR included, inside its quotes.
func TestCSVWriterEndsRecordsWithCRLF(t *testing.T) {
	var buf bytes.Buffer
	w := evidence.NewCSVWriter(&buf)
	for _, r := range [][]string{{"name", "note"}, {"Ana", "two\nlines"}, {"Ben", "a\rb"}, {"Cy", `say "hi", twice`}} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	want := "name,note\r\nAna,\"two\nlines\"\r\nBen,\"a\rb\"\r\nCy,\"say \"\"hi\"\", twice\"\r\n"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}

var planted = []string{`=HYPERLINK("http://x")`, "+1", "-2", "@SUM(A1)", "\tleading tab", "\rleading CR"}

func TestExportsAreEscapedAndRepeatable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		templates, _ := policy.LoadTemplates(policies.Files)
		pols := policy.NewService(st.DB, clock)
		if _, err := pols.Seed(ctx, audit.System("seed"), templates); err != nil {
			t.Fatal(err)
		}
		// Names and notes as an attacker might type them, stored directly.
		for i, name := range planted {
			e := people.Employee{Email: "p" + string(rune('a'+i)) + "@example.com", Name: name, Title: name, Department: "Eng", Country: "GB",
				EmploymentType: people.Staff, StartDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), CreatedAt: now, UpdatedAt: now}
			if err := st.DB.Create(&e).Error; err != nil {
				t.Fatal(err)
			}
			r, err := pols.RecordReview(ctx, audit.System("reviewer"), "backup", "review")
			if err != nil {
				t.Fatal(err)
			}
			// The dashboard trims notes; an import or an older version might not.
			if err := st.DB.Table("policy_reviews").Where("id = ?", r.ID).Update("note", name).Error; err != nil {
				t.Fatal(err)
			}
		}
		svc := evidence.NewService(st, clock, evidence.Rules{NewHireDays: 30, NewVersionDays: 30}, nil)
		period, err := evidence.ParsePeriod("2026-01-01", "2026-12-31")
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range []struct{ name, column string }{{"employees", "name"}, {"employees", "title"}, {"policy_reviews", "note"}} {
			var buf bytes.Buffer
			res, err := svc.Export(ctx, audit.System("auditor"), ds.name, period, evidence.Options{}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := -1
			for i, h := range rows[0] {
				if h == ds.column {
					col = i
				}
			}
			got := map[string]bool{}
			for _, r := range rows[1:] {
				got[r[col]] = true
			}
			for _, p := range planted {
				if !got["'"+p] {
					t.Errorf("%s.%s: %q is not exported as %q (got %v)", ds.name, ds.column, p, "'"+p, got)
				}
			}
			if res.Rows != int64(len(rows)-1) || len(res.SHA256) != 64 {
				t.Fatalf("result %+v for %d rows", res, len(rows)-1)
			}
		}
		// Every dataset exports twice to the same bytes, with a BOM on request.
		for _, name := range evidence.Names() {
			var a, b bytes.Buffer
			if _, err := svc.Export(ctx, audit.System("auditor"), name, period, evidence.Options{}, &a); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// Exports are audited, which changes the audit log itself;
			// compare the other datasets.
			if _, err := svc.Export(ctx, audit.System("auditor"), name, period, evidence.Options{}, &b); err != nil {
				t.Fatal(err)
			}
			if name != "audit_log" && !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s: two exports differ", name)
			}
			// RFC 4180: every record, the header row included, ends with
			// CRLF (no cell of this data holds a line break).
			rows, err := csv.NewReader(bytes.NewReader(a.Bytes())).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.HasSuffix(a.Bytes(), []byte("\r\n")) || bytes.Count(a.Bytes(), []byte("\r\n")) != len(rows) ||
				bytes.Count(a.Bytes(), []byte("\n")) != len(rows) {
				t.Errorf("%s: %d records, not each ending with CRLF", name, len(rows))
			}
		}
		// The audit log changes with every export (exports are audited), so
		// it repeats over a period that ended before them.
		later := evidence.NewService(st, func() time.Time { return now.AddDate(0, 0, 2) }, evidence.Rules{}, nil)
		past, _ := evidence.ParsePeriod("2026-01-01", "2026-06-01")
		var a, b bytes.Buffer
		later.Export(ctx, audit.System("auditor"), "audit_log", past, evidence.Options{}, &a)
		later.Export(ctx, audit.System("auditor"), "audit_log", past, evidence.Options{}, &b)
		if strings.Count(a.String(), "\n") < 20 || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("audit_log over a closed period: %d bytes, equal %v", a.Len(), bytes.Equal(a.Bytes(), b.Bytes()))
		}
		var bom bytes.Buffer
		svc.Export(ctx, audit.System("auditor"), "policies", period, evidence.Options{BOM: true}, &bom)
		if !strings.HasPrefix(bom.String(), "\ufeffslug,title") {
			t.Fatalf("BOM export starts %q", bom.String()[:12])
		}
		counts, err := svc.Count(ctx, period)
		if err != nil || counts["policies"] != 20 || counts["employees"] != int64(len(planted)) {
			t.Fatalf("counts %v %v", counts, err)
		}
		var last audit.Event
		st.DB.Order("seq DESC").First(&last)
		if last.Action != "export.completed" || !strings.Contains(last.AfterJSON, `"sha256"`) {
			t.Fatalf("last audit event %+v", last)
		}
	})
}

func TestExportErrors(t *testing.T) {
	svc := evidence.NewService(storetest.SQLite(t), time.Now, evidence.Rules{}, nil)
	if _, err := evidence.ParsePeriod("2026-13-01", "x"); err == nil {
		t.Fatal("bad period accepted")
	}
	if _, err := evidence.ParsePeriod("2026-02-01", "2026-01-01"); err == nil {
		t.Fatal("reversed period accepted")
	}
	p, _ := evidence.ParsePeriod("2026-01-01", "2026-01-31")
	var buf bytes.Buffer
	if _, err := svc.Export(context.Background(), audit.System("x"), "salaries", p, evidence.Options{}, &buf); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown dataset: %v", err)
	}
}

// movable is a clock the fixture moves between acknowledgements.
type movable struct{ t time.Time }

func (m *movable) now() time.Time { return m.t }

func TestAcknowledgementPopulation(t *testing.T) {
	outputs := map[string]string{}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := &movable{t: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}
		templates, _ := policy.LoadTemplates(policies.Files)
		if _, err := policy.NewService(st.DB, c.now).Seed(ctx, audit.System("seed"), templates); err != nil {
			t.Fatal(err)
		}
		ppl := people.NewService(st.DB, c.now, people.Settings{NewHireDays: 30, NewVersionDays: 30, AckLinkTTL: time.Hour})
		for _, e := range []people.Input{
			{Email: "ana@example.com", Name: "Ana", StartDate: "2025-06-01"},
			{Email: "ben@example.com", Name: "Ben", StartDate: "2025-06-01"},
			{Email: "cy@example.com", Name: "Cy", StartDate: "2026-03-20"},
			{Email: "dee@example.com", Name: "Dee", StartDate: "2025-01-01"},
			{Email: "eve@example.com", Name: "Eve", StartDate: "2024-01-01", EndDate: "2025-12-01"},
		} {
			if _, err := ppl.Create(ctx, audit.System("hr"), e); err != nil {
				t.Fatal(err)
			}
		}
		ack := func(at time.Time, email string) {
			c.t = at
			if _, err := ppl.Acknowledge(ctx, audit.System("hr"), email, "backup", "import"); err != nil {
				t.Fatal(err)
			}
		}
		ack(time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC), "ana@example.com")
		ack(time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC), "ben@example.com")
		// The last instant of the due day is on time, shown to the second;
		// a time stored with an offset is shown in UTC.
		ack(time.Date(2026, 2, 4, 23, 59, 59, 999999000, time.UTC), "dee@example.com")
		if err := st.DB.Exec(`INSERT INTO acknowledgements (employee_id, policy_id, version_id, major, minor, sha256, acknowledged_at, method, created_at)
			SELECT e.id, v.policy_id, v.id, v.major, v.minor, v.sha256, '2026-02-05 01:30:00.25+02:00', 'import', '2026-02-05 01:30:00.25+02:00'
			FROM employees e CROSS JOIN policy_versions v JOIN policies p ON p.id = v.policy_id WHERE e.email = 'dee@example.com' AND p.slug = 'password'`).Error; err != nil {
			t.Fatal(err)
		}
		svc := evidence.NewService(st, c.now, evidence.Rules{NewHireDays: 30, NewVersionDays: 30}, nil)
		period, _ := evidence.ParsePeriod("2026-01-01", "2026-03-31")
		var buf bytes.Buffer
		res, err := svc.Export(ctx, audit.System("auditor"), "acknowledgements", period, evidence.Options{}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 80 {
			t.Fatalf("%d rows, want 4 employees × 20 policies", res.Rows)
		}
		want := []string{
			"ana@example.com,backup,1.0,2026-01-05T10:00:00Z,2026-02-04,2026-01-20T09:00:00Z,yes",
			"ben@example.com,backup,1.0,2026-01-05T10:00:00Z,2026-02-04,2026-02-10T09:00:00Z,no",
			"cy@example.com,backup,1.0,2026-01-05T10:00:00Z,2026-04-19,,",
			"dee@example.com,backup,1.0,2026-01-05T10:00:00Z,2026-02-04,2026-02-04T23:59:59Z,yes",
			"dee@example.com,password,1.0,2026-01-05T10:00:00Z,2026-02-04,2026-02-04T23:30:00Z,yes",
			"dee@example.com,vendor-management,1.0,2026-01-05T10:00:00Z,2026-02-04,,no",
		}
		for _, line := range want {
			if !strings.Contains(buf.String(), line+"\r\n") {
				t.Errorf("missing %q", line)
			}
		}
		if strings.Contains(buf.String(), "eve@example.com") {
			t.Error("someone who left before the period is in the population")
		}
		outputs[string(st.Dialect)] = buf.String()
	})
	if len(outputs) == 2 && outputs["sqlite"] != outputs["postgres"] {
		t.Fatal("SQLite and PostgreSQL export different bytes")
	}
}

func TestBundleVerifiesAndNamesAChangedFile(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	templates, _ := policy.LoadTemplates(policies.Files)
	if _, err := policy.NewService(st.DB, clock).Seed(ctx, audit.System("seed"), templates); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	svc := evidence.NewService(st, clock, evidence.Rules{NewHireDays: 30, NewVersionDays: 30}, key)
	period, _ := evidence.ParsePeriod("2026-01-01", "2026-12-31")
	var zipped bytes.Buffer
	m, err := svc.Bundle(ctx, audit.System("auditor@example.com"), auth.Auditor, period, "PostHog", &zipped)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != len(evidence.Names())+20+1 || m.AuditHead.Seq == 0 {
		t.Fatalf("manifest: %d files, head %+v", len(m.Files), m.AuditHead)
	}
	pub := key.Public().(ed25519.PublicKey)
	checks, ok, err := evidence.VerifyBundle(zipped.Bytes(), pub)
	if err != nil || !ok {
		t.Fatalf("a fresh bundle does not verify: %v %+v", err, checks)
	}
	// Rewrite the zip with one byte of one file changed: the check names it.
	for _, f := range m.Files {
		victim := f.Name
		changed := rewrite(t, zipped.Bytes(), victim)
		checks, ok, err := evidence.VerifyBundle(changed, pub)
		if err != nil || ok {
			t.Fatalf("%s changed, yet verified: %v", victim, err)
		}
		var failed []string
		for _, c := range checks {
			if !c.OK {
				failed = append(failed, c.Name)
			}
		}
		if len(failed) != 1 || failed[0] != victim {
			t.Fatalf("%s changed; failures named %v", victim, failed)
		}
	}
	// Another key, or a changed manifest, fails the signature.
	_, other, _ := ed25519.GenerateKey(nil)
	if _, ok, _ := evidence.VerifyBundle(zipped.Bytes(), other.Public().(ed25519.PublicKey)); ok {
		t.Fatal("verified with another key")
	}
	if checks, ok, _ := evidence.VerifyBundle(rewrite(t, zipped.Bytes(), "manifest.json"), pub); ok || checks[0].OK {
		t.Fatal("a changed manifest verified")
	}
	// A byte flipped in the zip itself is caught by its checksum.
	raw := append([]byte(nil), zipped.Bytes()...)
	raw[200] ^= 0xff
	if _, ok, _ := evidence.VerifyBundle(raw, pub); ok {
		t.Fatal("a corrupted zip verified")
	}
}

// rewrite copies a zip, changing one byte of the named file.
func rewrite(t *testing.T, data []byte, victim string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == victim {
			b[len(b)/2] ^= 0x01
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zw.Close()
	return out.Bytes()
}

func TestExportsDocIsCurrent(t *testing.T) {
	const path = "../../docs/exports.md"
	if os.Getenv("CHARTER_UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(evidence.Markdown()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != evidence.Markdown() {
		t.Fatalf("docs/exports.md is not current (%v): run CHARTER_UPDATE_DOCS=1 go test ./internal/evidence/", err)
	}
}

func TestAuditLogWithholdsWhatTheRoleMayNotSee(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		hr := audit.Actor{UserID: 1, Label: "hr@example.com", IP: "198.51.100.61", UserAgent: "HRIS-sync/4.2", RequestID: "9f3c2a7d1e5b"}
		for _, e := range []audit.Entry{
			{At: now, Action: "employee.created", ObjectType: "employee", ObjectID: "ana@example.com", After: map[string]string{"name": "Ana"}},
			{At: now, Action: "background_check.updated", ObjectType: "employee", ObjectID: "ana@example.com",
				Before: map[string]string{"status": "in_progress"}, After: map[string]string{"status": "adverse"}},
		} {
			if err := st.DB.Transaction(func(tx *gorm.DB) error { return audit.Append(tx, hr, e) }); err != nil {
				t.Fatal(err)
			}
		}
		svc := evidence.NewService(st, func() time.Time { return now }, evidence.Rules{}, nil)
		period, _ := evidence.ParsePeriod("2026-06-01", "2026-06-01")
		export := func(role auth.Role) []map[string]string {
			var buf bytes.Buffer
			if _, err := svc.Export(ctx, audit.System("cli:test"), "audit_log", period, evidence.Options{Role: role}, &buf); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var out []map[string]string
			for _, r := range rows[1:] {
				m := map[string]string{}
				for i, h := range rows[0] {
					m[h] = r[i]
				}
				out = append(out, m)
			}
			return out
		}
		for _, tc := range []struct {
			role                 auth.Role
			employee, background string // withheld columns
			adverse, client      bool   // present in the file
		}{
			{auth.Admin, "", "", true, true},
			{auth.Editor, "client_ip request_id", "client_ip request_id", true, false},
			{auth.Auditor, "client_ip request_id", "before_json after_json client_ip request_id", false, false},
			{auth.Viewer, "client_ip request_id", "before_json after_json client_ip request_id", false, false},
		} {
			t.Run(string(tc.role), func(t *testing.T) {
				rows := export(tc.role)
				var all strings.Builder
				for _, r := range rows {
					for _, v := range r {
						all.WriteString(v + "\n")
					}
				}
				if strings.Contains(all.String(), "adverse") != tc.adverse {
					t.Errorf("adverse in the file: %v, want %v", !tc.adverse, tc.adverse)
				}
				for _, s := range []string{hr.IP, hr.RequestID} {
					if strings.Contains(all.String(), s) != tc.client {
						t.Errorf("%s in the file: %v, want %v", s, !tc.client, tc.client)
					}
				}
				// The first two rows; the exports' own events follow.
				if len(rows) < 3 || rows[0]["withheld"] != tc.employee || rows[1]["withheld"] != tc.background {
					t.Fatalf("withheld %q and %q, want %q and %q", rows[0]["withheld"], rows[1]["withheld"], tc.employee, tc.background)
				}
				// The event is always there, and the rows still link up.
				if rows[1]["action"] != "background_check.updated" || rows[1]["object_id"] != "ana@example.com" || rows[1]["actor"] != hr.Label ||
					rows[1]["prev_hash"] != rows[0]["hash"] || len(rows[1]["hash"]) != 64 {
					t.Fatalf("row %v after %v", rows[1], rows[0])
				}
			})
		}
		// Output only: the stored chain is whole.
		if res, err := audit.Verify(ctx, st.DB); err != nil || res.Break != nil {
			t.Fatalf("verify: %+v %v", res, err)
		}
	})
}
