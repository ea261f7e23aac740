package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newPeopleCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "people", Short: "Work with employees and what they owe"}
	send := &cobra.Command{
		Use:   "send-ack-links",
		Short: "Queue a new acknowledgement link for every active employee who owes an acknowledgement",
		Long: "Queue, in the outbox, an email with a new personal acknowledgement link for every active employee\n" +
			"who still owes an acknowledgement; earlier links stop working. The links use --base-url.",
		Args: cobra.NoArgs,
	}
	sc := newStoreCommand(send)
	sc.binder.LinkFlags(&sc.cfg)
	sc.binder.PeopleFlags(&sc.cfg)
	send.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		plan, err := a.People.PlanAckLinks(cmd.Context())
		if err != nil {
			return err
		}
		n, err := a.People.SendAckLinks(cmd.Context(), cliActor(), len(plan.Recipients))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d acknowledgement link(s) queued in the outbox\n", n)
		return nil
	}
	remind := &cobra.Command{
		Use:   "remind",
		Short: "Queue today's reminders: to each active employee, what is overdue or due within 7 days",
		Long: "Queue, in the outbox, one email to each active employee who has policies to acknowledge or training\n" +
			"overdue or due within 7 days (with a new personal link when policies are owed). Nobody is reminded twice\n" +
			"on the same day, however often this runs; serve runs the same work daily unless --reminders=false.",
		Args: cobra.NoArgs,
	}
	rsc := newStoreCommand(remind)
	rsc.binder.LinkFlags(&rsc.cfg)
	rsc.binder.PeopleFlags(&rsc.cfg)
	remind.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := rsc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		n, err := a.People.QueueReminders(cmd.Context(), cliActor())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d reminder(s) queued in the outbox\n", n)
		return nil
	}
	rebuild := &cobra.Command{
		Use:   "rebuild-compliance",
		Short: "Compute again, from the records, what each employee owes (the state the overview and the people list read)",
		Long: "Compute again, from the acknowledgements, training, background checks, start dates, policies and courses,\n" +
			"every employee's outstanding obligations, which the overview and the people list read. Every change keeps\n" +
			"them up to date and serve recomputes them when the deadline settings change; this is for a database\n" +
			"changed by other means. It uses the deadline settings (--ack-due-* and --background-check-due-days).",
		Args: cobra.NoArgs,
	}
	bsc := newStoreCommand(rebuild)
	bsc.binder.PeopleFlags(&bsc.cfg)
	rebuild.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := bsc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		n, err := a.People.RebuildCompliance(cmd.Context())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Compliance state rebuilt: %d outstanding or expiring obligation(s)\n", n)
		return nil
	}
	cmd.AddCommand(send, remind, rebuild)
	return cmd
}
