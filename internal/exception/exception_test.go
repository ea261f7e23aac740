package exception_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/clocktest"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/exception"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
)

type fixture struct {
	ctx      context.Context
	st       *store.Store
	svc      *exception.Service
	clock    *clocktest.Clock
	ana, ben audit.Actor
}

func setup(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	c := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	f := &fixture{ctx: context.Background(), st: st, clock: c,
		svc: exception.NewService(st.DB, c.Now, exception.Settings{BaseURL: "https://charter.example", ReminderDays: 14,
			Approvers: func(context.Context) ([]string, error) {
				return []string{"ana@hiberly.example", "ben@hiberly.example"}, nil
			}}),
		ana: audit.Actor{UserID: 11, Label: "ana@hiberly.example"}, ben: audit.Actor{UserID: 12, Label: "ben@hiberly.example"}}
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.NewService(st.DB, c.Now).Seed(f.ctx, audit.System("system:seed"), templates); err != nil {
		t.Fatal(err)
	}
	return f
}

func passwordException(expires string) exception.Input {
	return exception.Input{Policy: "password", Section: "4.2 Rotation", Scope: "Legacy billing host bill-01",
		Reason: "The vendor appliance cannot rotate service passwords.", CompensatingControls: "Network isolation; access only through the bastion with MFA.",
		ExpiresOn: expires}
}

// day moves the clock to 09:00 UTC on date.
func (f *fixture) day(t *testing.T, date string) {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(d.Add(9 * time.Hour).Sub(f.clock.Now()))
}

func (f *fixture) export(t *testing.T, from, to string) string {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	ev := evidence.NewService(f.st, f.clock.Now, evidence.Rules{}, key)
	p, err := evidence.ParsePeriod(from, to)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := ev.Export(f.ctx, audit.System("test"), "policy_exceptions", p, evidence.Options{}, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func (f *fixture) outbox(t *testing.T, kind string) []notify.Message {
	t.Helper()
	var ms []notify.Message
	if err := f.st.DB.Where("kind = ?", kind).Order("id").Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	return ms
}

func (f *fixture) lastAction(t *testing.T) (string, string) {
	t.Helper()
	var ev audit.Event
	if err := f.st.DB.Order("seq DESC").First(&ev).Error; err != nil {
		t.Fatal(err)
	}
	return ev.Action, ev.Actor
}

// TestLifecycle follows one exception from its request to its lapse:
// approved by another user only, in the export of the periods it was in
// force in, reminded once, lapsed on its expiry date and not the day before.
func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		e, err := f.svc.Request(f.ctx, f.ana, passwordException("2026-06-01"))
		if err != nil {
			t.Fatal(err)
		}
		if e.State != exception.Requested || e.PolicyTitle == "" || e.RequestedBy != "ana@hiberly.example" {
			t.Fatalf("requested %+v", e)
		}
		if a, _ := f.lastAction(t); a != "exception.requested" {
			t.Fatalf("audit action %q", a)
		}
		if asked := f.outbox(t, "exception_request"); len(asked) != 1 || asked[0].ToAddr != "ben@hiberly.example" {
			t.Fatalf("approval requests: %+v (want one, to the other approver)", asked)
		}

		t.Run("ErrSelfApproval", func(t *testing.T) {
			if _, err := f.svc.Approve(f.ctx, f.ana, e.ID, ""); err != exception.ErrSelfApproval || !apperr.Is(err, apperr.Forbidden) {
				t.Fatalf("self-approval: %v", err)
			}
		})
		f.day(t, "2026-03-03")
		approved, err := f.svc.Approve(f.ctx, f.ben, e.ID, "Until the appliance is replaced")
		if err != nil {
			t.Fatal(err)
		}
		if approved.State != exception.Approved || approved.DecidedBy != "ben@hiberly.example" || approved.ApprovedAt == nil {
			t.Fatalf("approved %+v", approved)
		}
		if _, err := f.svc.Approve(f.ctx, f.ben, e.ID, ""); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("second approval: %v", err)
		}
		listed, err := f.svc.List(f.ctx, exception.Filter{Policy: "password"})
		if err != nil || len(listed) != 1 || listed[0].ID != e.ID {
			t.Fatalf("listed for the policy: %v %+v", err, listed)
		}
		if other, _ := f.svc.List(f.ctx, exception.Filter{Policy: "backup"}); len(other) != 0 {
			t.Fatalf("listed for another policy: %+v", other)
		}

		// The export: in force during March, not during February.
		if got := f.export(t, "2026-03-01", "2026-03-31"); !strings.Contains(got, "Legacy billing host bill-01") || !strings.Contains(got, "ben@hiberly.example") {
			t.Fatalf("March export lacks the exception:\n%s", got)
		}
		if got := f.export(t, "2026-01-01", "2026-02-28"); strings.Contains(got, "bill-01") {
			t.Fatalf("February export has an exception approved in March:\n%s", got)
		}

		// Reminded once, 14 days ahead, to the requester and the approver.
		f.day(t, "2026-05-17")
		if n, err := f.svc.RemindExpiring(f.ctx); err != nil || n != 0 {
			t.Fatalf("15 days ahead: %d reminded, %v", n, err)
		}
		f.day(t, "2026-05-18")
		for i := 0; i < 2; i++ {
			if _, _, err := f.svc.RunExpiry(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		f.day(t, "2026-05-19")
		if _, _, err := f.svc.RunExpiry(f.ctx); err != nil {
			t.Fatal(err)
		}
		sent := f.outbox(t, "exception_expiring")
		if len(sent) != 2 || sent[0].ToAddr != "ana@hiberly.example" || sent[1].ToAddr != "ben@hiberly.example" ||
			!strings.Contains(sent[0].Subject, "expires on 2026-06-01") || !strings.Contains(sent[0].Body, "/app/exceptions/") {
			t.Fatalf("reminders: %+v", sent)
		}

		// Not lapsed the day before its expiry; lapsed on the day.
		f.day(t, "2026-05-31")
		if lapsed, _, err := f.svc.RunExpiry(f.ctx); err != nil || lapsed != 0 {
			t.Fatalf("day before: %d lapsed, %v", lapsed, err)
		}
		if got, _ := f.svc.Get(f.ctx, e.ID); got.State != exception.Approved || !got.InForce(f.svc.Today()) {
			t.Fatalf("day before: %+v", got)
		}
		f.day(t, "2026-06-01")
		if lapsed, _, err := f.svc.RunExpiry(f.ctx); err != nil || lapsed != 1 {
			t.Fatalf("on the day: %d lapsed, %v", lapsed, err)
		}
		got, _ := f.svc.Get(f.ctx, e.ID)
		if got.State != exception.Lapsed || got.EndedAt == nil {
			t.Fatalf("on the day: %+v", got)
		}
		if a, actor := f.lastAction(t); a != "exception.lapsed" || actor != "job:exceptions.expiry" {
			t.Fatalf("lapse recorded as %q by %q", a, actor)
		}
		if lapsed, reminded, err := f.svc.RunExpiry(f.ctx); err != nil || lapsed+reminded != 0 {
			t.Fatalf("rerun: %d lapsed, %d reminded, %v", lapsed, reminded, err)
		}
		if n := len(f.outbox(t, "exception_expiring")); n != 4 {
			t.Fatalf("%d expiry emails, want 2 reminders and 2 lapse notices", n)
		}
		// Still in the export of the period it was in force in, not after.
		if got := f.export(t, "2026-05-01", "2026-06-30"); !strings.Contains(got, "bill-01") || !strings.Contains(got, "lapsed") {
			t.Fatalf("May-June export:\n%s", got)
		}
		if got := f.export(t, "2026-06-02", "2026-06-30"); strings.Contains(got, "bill-01") {
			t.Fatalf("export after the lapse:\n%s", got)
		}
	})
}

func TestRequestValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		for _, c := range []struct {
			name  string
			in    exception.Input
			field string
		}{
			{"unknown policy", exception.Input{Policy: "nope", Scope: "x", Reason: "x", CompensatingControls: "x", ExpiresOn: "2026-04-01"}, "policy"},
			{"no scope", exception.Input{Policy: "password", Reason: "x", CompensatingControls: "x", ExpiresOn: "2026-04-01"}, "scope"},
			{"no reason", exception.Input{Policy: "password", Scope: "x", CompensatingControls: "x", ExpiresOn: "2026-04-01"}, "reason"},
			{"no compensating controls", exception.Input{Policy: "password", Scope: "x", Reason: "x", ExpiresOn: "2026-04-01"}, "compensating_controls"},
			{"no expiry", exception.Input{Policy: "password", Scope: "x", Reason: "x", CompensatingControls: "x"}, "expires_on"},
			{"expiry today", passwordException("2026-03-02"), "expires_on"},
			{"expiry past", passwordException("2026-01-02"), "expires_on"},
			{"expiry beyond a year", passwordException("2027-03-03"), "expires_on"},
			{"not a date", passwordException("next spring"), "expires_on"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Request(f.ctx, f.ana, c.in)
				ae, ok := apperr.As(err)
				if !ok || ae.Kind != apperr.Invalid || ae.Fields[c.field] == "" {
					t.Fatalf("got %v, want Invalid naming %s", err, c.field)
				}
			})
		}
		var n int64
		st.DB.Table("policy_exceptions").Count(&n)
		if n != 0 {
			t.Fatalf("%d exceptions written by refused requests", n)
		}
		if _, err := f.svc.Request(f.ctx, f.ana, passwordException("2027-03-02")); err != nil {
			t.Fatalf("a year ahead: %v", err)
		}
	})
}

// TestRenewRejectRevoke: a renewal approved supersedes the exception it
// renews; a rejection and a revocation need a note and are recorded.
func TestRenewRejectRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		e, err := f.svc.Request(f.ctx, f.ana, passwordException("2026-04-01"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Renew(f.ctx, f.ana, e.ID, passwordException("2026-09-01")); err != exception.ErrNotRenewable {
			t.Fatalf("renewing a request: %v", err)
		}
		if _, err := f.svc.Approve(f.ctx, f.ben, e.ID, ""); err != nil {
			t.Fatal(err)
		}
		in := passwordException("2026-09-01")
		in.Policy = "backup" // a renewal keeps its policy
		renewal, err := f.svc.Renew(f.ctx, f.ana, e.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if renewal.RenewsID == nil || *renewal.RenewsID != e.ID || renewal.PolicySlug != "password" {
			t.Fatalf("renewal %+v", renewal)
		}
		if _, err := f.svc.Renew(f.ctx, f.ana, e.ID, passwordException("2026-09-01")); err != exception.ErrRenewalPending {
			t.Fatalf("second renewal: %v", err)
		}
		if _, err := f.svc.Approve(f.ctx, f.ben, renewal.ID, ""); err != nil {
			t.Fatal(err)
		}
		old, _ := f.svc.Get(f.ctx, e.ID)
		if old.State != exception.Superseded || old.EndedAt == nil {
			t.Fatalf("renewed exception %+v", old)
		}
		if a, _ := f.lastAction(t); a != "exception.superseded" {
			t.Fatalf("last action %q", a)
		}

		if _, err := f.svc.Revoke(f.ctx, f.ben, renewal.ID, " "); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("revoke without a note: %v", err)
		}
		revoked, err := f.svc.Revoke(f.ctx, f.ben, renewal.ID, "Appliance replaced")
		if err != nil || revoked.State != exception.Revoked || revoked.EndNote != "Appliance replaced" {
			t.Fatalf("revoked %+v, %v", revoked, err)
		}
		if _, err := f.svc.Revoke(f.ctx, f.ben, renewal.ID, "again"); err != exception.ErrNotApproved {
			t.Fatalf("second revocation: %v", err)
		}

		req, _ := f.svc.Request(f.ctx, f.ana, passwordException("2026-05-01"))
		if _, err := f.svc.Reject(f.ctx, f.ben, req.ID, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("reject without a note: %v", err)
		}
		rejected, err := f.svc.Reject(f.ctx, f.ben, req.ID, "Rotate by hand instead")
		if err != nil || rejected.State != exception.Rejected {
			t.Fatalf("rejected %+v, %v", rejected, err)
		}
		if _, err := f.svc.Approve(f.ctx, f.ben, req.ID, ""); err != exception.ErrNotRequested {
			t.Fatalf("approving a rejected request: %v", err)
		}

		// A request whose expiry passed before anyone decided cannot be approved.
		late, _ := f.svc.Request(f.ctx, f.ana, passwordException("2026-03-05"))
		f.day(t, "2026-03-05")
		if _, err := f.svc.Approve(f.ctx, f.ben, late.ID, ""); err != exception.ErrExpired {
			t.Fatalf("approving an expired request: %v", err)
		}
		if _, err := f.svc.Get(f.ctx, 9999); err != exception.ErrNotFound {
			t.Fatalf("missing: %v", err)
		}
	})
}
