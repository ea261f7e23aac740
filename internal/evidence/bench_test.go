package evidence

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
)

// sqliteTime is how the SQLite driver stores times, so that a literal in
// the equivalent query compares as the bound parameter does.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// literalQuery inlines a dataset's parameters for the sqlite3 shell.
func literalQuery(d *Dataset, p Period) string {
	q := d.query
	for _, a := range d.args(p) {
		q = strings.Replace(q, "?", "'"+a.(time.Time).UTC().Format(sqliteTime)+"'", 1)
	}
	return q
}

// BenchmarkAcknowledgementsExport exports the acknowledgement population
// at 1,000,000 rows (50,000 employees × 20 policies, all acknowledged) to
// io.Discard, sampling the heap meanwhile, and times sqlite3 -csv running
// the same query on the same file in the same run.
func BenchmarkAcknowledgementsExport(b *testing.B) {
	st := storetest.SQLite(b)
	ctx := context.Background()
	seeded := func() time.Time { return time.Date(2024, 1, 5, 10, 0, 0, 0, time.UTC) }
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := policy.NewService(st.DB, seeded).Seed(ctx, audit.System("seed"), templates); err != nil {
		b.Fatal(err)
	}
	const employees = 50000
	for _, q := range []string{
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
			INSERT INTO employees (email, name, title, department, manager_email, country, employment_type, start_date, created_at, updated_at)
			SELECT 'e' || i || '@example.com', 'Employee ' || i, '', 'Engineering', '', 'GB', 'employee', '2023-06-01 00:00:00+00:00',
			'2023-06-01 00:00:00+00:00', '2023-06-01 00:00:00+00:00' FROM n`, employees),
		`INSERT INTO acknowledgements (employee_id, policy_id, version_id, major, minor, sha256, acknowledged_at, method, created_at)
			SELECT e.id, v.policy_id, v.id, v.major, v.minor, v.sha256, '2024-01-20 09:00:00+00:00', 'import', '2024-01-20 09:00:00+00:00'
			FROM employees e CROSS JOIN policy_versions v`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
	} {
		if err := st.DB.Exec(q).Error; err != nil {
			b.Fatal(err)
		}
	}
	d, _ := Find("acknowledgements")
	p, _ := ParsePeriod("2024-01-01", "2024-12-31")
	svc := NewService(st, time.Now, Rules{NewHireDays: 30, NewVersionDays: 30}, nil)
	var exportTime, shellTime time.Duration
	var rows int64
	var growth uint64
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		start := time.Now()
		res, err := svc.Export(ctx, audit.System("bench"), "acknowledgements", p, Options{}, io.Discard)
		exportTime = time.Since(start)
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		rows = res.Rows
		if peak.Load() > before.HeapInuse {
			growth = peak.Load() - before.HeapInuse
		}

		shell := exec.Command("sqlite3", "-csv", st.Path, literalQuery(d, p))
		shell.Stdout = io.Discard
		var stderr strings.Builder
		shell.Stderr = &stderr
		start = time.Now()
		if err := shell.Run(); err != nil {
			b.Fatalf("sqlite3: %v %s", err, stderr.String())
		}
		shellTime = time.Since(start)
	}
	if rows != employees*20 {
		b.Fatalf("%d rows, want %d", rows, employees*20)
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(exportTime.Seconds(), "export-s")
	b.ReportMetric(shellTime.Seconds(), "sqlite3-s")
	b.ReportMetric(exportTime.Seconds()/shellTime.Seconds(), "ratio")
	b.ReportMetric(float64(growth)/(1<<20), "heap-growth-MB")
}
