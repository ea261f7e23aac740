package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/people"
	"github.com/spf13/cobra"
)

func newImportCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Import records from CSV files"}
	cmd.AddCommand(
		importCommand(stdout, "employees FILE",
			"Import or update employees from a CSV file; nothing is written if any row is bad",
			"Import employees from a UTF-8 CSV file (a byte order mark is fine) whose first line is a header\n"+
				"naming some of these columns: "+strings.Join(people.EmployeeColumns, ", ")+".\n"+
				"email, name and start_date are required; dates are YYYY-MM-DD; country is a two-letter ISO code;\n"+
				"employment_type is employee (the default) or contractor. Setting end_date offboards someone.\n"+
				"Every row is checked first: if any is bad, each problem is printed with its line and column and\n"+
				"nothing is written. Rows are matched by email, so importing the same file twice changes nothing.",
			(*people.Service).ImportEmployeesCSV,
			func(r people.ImportResult) string {
				return fmt.Sprintf("%d created, %d updated, %d unchanged", r.Created, r.Updated, r.Unchanged)
			}),
		importCommand(stdout, "acknowledgements FILE",
			"Import historical policy acknowledgements from a CSV file; nothing is written if any row is bad",
			"Import acknowledgements made before Charter (for example exported from another tool) from a UTF-8 CSV\n"+
				"file with the columns "+strings.Join(people.AckColumns, ", ")+": the employee's email, the\n"+
				"policy's slug (as in charter's policy list), the version acknowledged (such as 1.0, which must have been\n"+
				"published in Charter) and when (YYYY-MM-DD or an RFC 3339 time). They are recorded with method \"import\"\n"+
				"and their original times. Every row is checked first; importing the same file twice changes nothing.",
			(*people.Service).ImportAcknowledgementsCSV, recorded),
		importCommand(stdout, "training FILE",
			"Import training completions from a CSV file; nothing is written if any row is bad",
			"Import completed training from a UTF-8 CSV file with the columns "+strings.Join(people.TrainingColumns, ", ")+":\n"+
				"the employee's email, the course's name, the completion date (YYYY-MM-DD) and optionally where the record\n"+
				"comes from (default \"import\"). Every cycle is kept; importing the same file twice changes nothing.",
			(*people.Service).ImportTrainingCSV, recorded),
	)
	return cmd
}

func recorded(r people.ImportResult) string {
	return fmt.Sprintf("%d recorded, %d already recorded", r.Created, r.Unchanged)
}

// importCommand is one `charter import KIND FILE` command: it runs the
// import and prints the counts, or every problem with its line and column.
func importCommand(stdout io.Writer, use, short, long string,
	run func(*people.Service, context.Context, audit.Actor, io.Reader) (people.ImportResult, error),
	describe func(people.ImportResult) string) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Long: long, Args: cobra.ExactArgs(1)}
	sc := newStoreCommand(c)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		res, err := run(a.People, cmd.Context(), cliActor(), f)
		if len(res.Errors) > 0 {
			fmt.Fprintf(stdout, "%s: %d problem(s); nothing was imported:\n", args[0], len(res.Errors))
			for _, e := range res.Errors {
				fmt.Fprintln(stdout, "  "+e.String())
			}
			return exitError{}
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s\n", args[0], describe(res))
		return nil
	}
	return c
}
