package evidence

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
)

// sqliteTime is how the SQLite driver stores times, so that a literal in
// the equivalent query compares as the bound parameter does.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// literalQuery inlines a dataset's parameters for the sqlite3 shell.
func literalQuery(d *Dataset, p Period, r Rules) string {
	q := d.sql(store.SQLite)
	for _, a := range d.args(p, r) {
		var literal string
		switch a := a.(type) {
		case time.Time:
			literal = "'" + a.UTC().Format(sqliteTime) + "'"
		case string:
			literal = "'" + strings.ReplaceAll(a, "'", "''") + "'"
		default:
			literal = fmt.Sprint(a)
		}
		q = strings.Replace(q, "?", literal, 1)
	}
	return q
}

// BenchmarkAcknowledgementsExport exports the acknowledgement population
// at 1,000,000 rows (50,000 employees × 20 policies, all acknowledged) to
// io.Discard, sampling the heap meanwhile, and times sqlite3 -csv running
// the same query on the same file right after, three rounds, printing the
// BENCHROW lines make bench collects (issue 22: ratio ≤ 1.1, heap growth
// < 30 MB). Without sqlite3 the reference is "-".
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
	rules := Rules{NewHireDays: 30, NewVersionDays: 30}
	svc := NewService(st, time.Now, rules, nil)
	sqlite3, lookErr := exec.LookPath("sqlite3")
	const rounds = 3
	var exportSeconds, shellSeconds, ratios, growthMB []float64
	for b.Loop() {
		for range rounds {
			seconds, growth, rows, err := exportMeasured(ctx, svc, p)
			if err != nil {
				b.Fatal(err)
			}
			if rows != employees*20 {
				b.Fatalf("%d rows, want %d", rows, employees*20)
			}
			exportSeconds, growthMB = append(exportSeconds, seconds), append(growthMB, growth)
			if lookErr != nil {
				continue
			}
			shell := exec.Command(sqlite3, "-csv", st.Path, literalQuery(d, p, rules))
			shell.Stdout = io.Discard
			var stderr strings.Builder
			shell.Stderr = &stderr
			start := time.Now()
			if err := shell.Run(); err != nil {
				b.Fatalf("sqlite3: %v %s", err, stderr.String())
			}
			shellSeconds = append(shellSeconds, time.Since(start).Seconds())
			ratios = append(ratios, seconds/shellSeconds[len(shellSeconds)-1])
		}
	}
	b.ReportMetric(median(exportSeconds), "export-s")
	b.ReportMetric(median(growthMB), "heap-growth-MB")
	ref, ratio := "ref -", "ratio -"
	if len(shellSeconds) > 0 {
		b.ReportMetric(median(shellSeconds), "sqlite3-s")
		b.ReportMetric(median(ratios), "ratio")
		ref, ratio = "ref "+spread(shellSeconds, "%.2f")+" s", "ratio "+spread(ratios, "%.2f")
	}
	fmt.Printf("BENCHROW | acknowledgements CSV, 1,000,000 rows (sqlite3 -csv, same query and file) | %s s | %s | %s | goal ≤ 1.1\n",
		spread(exportSeconds, "%.2f"), ref, ratio)
	fmt.Printf("BENCHROW | acknowledgements CSV, 1,000,000 rows: heap growth | %s MB | ref - | ratio - | goal < 30 MB\n", spread(growthMB, "%.1f"))
}

// exportMeasured exports the acknowledgements to io.Discard, timing it and
// sampling the heap in use every 5 ms: growth is its peak over the heap
// before (after a GC), in MB.
func exportMeasured(ctx context.Context, svc *Service, p Period) (seconds, growthMB float64, rows int64, err error) {
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
	seconds = time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	if err != nil {
		return 0, 0, 0, err
	}
	if peak.Load() > before.HeapInuse {
		growthMB = float64(peak.Load()-before.HeapInuse) / (1 << 20)
	}
	return seconds, growthMB, res.Rows, nil
}

// median of the measurements.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

// spread is "min / median / max" of the measurements, each in layout.
func spread(xs []float64, layout string) string {
	s := slices.Sorted(slices.Values(xs))
	return fmt.Sprintf(layout+" / "+layout+" / "+layout, s[0], s[len(s)/2], s[len(s)-1])
}
