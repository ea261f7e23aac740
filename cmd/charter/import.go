package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/people"
	"github.com/spf13/cobra"
)

func newImportCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Import records from CSV files"}
	employees := &cobra.Command{
		Use:   "employees FILE",
		Short: "Import or update employees from a CSV file; nothing is written if any row is bad",
		Long: "Import employees from a UTF-8 CSV file (a byte order mark is fine) whose first line is a header\n" +
			"naming some of these columns: " + strings.Join(people.EmployeeColumns, ", ") + ".\n" +
			"email, name and start_date are required; dates are YYYY-MM-DD; country is a two-letter ISO code;\n" +
			"employment_type is employee (the default) or contractor. Setting end_date offboards someone.\n" +
			"Every row is checked first: if any is bad, each problem is printed with its line and column and\n" +
			"nothing is written. Rows are matched by email, so importing the same file twice changes nothing.",
		Args: cobra.ExactArgs(1),
	}
	sc := newStoreCommand(employees)
	employees.RunE = func(cmd *cobra.Command, args []string) error {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		rows, errs := people.ParseEmployeesCSV(f)
		if len(errs) > 0 {
			fmt.Fprintf(stdout, "%s: %d problem(s); nothing was imported:\n", args[0], len(errs))
			for _, e := range errs {
				fmt.Fprintln(stdout, "  "+e.String())
			}
			return exitError{}
		}
		st, err := sc.open(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer st.Close()
		res, err := people.NewService(st.DB, time.Now, people.DefaultSettings).ImportEmployees(cmd.Context(), cliActor(), rows)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d created, %d updated, %d unchanged\n", args[0], res.Created, res.Updated, res.Unchanged)
		return nil
	}
	acks := &cobra.Command{
		Use:   "acknowledgements FILE",
		Short: "Import historical policy acknowledgements from a CSV file; nothing is written if any row is bad",
		Long: "Import acknowledgements made before Charter (for example exported from another tool) from a UTF-8 CSV\n" +
			"file with the columns " + strings.Join(people.AckColumns, ", ") + ": the employee's email, the\n" +
			"policy's slug (as in charter's policy list), the version acknowledged (such as 1.0, which must have been\n" +
			"published in Charter) and when (YYYY-MM-DD or an RFC 3339 time). They are recorded with method \"import\"\n" +
			"and their original times. Every row is checked first; importing the same file twice changes nothing.",
		Args: cobra.ExactArgs(1),
	}
	asc := newStoreCommand(acks)
	acks.RunE = func(cmd *cobra.Command, args []string) error {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		rows, errs := people.ParseAcknowledgementsCSV(f, time.Now())
		if len(errs) == 0 {
			st, err := asc.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := people.NewService(st.DB, time.Now, people.DefaultSettings).ImportAcknowledgements(cmd.Context(), cliActor(), rows)
			if err == nil {
				fmt.Fprintf(stdout, "%s: %d recorded, %d already recorded\n", args[0], res.Created, res.Unchanged)
				return nil
			}
			if len(res.Errors) == 0 {
				return err
			}
			errs = res.Errors
		}
		fmt.Fprintf(stdout, "%s: %d problem(s); nothing was imported:\n", args[0], len(errs))
		for _, e := range errs {
			fmt.Fprintln(stdout, "  "+e.String())
		}
		return exitError{}
	}
	training := &cobra.Command{
		Use:   "training FILE",
		Short: "Import training completions from a CSV file; nothing is written if any row is bad",
		Long: "Import completed training from a UTF-8 CSV file with the columns " + strings.Join(people.TrainingColumns, ", ") + ":\n" +
			"the employee's email, the course's name, the completion date (YYYY-MM-DD) and optionally where the record\n" +
			"comes from (default \"import\"). Every cycle is kept; importing the same file twice changes nothing.",
		Args: cobra.ExactArgs(1),
	}
	tsc := newStoreCommand(training)
	training.RunE = func(cmd *cobra.Command, args []string) error {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		rows, errs := people.ParseTrainingCSV(f, time.Now().UTC())
		if len(errs) == 0 {
			st, err := tsc.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := people.NewService(st.DB, time.Now, people.DefaultSettings).ImportTraining(cmd.Context(), cliActor(), rows)
			if err == nil {
				fmt.Fprintf(stdout, "%s: %d recorded, %d already recorded\n", args[0], res.Created, res.Unchanged)
				return nil
			}
			if len(res.Errors) == 0 {
				return err
			}
			errs = res.Errors
		}
		fmt.Fprintf(stdout, "%s: %d problem(s); nothing was imported:\n", args[0], len(errs))
		for _, e := range errs {
			fmt.Fprintln(stdout, "  "+e.String())
		}
		return exitError{}
	}
	cmd.AddCommand(employees, acks, training)
	return cmd
}
