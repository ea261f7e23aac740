package worklist_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app/apptest"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/exception"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/internal/worklist"
)

func section(l *worklist.List, key string) *worklist.Section {
	for i := range l.Sections {
		if l.Sections[i].Key == key {
			return &l.Sections[i]
		}
	}
	return nil
}

func TestWhatWaitsForWhom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := apptest.New(t, st, apptest.Config(t))
		user := func(name string) (int64, auth.Role) {
			u, err := a.Users.ByEmail(ctx, a.Emails[name])
			if err != nil {
				t.Fatal(err)
			}
			return u.ID, u.Role
		}
		listFor := func(name string) *worklist.List {
			id, role := user(name)
			l, err := a.Worklist.For(ctx, id, role)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		authorID, _ := user("editor")
		author := audit.Actor{UserID: authorID, Label: a.Emails["editor"]}
		if _, err := a.Policies.CreateDraft(ctx, author, "backup", policy.Draft{Body: "# Backup\n\nHourly.", ChangeSummary: "Hourly", Material: new(false)}); err != nil {
			t.Fatal(err)
		}
		a.Clock.Advance(3*24*time.Hour + time.Hour)

		cases := []struct {
			who         string
			wantApprove bool
		}{{"editor", false}, {"editor2", true}, {"admin", true}, {"auditor", false}, {"viewer", false}}
		for _, c := range cases {
			t.Run(c.who, func(t *testing.T) {
				sec := section(listFor(c.who), "approve")
				if (sec != nil) != c.wantApprove {
					t.Fatalf("drafts to approve shown: %v, want %v", sec != nil, c.wantApprove)
				}
				if sec == nil {
					return
				}
				it := sec.Items[0]
				if it.Title != "Backup Policy 1.1" || it.Age != "3 days" || it.ApprovePath != "/app/policies/backup/versions/1.1/approve" {
					t.Fatalf("item %+v", it)
				}
			})
		}

		// A review past its date waits for every role, marked urgent.
		a.Clock.Advance(13 * 30 * 24 * time.Hour)
		for _, who := range []string{"viewer", "editor"} {
			sec := section(listFor(who), "reviews")
			if sec == nil || len(sec.Items) == 0 || !sec.Items[0].Urgent {
				t.Fatalf("%s: reviews %+v", who, sec)
			}
			if who == "viewer" && sec.Items[0].Action != "View" {
				t.Fatalf("a viewer is offered %q", sec.Items[0].Action)
			}
		}
	})
}

// TestExceptionsWaiting: a request waits for the editors and admins other
// than its requester; an exception in force shows to every role once it
// is within the reminder window of its expiry, and not before.
func TestExceptionsWaiting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := apptest.New(t, st, apptest.Config(t))
		actor := func(name string) (audit.Actor, auth.Role) {
			u, err := a.Users.ByEmail(ctx, a.Emails[name])
			if err != nil {
				t.Fatal(err)
			}
			return audit.Actor{UserID: u.ID, Label: u.Email}, u.Role
		}
		listFor := func(name string) *worklist.List {
			who, role := actor(name)
			l, err := a.Worklist.For(ctx, who.UserID, role)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		requester, _ := actor("editor")
		expires := a.Clock.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
		e, err := a.Exceptions.Request(ctx, requester, exception.Input{Policy: "password", Scope: "bill-01", Reason: "Vendor appliance",
			CompensatingControls: "Isolated network", ExpiresOn: expires})
		if err != nil {
			t.Fatal(err)
		}
		for who, want := range map[string]bool{"editor": false, "editor2": true, "admin": true, "auditor": false, "viewer": false} {
			if got := section(listFor(who), "exceptions") != nil; got != want {
				t.Errorf("%s: request to approve shown %v, want %v", who, got, want)
			}
		}
		approver, _ := actor("editor2")
		if _, err := a.Exceptions.Approve(ctx, approver, e.ID, ""); err != nil {
			t.Fatal(err)
		}
		if sec := section(listFor("viewer"), "exceptions_expiring"); sec != nil {
			t.Fatalf("30 days ahead, outside the %d-day window: %+v", a.Exceptions.ReminderDays(), sec)
		}
		a.Clock.Advance(time.Duration(30-a.Exceptions.ReminderDays()) * 24 * time.Hour)
		for _, who := range []string{"viewer", "editor"} {
			sec := section(listFor(who), "exceptions_expiring")
			if sec == nil || len(sec.Items) != 1 || sec.Items[0].Href != "/app/exceptions/"+strconv.FormatInt(e.ID, 10) {
				t.Fatalf("%s: expiring %+v", who, sec)
			}
		}
	})
}
