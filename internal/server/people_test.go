package server_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestPeopleAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ana := map[string]any{"name": "Ana Souza", "department": "Engineering", "country": "br", "start_date": "2024-02-01"}

		status, body := e.api("editor", http.MethodPut, "/api/v1/employees/Ana@Example.com", ana)
		if status != http.StatusCreated || body["email"] != "ana@example.com" || body["country"] != "BR" {
			t.Fatalf("upsert create: %d %v", status, body)
		}
		status, _ = e.api("editor", http.MethodPut, "/api/v1/employees/ana@example.com", ana)
		if status != http.StatusOK {
			t.Fatalf("upsert same: %d", status)
		}
		if ev := e.lastEvent(); ev.Action != "employee.created" {
			t.Fatalf("an unchanged upsert was audited as %s", ev.Action)
		}
		status, body = e.api("editor", http.MethodPut, "/api/v1/employees/ana@example.com", map[string]any{"email": "other@example.com", "name": "A", "start_date": "2024-01-01"})
		if status != http.StatusUnprocessableEntity || errFields(body)["email"] == nil {
			t.Fatalf("mismatched email: %d %v", status, body)
		}
		status, body = e.api("editor", http.MethodPost, "/api/v1/employees", map[string]any{"email": "ben@", "start_date": "01/02/2024"})
		fields := errFields(body)
		if status != http.StatusUnprocessableEntity || fields["email"] == nil || fields["name"] == nil || fields["start_date"] == nil {
			t.Fatalf("invalid create: %d %v", status, body)
		}
		if status, _ = e.api("editor", http.MethodPost, "/api/v1/employees", map[string]any{"email": "ana@example.com", "name": "A", "start_date": "2024-01-01"}); status != http.StatusConflict {
			t.Fatalf("duplicate create: %d", status)
		}
		if status, _ = e.api("viewer", http.MethodPut, "/api/v1/employees/x@example.com", ana); status != http.StatusForbidden {
			t.Fatalf("viewer upsert: %d", status)
		}

		status, body = e.api("editor", http.MethodPost, "/api/v1/employees/ana@example.com/acknowledgements", map[string]any{"policy": "backup"})
		if status != http.StatusOK || body["version"] != "1.0" || body["method"] != "api" || len(body["sha256"].(string)) != 64 {
			t.Fatalf("acknowledge: %d %v", status, body)
		}
		status, body = e.api("auditor", http.MethodGet, "/api/v1/employees/ana@example.com", nil)
		obls, _ := body["obligations"].([]any)
		acks, _ := body["acknowledgements"].([]any)
		if status != http.StatusOK || len(obls) != 20 || len(acks) != 1 || body["policies_acknowledged"].(float64) != 1 {
			t.Fatalf("detail: %d %v", status, body)
		}

		end := "2026-01-31"
		status, body = e.api("editor", http.MethodPatch, "/api/v1/employees/ana@example.com", map[string]any{"end_date": end})
		if status != http.StatusOK || body["end_date"] != end || body["name"] != "Ana Souza" {
			t.Fatalf("offboard: %d %v", status, body)
		}
		if ev := e.lastEvent(); ev.Action != "employee.offboarded" {
			t.Fatalf("offboarding audited as %s", ev.Action)
		}
		status, body = e.api("viewer", http.MethodGet, "/api/v1/employees?state=offboarded", nil)
		if items, _ := body["items"].([]any); status != http.StatusOK || len(items) != 1 {
			t.Fatalf("list offboarded: %d %v", status, body)
		}
		if status, body = e.api("viewer", http.MethodGet, "/api/v1/employees?state=sleepy", nil); status != http.StatusUnprocessableEntity || errFields(body)["state"] == nil {
			t.Fatalf("bad state: %d %v", status, body)
		}
		if status, _ = e.api("viewer", http.MethodGet, "/api/v1/employees/nobody@example.com", nil); status != http.StatusNotFound {
			t.Fatalf("unknown employee: %d", status)
		}
	})
}

// upload posts a file to a multipart form, as a browser would.
func (b *browser) upload(path, field, name string, content []byte) response {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("csrf", b.csrf())
	fw, _ := w.CreateFormFile(field, name)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.ts.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

func TestPeoplePages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")

		bad := "email,name,start_date\nana@example.com,Ana,2024-02-01\nben@example.com,,2024-13-01\n"
		r := ed.upload("/app/people/import", "file", "roster.csv", []byte(bad))
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "<td>3</td><td>name</td>") || !strings.Contains(r.body, "<td>3</td><td>start_date</td>") {
			t.Fatalf("bad import: %d", r.status)
		}
		var n int64
		st.DB.Table("employees").Count(&n)
		if n != 0 {
			t.Fatalf("a bad file wrote %d employees", n)
		}
		good := "\ufeffemail,name,department,start_date\nana@example.com,Ana Souza,Engineering,2024-02-01\nben@example.com,Ben Okafor,Sales,2023-01-09\n"
		r = ed.upload("/app/people/import", "file", "roster.csv", []byte(good))
		if r.status != http.StatusOK || !strings.Contains(r.body, "2 created, 0 updated, 0 unchanged") {
			t.Fatalf("good import: %d", r.status)
		}
		if r = ed.upload("/app/people/import", "file", "roster.csv", []byte(good)); !strings.Contains(r.body, "0 created, 0 updated, 2 unchanged") {
			t.Fatal("second import changed something")
		}

		r = ed.get("/app/people?department=Sales")
		if r.status != http.StatusOK || !strings.Contains(r.body, "Ben Okafor") || strings.Contains(r.body, "Ana Souza") {
			t.Fatalf("filtered list: %d", r.status)
		}
		r = ed.get("/app/people/ana@example.com")
		if r.status != http.StatusOK || !strings.Contains(r.body, "Information Security Policy") || !strings.Contains(r.body, "0 of 20") {
			t.Fatalf("employee page: %d", r.status)
		}

		r = ed.post("/app/people", url.Values{"email": {"cy@example.com"}, "name": {""}, "start_date": {"2025-05-05"}, "country": {"Korea"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="name-error"`) || !strings.Contains(r.body, `id="country-error"`) || !strings.Contains(r.body, `value="cy@example.com"`) {
			t.Fatalf("invalid new employee: %d", r.status)
		}
		r = ed.post("/app/people", url.Values{"email": {"cy@example.com"}, "name": {"Cy Park"}, "start_date": {"2025-05-05"}, "employment_type": {"contractor"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/people/cy@example.com" {
			t.Fatalf("new employee: %d %s", r.status, r.header.Get("Location"))
		}
		r = ed.post("/app/people/cy@example.com/edit", url.Values{"email": {"cy@example.com"}, "name": {"Cy Park"}, "start_date": {"2025-05-05"}, "end_date": {"2025-11-30"}, "employment_type": {"contractor"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("offboard from the form: %d", r.status)
		}
		if r = ed.get("/app/people?state=offboarded"); !strings.Contains(r.body, "Cy Park") {
			t.Fatal("offboarded filter does not show the offboarded employee")
		}
		if r = e.browser().login("viewer").get("/app/people/cy@example.com"); strings.Contains(r.body, "/edit") {
			t.Fatal("viewer is offered editing")
		}
	})
}

func TestOverviewShowsPeopleCompliance(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	for _, email := range []string{"a@example.com", "b@example.com"} {
		e.api("editor", http.MethodPut, "/api/v1/employees/"+email, map[string]any{"name": email, "start_date": "2025-01-01"})
	}
	e.api("editor", http.MethodPut, "/api/v1/employees/c@example.com", map[string]any{"name": "c", "start_date": "2025-01-01", "end_date": "2025-06-30"})
	e.api("editor", http.MethodPost, "/api/v1/courses", map[string]any{"name": "Security awareness", "recurrence_months": 12})
	r := e.browser().login("viewer").get("/app/")
	for _, want := range []string{`aria-label="Employees overdue per course"`, `<text x="0" y="14" class="bar-label">Security awareness</text>`, `href="/app/people?active=1"><span class="num">2</span> <span class="label">active employees`, `href="/app/people?state=compliant"><span class="num">0%</span> <span class="label">fully compliant`, `aria-label="Employees by state"`, `href="/app/people?state=overdue">Overdue</a> 2`, `Offboarded</a> 1`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(r.body, "<script") {
		t.Error("the overview uses script")
	}
}

func TestPeopleListPages(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	var csv strings.Builder
	csv.WriteString("email,name,start_date\n")
	for i := 0; i < 230; i++ {
		csv.WriteString("p" + strings.Repeat("0", 3-len(itoa(i))) + itoa(i) + "@example.com,Person " + itoa(1000+i) + ",2025-01-01\n")
	}
	ed := e.browser().login("editor")
	if r := ed.upload("/app/people/import", "file", "big.csv", []byte(csv.String())); r.status != http.StatusOK {
		t.Fatalf("import: %d", r.status)
	}
	r := ed.get("/app/people")
	if !strings.Contains(r.body, "1–100 of 230") || !strings.Contains(r.body, "Person 1099") || strings.Contains(r.body, "Person 1100") || !strings.Contains(r.body, "page=2") {
		t.Fatal("first page")
	}
	r = ed.get("/app/people?page=3")
	if !strings.Contains(r.body, "201–230 of 230") || !strings.Contains(r.body, "Person 1229") || strings.Contains(r.body, "Next") {
		t.Fatal("last page")
	}
	if r = ed.get("/app/people?page=4"); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("past the end: %d", r.status)
	}
	if r = ed.get("/app/people?page=zero"); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad page: %d", r.status)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestImportAcknowledgementsPage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ed := e.browser().login("editor")
	e.api("editor", http.MethodPut, "/api/v1/employees/ana@example.com", map[string]any{"name": "Ana", "start_date": "2024-01-01"})
	r := ed.upload("/app/people/import/acknowledgements", "file", "acks.csv", []byte("email,policy,version,acknowledged_at\nana@example.com,backup,1.0,2025-11-02\nbob@example.com,backup,1.0,2025-11-02\n"))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "<td>3</td><td>email</td>") {
		t.Fatalf("bad file: %d", r.status)
	}
	r = ed.upload("/app/people/import/acknowledgements", "file", "acks.csv", []byte("email,policy,version,acknowledged_at\nana@example.com,backup,1.0,2025-11-02\n"))
	if r.status != http.StatusOK || !strings.Contains(r.body, "1 recorded, 0 already recorded") {
		t.Fatalf("good file: %d", r.status)
	}
	if r = ed.get("/app/people/ana@example.com"); !strings.Contains(r.body, `>2025-11-02 00:00 UTC</time> (Import)`) {
		t.Fatal("imported acknowledgement not shown with its original date")
	}
}

func TestBackgroundCheckFieldRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.api("editor", http.MethodPut, "/api/v1/employees/ana@example.com", map[string]any{"name": "Ana", "start_date": "2025-01-01"})
		status, body := e.api("editor", http.MethodPut, "/api/v1/employees/ana@example.com/background-check", map[string]any{"status": "consider", "provider": "Checkr", "initiated_on": "2024-12-01"})
		if status != http.StatusUnprocessableEntity || errFields(body)["completed_on"] == nil {
			t.Fatalf("finished without a date: %d %v", status, body)
		}
		status, body = e.api("editor", http.MethodPut, "/api/v1/employees/ana@example.com/background-check", map[string]any{"status": "consider", "provider": "Checkr", "initiated_on": "2024-12-01", "completed_on": "2024-12-20"})
		if status != http.StatusOK || body["status"] != "consider" || body["complete"] != true {
			t.Fatalf("set: %d %v", status, body)
		}
		if status, _ = e.api("viewer", http.MethodPut, "/api/v1/employees/ana@example.com/background-check", map[string]any{"status": "clear"}); status != http.StatusForbidden {
			t.Fatalf("viewer setting a check: %d", status)
		}
		for _, c := range []struct {
			user    string
			details bool
		}{{"admin", true}, {"editor", true}, {"auditor", true}, {"viewer", false}} {
			_, body := e.api(c.user, http.MethodGet, "/api/v1/employees/ana@example.com", nil)
			check, _ := body["background_check"].(map[string]any)
			if check["complete"] != true {
				t.Errorf("%s: check %v", c.user, check)
			}
			if _, sees := check["status"]; sees != c.details {
				t.Errorf("%s sees the status: %v, want %v", c.user, sees, c.details)
			}
			if _, sees := check["provider"]; sees != c.details {
				t.Errorf("%s sees the provider: %v, want %v", c.user, sees, c.details)
			}
			page := e.browser().login(c.user).get("/app/people/ana@example.com")
			if strings.Contains(page.body, "Consider") != c.details || strings.Contains(page.body, "Checkr") != c.details {
				t.Errorf("%s's page shows the status: %v, want %v", c.user, strings.Contains(page.body, "Consider"), c.details)
			}
		}
		ed := e.browser().login("editor")
		r := ed.post("/app/people/ana@example.com/background-check", url.Values{"status": {"exempt"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="exemption_reason-error"`) {
			t.Fatalf("exempt without a reason from the page: %d", r.status)
		}
		if r = ed.post("/app/people/ana@example.com/background-check", url.Values{"status": {"exempt"}, "exemption_reason": {"Not permitted in Germany"}}); r.status != http.StatusSeeOther {
			t.Fatalf("exempt from the page: %d", r.status)
		}
	})
}

func TestTrainingPagesAndAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		if r := ed.post("/app/training", url.Values{"name": {"Security awareness"}, "recurrence_months": {"twelve"}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad recurrence: %d", r.status)
		}
		if r := ed.post("/app/training", url.Values{"name": {"Security awareness"}, "recurrence_months": {"12"}}); r.status != http.StatusSeeOther {
			t.Fatalf("add course: %d", r.status)
		}
		if r := ed.post("/app/training", url.Values{"name": {"Security awareness"}, "recurrence_months": {"12"}}); r.status != http.StatusConflict {
			t.Fatalf("duplicate course: %d", r.status)
		}
		status, body := e.api("viewer", http.MethodGet, "/api/v1/courses", nil)
		if items, _ := body["items"].([]any); status != http.StatusOK || len(items) != 1 {
			t.Fatalf("courses: %d %v", status, body)
		}
		e.api("editor", http.MethodPut, "/api/v1/employees/ana@example.com", map[string]any{"name": "Ana", "start_date": "2025-01-01"})
		status, body = e.api("editor", http.MethodPost, "/api/v1/employees/ana@example.com/training", map[string]any{"course": "Security awareness", "completed_on": "2025-03-31"})
		if status != http.StatusCreated || body["expires_on"] != "2026-03-31" || body["source"] != "api" {
			t.Fatalf("record: %d %v", status, body)
		}
		status, body = e.api("editor", http.MethodPost, "/api/v1/employees/ana@example.com/training", map[string]any{"course": "Juggling", "completed_on": "2025-03-31"})
		if status != http.StatusUnprocessableEntity || errFields(body)["course"] == nil {
			t.Fatalf("unknown course: %d %v", status, body)
		}
		_, body = e.api("auditor", http.MethodGet, "/api/v1/employees/ana@example.com", nil)
		tr, _ := body["training"].([]any)
		if len(tr) != 1 || tr[0].(map[string]any)["last_completed"] != "2025-03-31" {
			t.Fatalf("detail training: %v", body["training"])
		}
		r := ed.upload("/app/people/import/training", "file", "t.csv", []byte("email,course,completed_on,source\nana@example.com,Security awareness,2024-03-30,LMS\n"))
		if r.status != http.StatusOK || !strings.Contains(r.body, "1 recorded") {
			t.Fatalf("import: %d", r.status)
		}
		r = ed.get("/app/people/ana@example.com")
		if !strings.Contains(r.body, "Every completion (2)") || !strings.Contains(r.body, "Record completion") {
			t.Fatal("employee page training section")
		}
	})
}

// uploadWith posts a multipart form with fields and one file.
func (b *browser) uploadWith(path string, fields map[string]string, field, name string, content []byte) response {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("csrf", b.csrf())
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile(field, name)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.ts.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

func TestTrainingCertificates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		ed.post("/app/training", url.Values{"name": {"Security awareness"}, "recurrence_months": {"12"}})
		e.api("editor", http.MethodPut, "/api/v1/employees/ana@example.com", map[string]any{"name": "Ana", "start_date": "2025-01-01"})
		pdf := []byte("%PDF-1.4\n% certificate of completion\n%%EOF\n")
		fields := map[string]string{"course": "Security awareness", "completed_on": "2025-06-30"}

		r := ed.uploadWith("/app/people/ana@example.com/training", fields, "certificate", "cert.pdf", []byte("<html>not a pdf</html>"))
		// The form comes back refused, the file's problem beside it and the
		// typed values kept.
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Certificate must be one of") ||
			!strings.Contains(r.body, `value="2025-06-30"`) {
			t.Fatalf("disguised file: %d %s", r.status, r.body)
		}
		var n int64
		st.DB.Table("training_records").Count(&n)
		if n != 0 {
			t.Fatal("a refused upload recorded training")
		}
		if r = ed.uploadWith("/app/people/ana@example.com/training", fields, "certificate", "Ana's certificate.pdf", pdf); r.status != http.StatusSeeOther {
			t.Fatalf("upload: %d", r.status)
		}
		var id string
		st.DB.Raw("SELECT CAST(id AS TEXT) FROM training_records").Scan(&id)
		link := "/app/people/ana@example.com/training/" + id + "/certificate"
		auditor := e.browser().login("auditor")
		r = auditor.get(link)
		if r.status != http.StatusOK || r.body != string(pdf) || r.header.Get("Content-Type") != "application/pdf" ||
			!strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("download: %d %v", r.status, r.header)
		}
		if r = e.browser().login("viewer").get(link); r.status != http.StatusForbidden {
			t.Fatalf("viewer download: %d", r.status)
		}
		if r = auditor.get("/app/people/other@example.com/training/" + id + "/certificate"); r.status != http.StatusNotFound {
			t.Fatalf("another employee's path: %d", r.status)
		}
	})
}
