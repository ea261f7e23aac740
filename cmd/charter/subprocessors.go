package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newSubprocessorsCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "subprocessors", Short: "Work with the sub-processor list and its change notices"}
	apply := &cobra.Command{
		Use:   "apply-due",
		Short: "Apply every announced sub-processor change whose effective date has come",
		Long: "Apply, each in its own transaction, every scheduled sub-processor change whose effective date is today\n" +
			"or earlier: an added sub-processor becomes active, a removed one is marked removed. serve does the same\n" +
			"daily; running both, or several instances, applies each change once.",
		Args: cobra.NoArgs,
	}
	sc := newStoreCommand(apply)
	apply.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		svc := a.Privacy
		n, err := svc.ApplyDue(cmd.Context(), cliActor())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d sub-processor change(s) applied\n", n)
		return nil
	}
	list := &cobra.Command{Use: "list", Short: "Print the sub-processors with their status", Args: cobra.NoArgs}
	lsc := newStoreCommand(list)
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := lsc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		svc := a.Privacy
		subs, err := svc.Subprocessors(cmd.Context(), "")
		if err != nil {
			return err
		}
		for _, p := range subs {
			fmt.Fprintf(stdout, "%-9s %-30s %s\n", p.Status, p.Name, p.Purpose)
		}
		return nil
	}
	cmd.AddCommand(apply, list)
	return cmd
}
