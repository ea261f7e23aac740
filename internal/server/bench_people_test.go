package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app/apptest"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

// BenchmarkPeopleAtScale measures the people list and the overview with
// 10,000 employees, 20 policies at major version 3 and every employee's
// acknowledgements of versions 1, 2 and 3 (about 600,000 rows; one in ten
// employees has not acknowledged 3.0 of one policy yet). It prints the
// BENCHROW lines of issue 22: each page's time at 10,000 employees, and
// its bytes allocated per request at 10,000 against 1,000 employees.
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
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// The rows are written behind the services' backs, so the kept
	// compliance state is rebuilt after each batch, as the command does.
	cfg := apptest.Config(b)
	if err := cfg.Finish(); err != nil {
		b.Fatal(err)
	}
	svc := people.NewService(db, time.Now, people.Settings{NewHireDays: cfg.AckDueNewHireDays, NewVersionDays: cfg.AckDueNewVersionDays,
		BackgroundCheckDays: cfg.BackgroundCheckDays})
	addEmployees := func(from, to int) {
		b.Helper()
		err := db.Transaction(func(tx *gorm.DB) error {
			emps := make([]people.Employee, to-from)
			for j := range emps {
				i := from + j
				emps[j] = people.Employee{Email: fmt.Sprintf("person%05d@example.com", i), Name: fmt.Sprintf("Person %05d", i),
					Department: []string{"Engineering", "Sales", "Support", "Finance"}[i%4], EmploymentType: people.Staff,
					StartDate: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), CreatedAt: start, UpdatedAt: start}
			}
			if err := tx.CreateInBatches(emps, 1000).Error; err != nil {
				return err
			}
			acks := make([]people.Acknowledgement, 0, 3000)
			at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
			for j, emp := range emps {
				i := from + j
				for k, p := range pols {
					for major := 1; major <= 3; major++ {
						if major == 3 && i%10 == 0 && k == i%len(pols) {
							continue // one in ten still owes one policy
						}
						acks = append(acks, people.Acknowledgement{EmployeeID: emp.ID, PolicyID: p.ID, VersionID: versionIDs[[2]int64{p.ID, int64(major)}],
							Major: major, SHA256: "bench", AcknowledgedAt: at, Method: people.MethodImport, CreatedAt: at})
					}
				}
				if len(acks) >= 2400 || j == len(emps)-1 {
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
		rebuilt := time.Now()
		n, err := svc.RebuildCompliance(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("compliance state of %d employees rebuilt in %s: %d items", to, time.Since(rebuilt).Round(time.Millisecond), n)
	}
	_, session := loginViewer(b, e)
	h := e.srv.Handler()
	get := func(path string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(session)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: status %d", path, rec.Code)
		}
	}
	const requests = 10 // per run
	pages := []struct{ name, path string }{{"overview GET /app/", "/app/"}, {"people list GET /app/people", "/app/people"}}
	// bytesPerRequest measures, in 3 runs, the bytes allocated per request.
	bytesPerRequest := func(path string) []float64 {
		get(path) // warm: templates, statement caches
		var out []float64
		for range 3 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range requests {
				get(path)
			}
			runtime.ReadMemStats(&after)
			out = append(out, float64(after.TotalAlloc-before.TotalAlloc)/requests)
		}
		return out
	}
	addEmployees(0, 1_000)
	small := map[string][]float64{}
	for _, p := range pages {
		small[p.path] = bytesPerRequest(p.path)
	}
	addEmployees(1_000, employees)
	var n int64
	db.Model(&people.Acknowledgement{}).Count(&n)
	b.Logf("fixture: %d employees, %d acknowledgements, built in %s", employees, n, time.Since(start).Round(time.Second))
	for _, p := range pages {
		large := bytesPerRequest(p.path)
		var ms []float64
		for range 3 {
			began := time.Now()
			for range requests {
				get(p.path)
			}
			ms = append(ms, float64(time.Since(began).Microseconds())/1000/requests)
		}
		peopleBenchRow(p.name+" at 10,000 employees × 20 policies", ms, nil, "ms", "< 50 ms")
		peopleBenchRow(p.name+" KB allocated per request, 10,000 vs 1,000 employees", peopleBenchScale(large, 1.0/1024), peopleBenchScale(small[p.path], 1.0/1024), "KB",
			"allocation independent of employee count (ratio ≈ 1)")
	}
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

// peopleBenchRow prints one BENCHROW line: min / median / max of the runs
// and, when there is a reference, of the reference runs and of the ratios
// of each run to its reference.
func peopleBenchRow(name string, runs, ref []float64, unit, goal string) {
	spread := func(xs []float64, format string) string {
		s := slices.Sorted(slices.Values(xs))
		return fmt.Sprintf(format+" / "+format+" / "+format, s[0], s[len(s)/2], s[len(s)-1])
	}
	refText, ratioText := "ref -", "ratio -"
	if ref != nil {
		ratios := make([]float64, len(runs))
		for i := range runs {
			ratios[i] = runs[i] / ref[i]
		}
		refText, ratioText = "ref "+spread(ref, "%.1f")+" "+unit, "ratio "+spread(ratios, "%.2f")
	}
	fmt.Printf("BENCHROW | %s | %s %s | %s | %s | goal %s\n", name, spread(runs, "%.1f"), unit, refText, ratioText, goal)
}

func peopleBenchScale(xs []float64, by float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * by
	}
	return out
}
