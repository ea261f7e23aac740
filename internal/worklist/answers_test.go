package worklist_test

import (
	"context"
	"testing"

	"github.com/charter-registry/charter/internal/app/apptest"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/questionnaire"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// TestAnswersWaitForOtherEditors: a draft answer waits for the editors
// who did not write it; an answer flagged by a new major version of a
// policy it cites waits for every editor, and for no viewer.
func TestAnswersWaitForOtherEditors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := apptest.New(t, st, apptest.Config(t))
		actor := func(name string) audit.Actor {
			u, err := a.Users.ByEmail(ctx, a.Emails[name])
			if err != nil {
				t.Fatal(err)
			}
			return audit.Actor{UserID: u.ID, Label: u.Email}
		}
		editor, editor2 := actor("editor"), actor("editor2")
		in := questionnaire.Input{Question: "Are backups tested?", Answer: "Monthly.", Access: "public", OwnerEmail: "sec@example.com",
			Evidence: []questionnaire.EvidenceInput{{Policy: "backup"}}}
		cited, err := a.Answers.Create(ctx, editor, in)
		if err != nil {
			t.Fatal(err)
		}
		waiting := func(who audit.Actor, key string) int {
			u, err := a.Users.ByEmail(ctx, who.Label)
			if err != nil {
				t.Fatal(err)
			}
			l, err := a.Worklist.For(ctx, u.ID, u.Role)
			if err != nil {
				t.Fatal(err)
			}
			if sec := section(l, key); sec != nil {
				return len(sec.Items)
			}
			return 0
		}
		if waiting(editor, "answers_approve") != 0 || waiting(editor2, "answers_approve") != 1 {
			t.Fatal("a draft answer should wait for the other editor only")
		}
		if _, err := a.Answers.Approve(ctx, editor2, cited.ID); err != nil {
			t.Fatal(err)
		}
		v, err := a.Policies.CreateDraft(ctx, editor, "backup", policy.Draft{Body: "# Backup\n\nHourly.", ChangeSummary: "Hourly", Material: new(true)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Policies.Approve(ctx, editor2, "backup", v.Number()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Policies.Publish(ctx, editor2, "backup", v.Number()); err != nil {
			t.Fatal(err)
		}
		if waiting(editor, "answers_review") != 1 || waiting(editor2, "answers_review") != 1 || waiting(actor("viewer"), "answers_review") != 0 {
			t.Fatal("a flagged answer should wait for every editor, and no viewer")
		}
	})
}
