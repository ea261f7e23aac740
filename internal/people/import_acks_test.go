package people_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestImportHistoricalAcknowledgements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "ana@example.com", "2024-01-01")
		*f.clock = day0.AddDate(0, 0, 5)

		// Form errors, found without the database.
		_, errs := people.ParseAcknowledgementsCSV(strings.NewReader(
			"email,policy,version,acknowledged_at\nana@example.com,backup,one,2025-13-01\nana@example.com,backup,1.0,2099-01-01\n"), *f.clock)
		if len(errs) != 3 || errs[0].Column != "version" || errs[1].Column != "acknowledged_at" || errs[2].Line != 3 || !strings.Contains(errs[2].Reason, "future") {
			t.Fatalf("form errors: %v", errs)
		}

		// Register errors: unknown employee, unpublished version; nothing written.
		rows, errs := people.ParseAcknowledgementsCSV(strings.NewReader(
			"email,policy,version,acknowledged_at\nana@example.com,backup,1.0,2025-11-02\nzed@example.com,backup,1.0,2025-11-02\nana@example.com,password,3.0,2025-11-02\n"), *f.clock)
		if errs != nil {
			t.Fatal(errs)
		}
		res, err := f.people.ImportAcknowledgements(f.ctx, f.hr, rows)
		if !apperr.Is(err, apperr.Invalid) || len(res.Errors) != 2 || res.Errors[0].Line != 3 || res.Errors[0].Column != "email" || res.Errors[1].Line != 4 || res.Errors[1].Column != "version" {
			t.Fatalf("register errors: %v %v", res.Errors, err)
		}
		var n int64
		st.DB.Model(&people.Acknowledgement{}).Count(&n)
		if n != 0 {
			t.Fatalf("a bad file wrote %d acknowledgements", n)
		}

		good := "email,policy,version,acknowledged_at\nana@example.com,backup,1.0,2025-11-02\nana@example.com,password,1.0,2025-11-03T10:15:00+01:00\n"
		rows, _ = people.ParseAcknowledgementsCSV(strings.NewReader(good), *f.clock)
		res, err = f.people.ImportAcknowledgements(f.ctx, f.hr, rows)
		if err != nil || res.Created != 2 {
			t.Fatalf("import: %+v %v", res, err)
		}
		res, err = f.people.ImportAcknowledgements(f.ctx, f.hr, rows)
		if err != nil || res.Unchanged != 2 || res.Created != 0 {
			t.Fatalf("second import: %+v %v", res, err)
		}
		d, _ := f.people.Detail(f.ctx, "ana@example.com")
		if d.Summary.Acknowledged != 2 {
			t.Fatalf("acknowledged %d", d.Summary.Acknowledged)
		}
		for _, h := range d.History {
			if h.Method != people.MethodImport {
				t.Fatalf("method %s", h.Method)
			}
			if h.Slug == "password" && !h.AcknowledgedAt.Equal(time.Date(2025, 11, 3, 9, 15, 0, 0, time.UTC)) {
				t.Fatalf("original time not kept: %s", h.AcknowledgedAt)
			}
		}
	})
}
