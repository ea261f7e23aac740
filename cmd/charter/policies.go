package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newPoliciesCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "policies", Short: "Work with policy versions and their approval"}
	remind := &cobra.Command{
		Use:   "remind-approvers",
		Short: "Queue today's approval reminders: drafts waiting longer than --approval-reminder-days",
		Long: "Queue, in the outbox, a reminder to whoever may approve each policy draft that has waited for\n" +
			"approval --approval-reminder-days or longer (its named approver, or every other editor and admin).\n" +
			"No draft is brought up twice on the same day, however often this runs; serve runs the same work daily.",
		Args: cobra.NoArgs,
	}
	sc := newStoreCommand(remind)
	sc.binder.LinkFlags(&sc.cfg)
	sc.binder.PeopleFlags(&sc.cfg)
	remind.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		n, err := a.Policies.RemindApprovers(cmd.Context())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d draft(s) brought to their approvers again\n", n)
		return nil
	}
	cmd.AddCommand(remind)
	return cmd
}
