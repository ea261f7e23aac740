package people_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// BenchmarkImportEmployees parses and imports a 10,000-row roster into an
// empty register (each row created and audited), on a SQLite file.
func BenchmarkImportEmployees(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("email,name,title,department,manager_email,country,employment_type,start_date\n")
	for i := 0; i < 10_000; i++ {
		fmt.Fprintf(&csv, "person%05d@example.com,Person %05d,Engineer,Engineering,lead@example.com,DE,employee,2024-02-01\n", i, i)
	}
	data := csv.String()
	for b.Loop() {
		b.StopTimer()
		st := storetest.SQLite(b)
		svc := people.NewService(st.DB, func() time.Time { return day0 }, people.DefaultSettings)
		b.StartTimer()
		rows, errs := people.ParseEmployeesCSV(check.New(), strings.NewReader(data))
		if errs != nil {
			b.Fatal(errs)
		}
		res, err := svc.ImportEmployees(b.Context(), audit.System("bench"), rows)
		if err != nil || res.Created != 10_000 {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
