package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newExceptionsCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "exceptions", Short: "Work with the policy exceptions register"}
	expire := &cobra.Command{
		Use:   "expire",
		Short: "Lapse the policy exceptions whose expiry has come and queue the reminders due",
		Long: "Mark lapsed every approved policy exception whose expiry date is today or earlier (an audit event\n" +
			"each, and an email to its requester and approver), then queue one reminder for each exception\n" +
			"expiring within --exception-reminder-days. Running it again the same day changes nothing;\n" +
			"serve runs the same work daily.",
		Args: cobra.NoArgs,
	}
	sc := newStoreCommand(expire)
	sc.binder.LinkFlags(&sc.cfg)
	sc.binder.ExceptionFlags(&sc.cfg)
	expire.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		lapsed, reminded, err := a.Exceptions.RunExpiry(cmd.Context())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d exception(s) lapsed, %d reminded\n", lapsed, reminded)
		return nil
	}
	cmd.AddCommand(expire)
	return cmd
}
