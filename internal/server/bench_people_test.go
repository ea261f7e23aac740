package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

// BenchmarkPeopleAtScale measures the people list and the overview with
// 10,000 employees, 20 policies at major version 3 and every employee's
// acknowledgements of versions 1, 2 and 3 (about 600,000 rows; one in ten
// employees has not acknowledged 3.0 of one policy yet).
func BenchmarkPeopleAtScale(b *testing.B) {
	const employees = 10_000
	e := newEnv(b, storetest.SQLite(b))
	db := e.st.DB
	start := time.Now()
	var pols []policy.Policy
	db.Find(&pols)
	versionIDs := map[[2]int64]int64{} // (policy, major) -> version id
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&policy.Version{}).Where("status = ?", policy.StatusPublished).Update("status", policy.StatusSuperseded).Error; err != nil {
			return err
		}
		var firsts []policy.Version
		tx.Find(&firsts)
		for _, v := range firsts {
			versionIDs[[2]int64{v.PolicyID, 1}] = v.ID
		}
		for _, p := range pols {
			for major := 2; major <= 3; major++ {
				at := time.Date(2024+major, 1, 1, 0, 0, 0, 0, time.UTC)
				status := policy.StatusSuperseded
				if major == 3 {
					status = policy.StatusPublished
				}
				body := fmt.Sprintf("Policy %s, version %d.0\n", p.Slug, major)
				v := policy.Version{PolicyID: p.ID, Major: major, Status: status, Material: true, ChangeSummary: "bench", Body: body,
					SHA256: policy.HashText(body), Author: "bench", ApprovedAt: &at, PublishedAt: &at, CreatedAt: at, UpdatedAt: at}
				if err := tx.Create(&v).Error; err != nil {
					return err
				}
				versionIDs[[2]int64{p.ID, int64(major)}] = v.ID
			}
		}
		emps := make([]people.Employee, employees)
		for i := range emps {
			emps[i] = people.Employee{Email: fmt.Sprintf("person%05d@example.com", i), Name: fmt.Sprintf("Person %05d", i),
				Department: []string{"Engineering", "Sales", "Support", "Finance"}[i%4], EmploymentType: people.Staff,
				StartDate: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), CreatedAt: start, UpdatedAt: start}
		}
		if err := tx.CreateInBatches(emps, 1000).Error; err != nil {
			return err
		}
		acks := make([]people.Acknowledgement, 0, 3000)
		at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		for i, emp := range emps {
			for j, p := range pols {
				for major := 1; major <= 3; major++ {
					if major == 3 && i%10 == 0 && j == i%len(pols) {
						continue // one in ten still owes one policy
					}
					acks = append(acks, people.Acknowledgement{EmployeeID: emp.ID, PolicyID: p.ID, VersionID: versionIDs[[2]int64{p.ID, int64(major)}],
						Major: major, SHA256: "bench", AcknowledgedAt: at, Method: people.MethodImport, CreatedAt: at})
				}
			}
			if len(acks) >= 2400 || i == len(emps)-1 {
				if err := tx.CreateInBatches(acks, 800).Error; err != nil {
					return err
				}
				acks = acks[:0]
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	db.Model(&people.Acknowledgement{}).Count(&n)
	b.Logf("fixture: %d employees, %d acknowledgements, built in %s", employees, n, time.Since(start).Round(time.Second))
	_, session := loginViewer(b, e)
	h := e.srv.Handler()
	for _, page := range []struct{ name, path string }{
		{"OverviewPage", "/app/"},
		{"PeopleList", "/app/people"},
		{"PeopleListOverdue", "/app/people?state=overdue"},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.AddCookie(session)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
	b.Run("PeopleListAPI", func(b *testing.B) {
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/employees?limit=100", nil)
			req.Header.Set("Authorization", "Bearer "+e.tokens["viewer"])
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
