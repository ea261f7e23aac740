package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
)

var now = time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)

type fixture struct {
	svc        *policy.Service
	st         *store.Store
	alice, bob audit.Actor
	clock      *time.Time
	ctx        context.Context
}

func setup(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	clock := now
	f := &fixture{st: st, clock: &clock, ctx: context.Background()}
	f.svc = policy.NewService(st.DB, func() time.Time { return *f.clock })
	users := auth.NewService(st.DB, func() time.Time { return *f.clock })
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		u, err := users.Create(f.ctx, audit.System("test"), auth.NewUser{Email: email, Role: auth.Editor, Password: "a long unusual passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		a := u.Actor("192.0.2.1", "test", "req")
		if email == "alice@example.com" {
			f.alice = a
		} else {
			f.bob = a
		}
	}
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Seed(f.ctx, audit.System("system:seed"), templates); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSeedPublishesTwentyPoliciesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		templates, _ := policy.LoadTemplates(policies.Files)
		n, err := f.svc.Seed(f.ctx, audit.System("system:seed"), templates)
		if err != nil || n != 0 {
			t.Fatalf("second seed created %d (err %v), want 0", n, err)
		}
		list, err := f.svc.List(f.ctx, policy.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 20 {
			t.Fatalf("%d policies, want 20", len(list))
		}
		for _, s := range list {
			if s.Current == nil || s.Current.Number() != "1.0" || s.Current.Status != policy.StatusPublished || len(s.Current.SHA256) != 64 {
				t.Errorf("%s: current version %+v, want 1.0 published with a hash", s.Slug, s.Current)
			}
			if s.NextReviewAt == nil || !s.NextReviewAt.After(now) {
				t.Errorf("%s: next review %v", s.Slug, s.NextReviewAt)
			}
		}
	})
}

func TestVersionLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		ctx := f.ctx
		body := "# Backup Policy\n\nBackups are taken hourly.\n"

		v, err := f.svc.CreateDraft(ctx, f.alice, "backup", policy.Draft{Body: body, ChangeSummary: "Hourly backups", Material: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if v.Number() != "2.0" || v.Status != policy.StatusDraft || v.SHA256 != "" {
			t.Fatalf("draft = %s %s %q", v.Number(), v.Status, v.SHA256)
		}

		steps := []struct {
			name string
			do   func() error
			kind apperr.Kind // Internal means success
		}{
			{"second draft refused while one is open", func() error {
				_, err := f.svc.CreateDraft(ctx, f.bob, "backup", policy.Draft{Body: "x", ChangeSummary: "y", Material: ptr(false)})
				return err
			}, apperr.Conflict},
			{"publishing a draft refused", func() error { _, err := f.svc.Publish(ctx, f.bob, "backup", "2.0"); return err }, apperr.Conflict},
			{"ErrSelfApproval for the author", func() error { _, err := f.svc.Approve(ctx, f.alice, "backup", "2.0"); return err }, apperr.Forbidden},
			{"system cannot approve", func() error {
				_, err := f.svc.Approve(ctx, audit.System("cli"), "backup", "2.0")
				return err
			}, apperr.Forbidden},
			{"another user approves", func() error { _, err := f.svc.Approve(ctx, f.bob, "backup", "2.0"); return err }, apperr.Internal},
			{"approving twice refused", func() error { _, err := f.svc.Approve(ctx, f.bob, "backup", "2.0"); return err }, apperr.Conflict},
			{"publish", func() error { _, err := f.svc.Publish(ctx, f.alice, "backup", "2.0"); return err }, apperr.Internal},
			{"editing a published version refused", func() error {
				_, err := f.svc.UpdateDraft(ctx, f.alice, "backup", "2.0", policy.Draft{Body: "new", ChangeSummary: "s", Material: ptr(false)})
				return err
			}, apperr.Conflict},
			{"publishing again refused", func() error { _, err := f.svc.Publish(ctx, f.alice, "backup", "2.0"); return err }, apperr.Conflict},
			{"approving a published version refused", func() error { _, err := f.svc.Approve(ctx, f.bob, "backup", "2.0"); return err }, apperr.Conflict},
			{"unknown version", func() error { _, err := f.svc.Approve(ctx, f.bob, "backup", "9.9"); return err }, apperr.NotFound},
			{"unknown policy", func() error { _, err := f.svc.Approve(ctx, f.bob, "nope", "1.0"); return err }, apperr.NotFound},
		}
		for _, s := range steps {
			err := s.do()
			if s.kind == apperr.Internal && err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if s.kind != apperr.Internal && !apperr.Is(err, s.kind) {
				t.Fatalf("%s: err = %v, want kind %d", s.name, err, s.kind)
			}
		}

		d, err := f.svc.Get(ctx, "backup")
		if err != nil {
			t.Fatal(err)
		}
		if d.Current.Number() != "2.0" || d.Current.SHA256 != policy.HashText(body) {
			t.Fatalf("current = %s %s", d.Current.Number(), d.Current.SHA256)
		}
		if d.Current.ApprovedBy != "bob@example.com" || d.Current.PublishedBy != "alice@example.com" || d.Current.PublishedAt == nil {
			t.Fatalf("approval record: %+v", d.Current)
		}
		if len(d.Versions) != 2 || d.Versions[1].Status != policy.StatusSuperseded || d.Versions[1].SupersededAt == nil {
			t.Fatalf("1.0 not superseded: %+v", d.Versions)
		}
		res, err := audit.Verify(ctx, st.DB)
		if err != nil || res.Break != nil {
			t.Fatalf("audit verify: %+v %v", res, err)
		}
		var actions []string
		st.DB.Model(&audit.Event{}).Where("object_id = ?", "backup@2.0").Order("seq").Pluck("action", &actions)
		if strings.Join(actions, ",") != "policy.version.drafted,policy.version.submitted,policy.version.approved,policy.version.published" {
			t.Fatalf("audit actions %v", actions)
		}
	})
}

func TestEditingAnApprovedVersionNeedsNewApproval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		ctx := f.ctx
		if _, err := f.svc.CreateDraft(ctx, f.alice, "password", policy.Draft{Body: "a", ChangeSummary: "typo", Material: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Approve(ctx, f.bob, "password", "1.1"); err != nil {
			t.Fatal(err)
		}
		// Bob edits after approving: the version returns to draft and Bob,
		// now an editor of it, may not approve his own words.
		v, err := f.svc.UpdateDraft(ctx, f.bob, "password", "1.1", policy.Draft{Body: "b", ChangeSummary: "typo", Material: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != policy.StatusDraft || v.ApprovedAt != nil || v.Number() != "2.0" {
			t.Fatalf("after edit: %s %s approved %v", v.Number(), v.Status, v.ApprovedAt)
		}
		if _, err := f.svc.Approve(ctx, f.bob, "password", "2.0"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("last editor approving: %v", err)
		}
		if _, err := f.svc.Approve(ctx, f.alice, "password", "2.0"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("author approving: %v", err)
		}
	})
}

func TestDraftValidationNamesFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		_, err := f.svc.CreateDraft(f.ctx, f.alice, "backup", policy.Draft{Body: "  \n", ChangeSummary: ""})
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.Invalid || e.Fields["body"] == "" || e.Fields["change_summary"] == "" {
			t.Fatalf("err = %v, want Invalid naming body and change_summary", err)
		}
	})
}

// A draft says whether its change is material: left unsaid, it is refused
// rather than taken as minor.
func TestDraftNeedsMaterial(t *testing.T) {
	f := setup(t, storetest.SQLite(t))
	_, err := f.svc.CreateDraft(f.ctx, f.alice, "backup", policy.Draft{Body: "x", ChangeSummary: "y"})
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || e.Fields["material"] != "must be chosen: major (everyone acknowledges it again) or minor" || len(e.Fields) != 1 {
		t.Fatalf("err = %v, want Invalid naming material only", err)
	}
}

func TestPublishedTextIsImmutableInTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		setup(t, st)
		err := st.DB.Exec("UPDATE policy_versions SET body = 'changed' WHERE status = 'published'").Error
		if err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Fatalf("raw update of published text: %v", err)
		}
	})
}

func TestReviewsMoveTheNextReviewDate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		ctx := f.ctx
		*f.clock = now.AddDate(1, 0, 1) // past the 12-month review date
		d, _ := f.svc.Get(ctx, "encryption")
		if d.Review != policy.ReviewOverdue {
			t.Fatalf("review state %s, want overdue", d.Review)
		}
		o, err := f.svc.Overview(ctx)
		if err != nil || len(o.ReviewOverdue) != 20 {
			t.Fatalf("overview overdue = %d (%v)", len(o.ReviewOverdue), err)
		}
		if _, err := f.svc.RecordReview(ctx, f.alice, "encryption", " "); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("empty note: %v", err)
		}
		r, err := f.svc.RecordReview(ctx, f.alice, "encryption", "Reviewed with the CTO; algorithms still current.")
		if err != nil {
			t.Fatal(err)
		}
		if want := now.AddDate(2, 0, 1); !r.NextReviewAt.Equal(want) {
			t.Fatalf("next review %s, want %s", r.NextReviewAt, want)
		}
		d, _ = f.svc.Get(ctx, "encryption")
		if d.Review != policy.ReviewCurrent || len(d.Reviews) != 1 || d.Policy.LastReviewedAt == nil {
			t.Fatalf("after review: %s, %d reviews", d.Review, len(d.Reviews))
		}
	})
}

func TestListSortsThroughAllowList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		for _, col := range policy.SortColumns() {
			if _, err := f.svc.List(f.ctx, policy.ListOptions{Sort: col, Desc: true}); err != nil {
				t.Errorf("sort %s: %v", col, err)
			}
		}
		list, _ := f.svc.List(f.ctx, policy.ListOptions{Sort: "title", Desc: true})
		if list[0].Slug != "vulnerability-management" {
			t.Errorf("title desc starts with %s", list[0].Slug)
		}
		_, err := f.svc.List(f.ctx, policy.ListOptions{Sort: "title; DROP TABLE policies"})
		if e, ok := apperr.As(err); !ok || e.Fields["sort"] == "" {
			t.Fatalf("bad sort: %v", err)
		}
	})
}

func TestCompareDiffsVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		_, cur, _ := f.svc.Version(f.ctx, "backup", "1.0")
		changed := strings.Replace(cur.Body, "35 days", "60 days", 1)
		if _, err := f.svc.CreateDraft(f.ctx, f.alice, "backup", policy.Draft{Body: changed, ChangeSummary: "Longer retention", Material: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.Compare(f.ctx, "backup", "1.0", "1.1")
		if err != nil {
			t.Fatal(err)
		}
		var adds, removes int
		for _, l := range c.Lines {
			switch l.Op {
			case policy.DiffAdd:
				adds++
				if !strings.Contains(l.Text, "60 days") {
					t.Errorf("added line %q", l.Text)
				}
			case policy.DiffRemove:
				removes++
			}
		}
		if adds != 1 || removes != 1 {
			t.Fatalf("%d adds, %d removes; want 1 and 1", adds, removes)
		}
	})
}

func ptr[T any](v T) *T { return &v }
