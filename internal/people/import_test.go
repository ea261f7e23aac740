package people_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

const goodCSV = "\ufeffemail,name,title,department,manager_email,country,employment_type,start_date,end_date\n" +
	"ana@example.com,Ana Souza,Engineer,Engineering,ben@example.com,BR,employee,2024-02-01,\n" +
	"ben@example.com,\"Okafor, Ben\",Head of Engineering,Engineering,,NG,,2023-01-09,\n" +
	"cy@example.com,Cy Park,Contractor,Design,ben@example.com,KR,contractor,2025-05-05,2025-11-30\n"

func TestImportIsAllOrNothingAndIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		bad := strings.Replace(goodCSV, "Cy Park,Contractor,Design,ben@example.com,KR,contractor,2025-05-05", "Cy Park,Contractor,Design,ben@example.com,Korea,contractor,2025-05-35", 1)
		rows, errs := people.ParseEmployeesCSV(check.New(), strings.NewReader(bad))
		if len(errs) != 2 || errs[0] != (people.RowError{Line: 4, Column: "country", Reason: "must be a two-letter ISO 3166 country code such as DE or US"}) || errs[1].Column != "start_date" || errs[1].Line != 4 {
			t.Fatalf("errors: %v", errs)
		}
		if len(rows) != 2 {
			t.Fatalf("%d good rows parsed", len(rows))
		}
		var n int64
		st.DB.Model(&people.Employee{}).Count(&n)
		if n != 0 {
			t.Fatal("parsing wrote rows")
		}

		rows, errs = people.ParseEmployeesCSV(check.New(), strings.NewReader(goodCSV))
		if errs != nil {
			t.Fatal(errs)
		}
		res, err := f.people.ImportEmployees(f.ctx, f.hr, rows)
		if err != nil || res.Created != 3 || res.Updated != 0 {
			t.Fatalf("first import: %+v %v", res, err)
		}
		ben, _ := f.people.Get(f.ctx, "ben@example.com")
		if ben.Name != "Okafor, Ben" || ben.EmploymentType != people.Staff {
			t.Fatalf("ben: %+v", ben)
		}
		var events int64
		st.DB.Table("audit_events").Count(&events)
		res, err = f.people.ImportEmployees(f.ctx, f.hr, rows)
		if err != nil || res.Unchanged != 3 || res.Created+res.Updated != 0 {
			t.Fatalf("second import: %+v %v", res, err)
		}
		var after int64
		st.DB.Table("audit_events").Count(&after)
		if after != events {
			t.Fatalf("second import wrote %d audit events", after-events)
		}
		changed := strings.Replace(goodCSV, "Engineer,Engineering", "Senior Engineer,Engineering", 1)
		rows, _ = people.ParseEmployeesCSV(check.New(), strings.NewReader(changed))
		if res, _ := f.people.ImportEmployees(f.ctx, f.hr, rows); res.Updated != 1 || res.Unchanged != 2 {
			t.Fatalf("changed import: %+v", res)
		}
	})
}

func TestParseEmployeesCSVReportsEachProblem(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // "line:column" of each error
	}{
		{"empty", "", []string{"1:"}},
		{"header only", "email,name,start_date\n", []string{"2:"}},
		{"unknown column", "email,name,start_date,shoe_size\n", []string{"1:shoe_size"}},
		{"missing required", "email,name\n", []string{"1:start_date"}},
		{"duplicate column", "email,name,start_date,name\n", []string{"1:name"}},
		{"duplicate email", "email,name,start_date\na@x.io,A,2025-01-01\nA@X.io,B,2025-01-01\n", []string{"3:email"}},
		{"too many fields", "email,name,start_date\na@x.io,A,2025-01-01,extra\n", []string{"2:"}},
		{"bad quote", "email,name,start_date\na@x.io,\"A,2025-01-01\n", []string{"2:"}},
		{"quoted newline keeps line numbers", "email,name,start_date\na@x.io,\"Line\nBreak\",2025-01-01\nb@x.io,B,someday\n", []string{"4:start_date"}},
		{"latin-1", "email,name,start_date\na@x.io,Jos\xe9,2025-01-01\n", []string{"2:"}},
		{"blank lines skipped", "email,name,start_date\n\na@x.io,A,2025-01-01\n\n", nil},
		{"crlf", "email,name,start_date\r\na@x.io,A,2025-01-01\r\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := people.ParseEmployeesCSV(check.New(), strings.NewReader(c.src))
			var got []string
			for _, e := range errs {
				got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Column))
				if e.Reason == "" {
					t.Errorf("error without a reason: %+v", e)
				}
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Fatalf("errors %v (%v), want %v", got, errs, c.want)
			}
		})
	}
}

// countQueries counts every SQL statement run through db.
func countQueries(t *testing.T, db *gorm.DB) *atomic.Int64 {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	cb := db.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("test:count_query", count),
		cb.Row().After("gorm:row").Register("test:count_row", count),
		cb.Raw().After("gorm:raw").Register("test:count_raw", count),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &n
}

func TestListAndOverviewRunAFixedNumberOfQueries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		queries := countQueries(t, st.DB)
		added := 0
		var perSize []int64
		for _, size := range []int{10, 1000} {
			batch := make([]people.Employee, 0, size-added)
			for i := added; i < size; i++ {
				batch = append(batch, people.Employee{Email: fmt.Sprintf("p%04d@example.com", i), Name: fmt.Sprintf("Person %04d", i),
					EmploymentType: people.Staff, StartDate: day0.AddDate(-1, 0, 0), CreatedAt: day0, UpdatedAt: day0})
			}
			if err := st.DB.CreateInBatches(batch, 200).Error; err != nil {
				t.Fatal(err)
			}
			added = size
			for i := 0; i < size; i += 3 {
				f.people.Acknowledge(f.ctx, f.hr, fmt.Sprintf("p%04d@example.com", i), "backup", people.MethodAPI)
			}
			queries.Store(0)
			page, err := f.people.ListPage(f.ctx, people.ListFilter{}, 0, 100)
			if err != nil || page.Total != size || len(page.Rows) != min(size, 100) {
				t.Fatalf("list of %d: %+v, %v", size, page, err)
			}
			listQueries := queries.Load()
			queries.Store(0)
			if _, err := f.people.Overview(f.ctx); err != nil {
				t.Fatal(err)
			}
			perSize = append(perSize, listQueries, queries.Load())
		}
		if perSize[0] != perSize[2] || perSize[0] > 7 {
			t.Fatalf("list queries for 10 and 1,000 employees: %d and %d; want the same small number", perSize[0], perSize[2])
		}
		if perSize[1] != perSize[3] || perSize[1] > 7 {
			t.Fatalf("overview queries for 10 and 1,000 employees: %d and %d; want the same small number", perSize[1], perSize[3])
		}
	})
}
