package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

// versionsPerPolicy is the history depth the benchmarks run against.
const versionsPerPolicy = 50

// benchEnv returns a server whose twenty policies have fifty versions each
// (1.0 to 1.48 superseded, 1.49 published), on a SQLite file.
func benchEnv(b *testing.B) (*env, *http.Cookie) {
	b.Helper()
	e := newEnv(b, storetest.SQLite(b))
	var policies []policy.Policy
	e.st.DB.Find(&policies)
	err := e.st.DB.Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&policy.Version{}).Where("status = ?", policy.StatusPublished).Update("status", policy.StatusSuperseded).Error; err != nil {
			return err
		}
		at := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, p := range policies {
			var first policy.Version
			tx.Where("policy_id = ?", p.ID).Take(&first)
			for minor := 1; minor < versionsPerPolicy; minor++ {
				status := policy.StatusSuperseded
				if minor == versionsPerPolicy-1 {
					status = policy.StatusPublished
				}
				body := fmt.Sprintf("%s\nRevision %d.\n", first.Body, minor)
				t := at.Add(time.Duration(minor) * 24 * time.Hour)
				v := policy.Version{PolicyID: p.ID, Major: 1, Minor: minor, Status: status, ChangeSummary: fmt.Sprintf("Revision %d", minor),
					Body: body, SHA256: policy.HashText(body), Author: "bench", ApprovedBy: "bench", ApprovedAt: &t,
					PublishedBy: "bench", PublishedAt: &t, CreatedAt: t, UpdatedAt: t}
				if err := tx.Create(&v).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	e.st.DB.Model(&policy.Version{}).Count(&n)
	if n != int64(len(policies)*versionsPerPolicy) {
		b.Fatalf("%d versions, want %d", n, len(policies)*versionsPerPolicy)
	}
	return loginViewer(b, e)
}

// loginViewer signs the viewer in and returns the session cookie.
func loginViewer(b *testing.B, e *env) (*env, *http.Cookie) {
	br := e.browser().login("viewer")
	u, _ := url.Parse(e.ts.URL)
	for _, c := range br.c.Jar.Cookies(u) {
		if c.Name == "charter_session" {
			return e, c
		}
	}
	b.Fatal("no session cookie")
	return nil, nil
}

func BenchmarkPolicyListAPI(b *testing.B) {
	e, _ := benchEnv(b)
	h := e.srv.Handler()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/policies", nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens["viewer"])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func BenchmarkOverviewPage(b *testing.B) {
	e, session := benchEnv(b)
	h := e.srv.Handler()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/app/", nil)
		req.AddCookie(session)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func BenchmarkPolicyPage(b *testing.B) {
	e, session := benchEnv(b)
	h := e.srv.Handler()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/app/policies/backup", nil)
		req.AddCookie(session)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkEmployeeWrites hires b.N employees with PUT
// /api/v1/employees/{email}, 16 requests at a time with the editor's API
// token, in process on a SQLite file: the write path to profile
// (-cpuprofile). make bench's write row is cmd/charter's TestWriteRate, on
// the real binary.
func BenchmarkEmployeeWrites(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	const clients = 16
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var hired atomic.Int64
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := hired.Add(1)
			body := fmt.Sprintf(`{"name":"Bench %d","start_date":"2026-01-05"}`, n)
			req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/v1/employees/bench-%d@example.com", e.ts.URL, n), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.tokens["editor"])
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("PUT employee: %d", resp.StatusCode)
				return
			}
		}
	})
}
