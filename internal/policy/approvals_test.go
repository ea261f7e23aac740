package policy_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// approvalFixture has two editors (alice, bob), an admin (carol), a third
// editor (dave) and a viewer (vic), with approvals wired as the app does.
type approvalFixture struct {
	*fixture
	carol, dave audit.Actor
}

func setupApprovals(t *testing.T, st *store.Store) *approvalFixture {
	t.Helper()
	f := &approvalFixture{fixture: setup(t, st)}
	users := auth.NewService(st.DB, func() time.Time { return *f.clock })
	for _, u := range []struct {
		email string
		role  auth.Role
		into  *audit.Actor
	}{{"carol@example.com", auth.Admin, &f.carol}, {"dave@example.com", auth.Editor, &f.dave}, {"vic@example.com", auth.Viewer, nil}} {
		made, err := users.Create(f.ctx, audit.System("test"), auth.NewUser{Email: u.email, Role: u.role, Password: "a long unusual passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		if u.into != nil {
			*u.into = made.Actor("192.0.2.1", "test", "req")
		}
	}
	f.svc.SetApprovals(policy.Approvals{BaseURL: "https://charter.example", RemindAfter: 3 * 24 * time.Hour,
		Approvers: func(ctx context.Context) ([]policy.Approver, error) {
			all, err := users.List(ctx)
			var out []policy.Approver
			for _, u := range all {
				if u.Active() && u.Role.Allows(auth.Editor) {
					out = append(out, policy.Approver{UserID: u.ID, Email: u.Email, Admin: u.Role == auth.Admin})
				}
			}
			return out, err
		}})
	return f
}

// outbox returns the addresses of the emails of kind, sorted.
func outbox(t *testing.T, st *store.Store, kind string) []string {
	t.Helper()
	var to []string
	if err := st.DB.Model(&notify.Message{}).Where("kind = ?", kind).Order("to_addr").Pluck("to_addr", &to).Error; err != nil {
		t.Fatal(err)
	}
	return to
}

func TestSubmittingADraftEmailsItsApprovers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setupApprovals(t, st)
		v, err := f.svc.CreateDraft(f.ctx, f.alice, "backup", policy.Draft{Body: "# Backup\n\nHourly.", ChangeSummary: "Hourly", Material: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if v.SubmittedAt == nil || v.ApproverID != nil {
			t.Fatalf("submitted %v approver %v", v.SubmittedAt, v.ApproverID)
		}
		// Every other editor and admin, never the author nor a viewer.
		want := []string{"bob@example.com", "carol@example.com", "dave@example.com"}
		if got := outbox(t, st, "approval_request"); !slices.Equal(got, want) {
			t.Fatalf("emailed %v, want %v", got, want)
		}
	})
}

func TestNamedApprover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setupApprovals(t, st)
		ctx := f.ctx
		draft := func(approver string) policy.Draft {
			return policy.Draft{Body: "# Backup\n\nHourly.", ChangeSummary: "Hourly", Material: ptr(false), Approver: approver}
		}
		for _, c := range []struct{ name, approver string }{
			{"the author", "alice@example.com"}, {"a viewer", "vic@example.com"}, {"nobody known", "zed@example.com"},
		} {
			t.Run("refused: "+c.name, func(t *testing.T) {
				_, err := f.svc.CreateDraft(ctx, f.alice, "backup", draft(c.approver))
				if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || e.Fields["approver"] == "" {
					t.Fatalf("err = %v, want Invalid naming approver", err)
				}
			})
		}
		v, err := f.svc.CreateDraft(ctx, f.alice, "backup", draft(" Bob@Example.com "))
		if err != nil {
			t.Fatal(err)
		}
		if v.Approver != "bob@example.com" {
			t.Fatalf("approver %q", v.Approver)
		}
		if got := outbox(t, st, "approval_request"); !slices.Equal(got, []string{"bob@example.com"}) {
			t.Fatalf("emailed %v, want only the named approver", got)
		}
		var submitted int64
		st.DB.Model(&audit.Event{}).Where("action = ? AND object_id = ?", "policy.version.submitted", "backup@1.1").Count(&submitted)
		if submitted != 1 {
			t.Fatalf("%d submitted events", submitted)
		}
		// The rule the pages show is the rule Approve applies.
		cases := []struct {
			name  string
			by    audit.Actor
			admin bool
			kind  apperr.Kind
		}{
			{"author refused", f.alice, false, apperr.Forbidden},
			{"another editor refused", f.dave, false, apperr.Forbidden},
			{"the named approver approves", f.bob, false, apperr.Internal},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, cur, err := f.svc.Version(ctx, "backup", "1.1")
				if err != nil {
					t.Fatal(err)
				}
				can := cur.CanApprove(c.by.UserID, c.admin)
				_, err = f.svc.Approve(ctx, c.by, "backup", "1.1")
				if (c.kind == apperr.Internal) != (err == nil) || (err != nil && !apperr.Is(err, c.kind)) {
					t.Fatalf("err = %v, want %v", err, c.kind)
				}
				if can != (err == nil) {
					t.Fatalf("CanApprove = %v but Approve err = %v", can, err)
				}
			})
		}
	})
}

func TestAnAdminMayApproveInsteadOfTheNamedApprover(t *testing.T) {
	f := setupApprovals(t, storetest.SQLite(t))
	if _, err := f.svc.CreateDraft(f.ctx, f.alice, "backup", policy.Draft{Body: "new", ChangeSummary: "s", Material: ptr(false), Approver: "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Approve(f.ctx, f.carol, "backup", "1.1"); err != nil {
		t.Fatalf("admin approving: %v", err)
	}
}

func TestUnchangedDraftsAreRefused(t *testing.T) {
	f := setupApprovals(t, storetest.SQLite(t))
	_, cur, err := f.svc.Version(f.ctx, "backup", "1.0")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateDraft(f.ctx, f.alice, "backup", policy.Draft{Body: cur.Body, ChangeSummary: "nothing", Material: ptr(false)})
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || e.Fields["body"] == "" {
		t.Fatalf("same text as published: %v", err)
	}
	d := policy.Draft{Body: "new text", ChangeSummary: "s", Material: ptr(false)}
	if _, err := f.svc.CreateDraft(f.ctx, f.alice, "backup", d); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateDraft(f.ctx, f.alice, "backup", "1.1", d)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || e.Fields["body"] == "" {
		t.Fatalf("unchanged draft saved again: %v", err)
	}
	d.Approver = "bob@example.com"
	if _, err := f.svc.UpdateDraft(f.ctx, f.alice, "backup", "1.1", d); err != nil {
		t.Fatalf("naming an approver is a change: %v", err)
	}
}

func TestApprovalRemindersOncePerDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setupApprovals(t, st)
		if _, err := f.svc.CreateDraft(f.ctx, f.alice, "backup", policy.Draft{Body: "new", ChangeSummary: "s", Material: ptr(false), Approver: "dave@example.com"}); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name      string
			advance   time.Duration
			reminded  int
			totalSent int
		}{
			{"not yet after two days", 2 * 24 * time.Hour, 0, 0},
			{"reminded after three days", 24 * time.Hour, 1, 1},
			{"not twice the same day", time.Hour, 0, 1},
			{"again the next day", 24 * time.Hour, 1, 2},
		}
		for _, s := range steps {
			*f.clock = f.clock.Add(s.advance)
			n, err := f.svc.RemindApprovers(f.ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := outbox(t, st, "approval_reminder")
			if n != s.reminded || len(got) != s.totalSent {
				t.Fatalf("%s: reminded %d, outbox %v", s.name, n, got)
			}
			if len(got) > 0 && got[0] != "dave@example.com" {
				t.Fatalf("%s: reminder to %v, want the named approver", s.name, got)
			}
		}
		// An approved draft is no longer brought up.
		if _, err := f.svc.Approve(f.ctx, f.dave, "backup", "1.1"); err != nil {
			t.Fatal(err)
		}
		*f.clock = f.clock.Add(24 * time.Hour)
		if n, err := f.svc.RemindApprovers(f.ctx); err != nil || n != 0 {
			t.Fatalf("after approval: reminded %d, %v", n, err)
		}
	})
}
