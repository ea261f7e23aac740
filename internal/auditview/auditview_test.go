package auditview_test

import (
	"reflect"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditview"
	"github.com/charter-registry/charter/internal/auth"
)

// event is a full row of the kind given, every optional field set.
func event(action, objectType string) audit.Event {
	id := int64(7)
	return audit.Event{Seq: 42, ActorID: &id, Actor: "actor@example.com", Action: action, ObjectType: objectType, ObjectID: "obj-1",
		BeforeJSON: `{"status":"clear"}`, AfterJSON: `{"status":"adverse"}`, ClientIP: "198.51.100.23", UserAgent: "agent/1.0",
		RequestID: "req-1", PrevHash: "p", Hash: "h"}
}

func TestFor(t *testing.T) {
	const (
		actor, object, before, after = auditview.FieldActor, auditview.FieldObjectID, auditview.FieldBefore, auditview.FieldAfter
		ip, ua, rid                  = auditview.FieldClientIP, auditview.FieldUserAgent, auditview.FieldRequestID
	)
	client := []string{ip, ua, rid}
	data := []string{before, after, ip, ua, rid}
	everything := []string{actor, object, before, after, ip, ua, rid}
	for _, tc := range []struct {
		name               string
		action, objectType string
		role               auth.Role
		withheld           []string
	}{
		{"admin sees all of an account event", "user.role_changed", "user", auth.Admin, nil},
		{"editor sees an account event without its data", "user.role_changed", "user", auth.Editor, data},
		{"viewer sees who signed in, not how", "auth.login.succeeded", "user", auth.Viewer, data},
		{"viewer sees nothing of a failed sign-in's typed email", "auth.login.failed", "user", auth.Viewer, everything},
		{"editor sees nothing of a failed sign-in's typed email", "auth.login.failed", "user", auth.Editor, everything},
		{"admin sees a failed sign-in", "auth.login.failed", "user", auth.Admin, nil},
		{"viewer sees a policy edit without the client", "policy.version.edited", "policy_version", auth.Viewer, client},
		{"auditor sees a policy edit without the client", "policy.version.edited", "policy_version", auth.Auditor, client},
		{"viewer sees no reporter or report", "vulnerability_report.received", "vulnerability_report", auth.Viewer, everything},
		{"auditor sees no reporter or report", "vulnerability_report.received", "vulnerability_report", auth.Auditor, everything},
		{"editor sees the report without the client", "vulnerability_report.received", "vulnerability_report", auth.Editor, client},
		{"auditor sees a report's reference, not its triage", "vulnerability_report.updated", "vulnerability_report", auth.Auditor, data},
		{"viewer sees no background-check result", "background_check.updated", "employee", auth.Viewer, data},
		{"auditor sees no background-check result", "background_check.updated", "employee", auth.Auditor, data},
		{"editor sees the background-check result", "background_check.updated", "employee", auth.Editor, client},
		{"auditor sees no privacy request", "privacy_request.created", "privacy_request", auth.Auditor, data},
		{"editor sees a privacy request step", "privacy_request.start-verifying", "privacy_request", auth.Editor, client},
		{"viewer sees a packet's recipient", "nda.accepted", "packet", auth.Viewer, client},
		{"viewer does not see the acceptance row with its IP", "nda.accepted", "nda", auth.Viewer, data},
		{"viewer sees that an export ran", "export.completed", "bundle", auth.Viewer, data},
		{"auditor sees the export's parameters", "export.completed", "bundle", auth.Auditor, client},
		{"auditor sees an access review", "access_review.recorded", "access_review", auth.Auditor, client},
		{"viewer does not see the access review's note", "access_review.recorded", "access_review", auth.Viewer, data},
		{"editor sees the outbox reference of a reminder", "reminder.queued", "employee", auth.Editor, client},
		{"auditor does not see it", "reminder.queued", "employee", auth.Auditor, data},
		{"unknown action: editors see only that it happened", "salary.updated", "employee", auth.Editor, everything},
		{"known action on an unknown object: denied", "employee.updated", "salary", auth.Viewer, everything},
		{"unknown action: admins see all", "salary.updated", "employee", auth.Admin, nil},
		{"no role sees least", "policy.version.edited", "policy_version", "", everything},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := event(tc.action, tc.objectType)
			v := auditview.For(tc.role, e)
			if !reflect.DeepEqual(v.Withheld, tc.withheld) {
				t.Fatalf("withheld %v, want %v", v.Withheld, tc.withheld)
			}
			fields := map[string][2]string{actor: {v.Actor, e.Actor}, object: {v.ObjectID, e.ObjectID}, before: {v.BeforeJSON, e.BeforeJSON},
				after: {v.AfterJSON, e.AfterJSON}, ip: {v.ClientIP, e.ClientIP}, ua: {v.UserAgent, e.UserAgent}, rid: {v.RequestID, e.RequestID}}
			hidden := map[string]bool{}
			for _, f := range tc.withheld {
				hidden[f] = true
			}
			for f, shownStored := range fields {
				want := shownStored[1]
				if hidden[f] {
					want = ""
				}
				if shownStored[0] != want {
					t.Errorf("%s = %q, want %q (withheld %v)", f, shownStored[0], want, hidden[f])
				}
			}
			if v.Seq != e.Seq || v.Action != e.Action || v.ObjectType != e.ObjectType || v.Hash != e.Hash || v.PrevHash != e.PrevHash {
				t.Errorf("the event itself changed: %+v", v.Event)
			}
			if v.DataWithheld() != hidden[before] || v.IdentityWithheld() != hidden[actor] {
				t.Errorf("DataWithheld %v IdentityWithheld %v for %v", v.DataWithheld(), v.IdentityWithheld(), tc.withheld)
			}
			if auditview.IdentityVisible(tc.role, e) == hidden[actor] {
				t.Errorf("IdentityVisible = %v with %v withheld", !hidden[actor], tc.withheld)
			}
		})
	}
}

func TestForMarksOnlyFieldsThatHadAValue(t *testing.T) {
	// A system event has no client and no before: nothing to mark.
	e := audit.Event{Seq: 1, Actor: "system:seed", Action: "background_check.updated", ObjectType: "employee", ObjectID: "ana@example.com",
		AfterJSON: `{"status":"adverse"}`}
	v := auditview.For(auth.Viewer, e)
	if want := []string{auditview.FieldAfter}; !reflect.DeepEqual(v.Withheld, want) || v.AfterJSON != "" || v.Actor != e.Actor {
		t.Fatalf("withheld %v, view %+v", v.Withheld, v.Event)
	}
	if v := auditview.For(auth.Viewer, audit.Event{Action: "policy.seeded", ObjectType: "policy", ObjectID: "backup", AfterJSON: "{}"}); v.Withheld != nil {
		t.Fatalf("withheld %v from an open event with no client", v.Withheld)
	}
}

func TestEveryRuleIsSane(t *testing.T) {
	for _, k := range auditview.Kinds() {
		r := auditview.RuleFor(k.Action, k.ObjectType)
		if r.Register == "" || !r.Data.Valid() || !r.Identity.Valid() {
			t.Errorf("%s on %s: incomplete rule %+v", k.Action, k.ObjectType, r)
		}
		// Whoever sees an event's data sees whose it is.
		if !r.Data.Allows(r.Identity) {
			t.Errorf("%s on %s: data for %s but identity only for %s", k.Action, k.ObjectType, r.Data, r.Identity)
		}
	}
}
