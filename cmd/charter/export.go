package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/evidence"
	"github.com/spf13/cobra"
)

func newExportCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export DATASET --from YYYY-MM-DD --to YYYY-MM-DD [-o FILE]",
		Short: "Export one evidence dataset for an audit period as CSV",
		Long: "Export one evidence dataset as CSV, from one consistent snapshot, every cell escaped against spreadsheet formulas.\n" +
			"The export is recorded in the audit trail. Datasets: " + strings.Join(evidence.Names(), ", ") + ".",
		Args: cobra.ExactArgs(1),
	}
	sc := newStoreCommand(cmd)
	sc.binder.PeopleFlags(&sc.cfg)
	var from, to, out string
	var bom bool
	cmd.Flags().StringVar(&from, "from", "", "first day of the audit period (YYYY-MM-DD)")
	cmd.Flags().StringVar(&to, "to", "", "last day of the audit period (YYYY-MM-DD)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	cmd.Flags().BoolVar(&bom, "bom", false, "start with a UTF-8 byte-order mark, for Excel")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if _, err := evidence.Find(args[0]); err != nil {
			return err
		}
		period, err := evidence.ParsePeriod(from, to)
		if err != nil {
			return err
		}
		st, err := sc.open(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer st.Close()
		w := stdout
		var f *os.File
		if out != "" {
			if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
				return err
			}
			w = f
		}
		res, err := evidence.NewService(st, time.Now, evidenceRules(sc.cfg)).Export(cmd.Context(), cliActor(), args[0], period, evidence.Options{BOM: bom}, w)
		if f != nil {
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: %d rows, sha256 %s\n", res.Dataset, res.Rows, res.SHA256)
		return nil
	}
	return cmd
}
