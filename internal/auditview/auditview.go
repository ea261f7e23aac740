// Package auditview decides what each role may see of an audit event. Every
// role that may read the trail sees that an event happened (seq, time,
// action, object type, hashes); its data (before/after) only when the role
// may read the register the event belongs to; the client's IP, user agent
// and request ID only as an admin. The actor and object ID are withheld too
// where they carry what the register hides (a vulnerability reporter's
// address, an email typed at the sign-in form).
//
// Redaction happens on output only: the stored rows and their hash chain are
// untouched, so "charter audit verify" is unaffected. The audit page, the
// API and the evidence export all apply For.
package auditview

import (
	"slices"
	"sort"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
)

// Rule says which roles see what of one kind of event.
type Rule struct {
	// Register is the register the event belongs to (documentation).
	Register string
	// Data is the least role that sees the event's before/after.
	Data auth.Role
	// Identity is the least role that sees the actor and object ID.
	Identity auth.Role
}

// Kind is one kind of event: an action on an object type. The same action
// can carry different data on different objects (nda.accepted on a packet
// names the recipient; on an NDA version it records the IP and user agent).
type Kind struct {
	Action     string
	ObjectType string
}

// Deny is the rule of a kind no rule names: only admins see its data,
// actor and object, so that a new event is hidden until someone decides.
var Deny = Rule{Register: "unknown", Data: auth.Admin, Identity: auth.Admin}

// ClientRole is the least role that sees the client's IP, user agent and
// request ID. The request ID is withheld with them because it is the one
// unguessable field of an event's hash: with it, anyone could confirm a
// guess of a withheld IP, user agent or status against the published hash.
const ClientRole = auth.Admin

// rules classifies every event the code writes. The register's read role
// comes from the route table (internal/server/routes.go); a test fails when
// the code writes an action or object type this table does not name.
var rules = map[Kind]Rule{
	// Users, tokens, sessions, sign-in and second factor: the users page
	// and tokens are admin-only. The actor of an event is the user's own
	// address, as on every other event, except on a failed sign-in, where
	// it and the object are whatever was typed in the email field (an
	// outsider's address, or a password typed in the wrong box).
	{"auth.login.succeeded", "user"}:  account(auth.Viewer),
	{"auth.login.failed", "user"}:     account(auth.Admin),
	{"auth.logout", "user"}:           account(auth.Viewer),
	{"auth.mfa.succeeded", "user"}:    account(auth.Viewer),
	{"auth.mfa.failed", "user"}:       account(auth.Viewer),
	{"mfa.enabled", "user"}:           account(auth.Viewer),
	{"mfa.disabled", "user"}:          account(auth.Viewer),
	{"session.ended", "user"}:         account(auth.Viewer),
	{"session.ended_all", "user"}:     account(auth.Viewer),
	{"user.created", "user"}:          account(auth.Viewer),
	{"user.access_until_set", "user"}: account(auth.Viewer),
	{"user.disabled", "user"}:         account(auth.Viewer),
	{"user.role_changed", "user"}:     account(auth.Viewer),
	{"user.password_changed", "user"}: account(auth.Viewer),
	{"user.sso_only_set", "user"}:     account(auth.Viewer),
	// Recovery. A reset link asked for from /login/forgot is recorded only
	// for an existing account, as "anonymous" acting on that account.
	{"user.password_reset", "user"}:           account(auth.Viewer),
	{"user.password_reset_requested", "user"}: account(auth.Viewer),
	{"user.password_reset_completed", "user"}: account(auth.Viewer),
	{"user.sign_in_unlocked", "user"}:         account(auth.Viewer),
	{"mfa.reset", "user"}:                     account(auth.Viewer),
	{"auth.login.under_attack", "user"}:       account(auth.Viewer),
	{"api_token.created", "api_token"}:        account(auth.Viewer),
	{"api_token.revoked", "api_token"}:        account(auth.Viewer),
	// The access review page is for auditors and above.
	{"access_review.recorded", "access_review"}: {Register: "access reviews", Data: auth.Auditor, Identity: auth.Viewer},

	// Readable by every role.
	{"organization.seeded", "organization"}:            open("organization"),
	{"organization.updated", "organization"}:           open("organization"),
	{"organization.logo_set", "organization"}:          open("organization"),
	{"certification.report_attached", "certification"}: open("organization"),
	{"policy.seeded", "policy"}:                        open("policies"),
	{"policy.reviewed", "policy"}:                      open("policies"),
	{"policy.version.drafted", "policy_version"}:       open("policies"),
	{"policy.version.edited", "policy_version"}:        open("policies"),
	{"policy.version.submitted", "policy_version"}:     open("policies"),
	{"policy.version.approved", "policy_version"}:      open("policies"),
	{"policy.version.published", "policy_version"}:     open("policies"),
	{"incident.declared", "incident"}:                  open("incidents"),
	{"incident.updated", "incident"}:                   open("incidents"),
	{"advisory.created", "advisory"}:                   open("advisories"),
	{"advisory.updated", "advisory"}:                   open("advisories"),
	{"advisory.published", "advisory"}:                 open("advisories"),
	// Packets and requests, recipients included, are on viewer pages.
	{"packet.accessed", "packet"}:                  open("packets"),
	{"packet.issued", "packet"}:                    open("packets"),
	{"packet.revoked", "packet"}:                   open("packets"),
	{"nda.accepted", "packet"}:                     open("packets"),
	{"nda.published", "nda"}:                       open("packets"),
	{"packet_request.submitted", "packet_request"}: open("packets"),
	{"packet_request.confirmed", "packet_request"}: open("packets"),
	{"packet_request.denied", "packet_request"}:    open("packets"),
	{"packet_request.expired", "packet_request"}:   open("packets"),
	// The acceptance row it records holds the requester's IP and user agent.
	{"nda.accepted", "nda"}:                  {Register: "packets (NDA acceptances with client IP and user agent)", Data: ClientRole, Identity: auth.Viewer},
	{"subprocessor.created", "subprocessor"}: open("sub-processors"),
	{"subprocessor.updated", "subprocessor"}: open("sub-processors"),
	// The notice page shows objections with the customer's address and reason.
	{"subprocessor_notice.announced", "subprocessor_notice"}: open("sub-processors"),
	{"subprocessor_notice.withdrawn", "subprocessor_notice"}: open("sub-processors"),
	{"subprocessor_notice.applied", "subprocessor_notice"}:   open("sub-processors"),
	{"subprocessor_notice.objection", "subprocessor_notice"}: open("sub-processors"),
	{"dpa.created", "dpa"}:        open("DPAs"),
	{"dpa.updated", "dpa"}:        open("DPAs"),
	{"dpa.status_changed", "dpa"}: open("DPAs"),
	{"dpa.file_attached", "dpa"}:  open("DPAs"),
	// The standard DPA's versions are on viewer pages, like policies. A
	// signature counts once its signer confirmed the address: until then it
	// is only what someone typed on /trust/dpa, which editors see; a signed
	// one is the register entry's, signer and IP included.
	{"standard_dpa.seeded", "standard_dpa"}:          open("standard DPA"),
	{"standard_dpa.drafted", "standard_dpa"}:         open("standard DPA"),
	{"standard_dpa.edited", "standard_dpa"}:          open("standard DPA"),
	{"standard_dpa.approved", "standard_dpa"}:        open("standard DPA"),
	{"standard_dpa.published", "standard_dpa"}:       open("standard DPA"),
	{"dpa_signature.requested", "dpa_signature"}:     {Register: "DPAs (unconfirmed online signatures)", Data: auth.Editor, Identity: auth.Editor},
	{"dpa_signature.expired", "dpa_signature"}:       {Register: "DPAs (unconfirmed online signatures)", Data: auth.Editor, Identity: auth.Editor},
	{"dpa_signature.signed", "dpa_signature"}:        open("DPAs"),
	{"dpa_signature.countersigned", "dpa_signature"}: open("DPAs"),
	// Trust documents: the register is on viewer pages, internal ones too.
	{"document.created", "document"}:       open("trust documents"),
	{"document.updated", "document"}:       open("trust documents"),
	{"document.version_added", "document"}: open("trust documents"),
	{"document.lapsed", "document"}:        open("trust documents"),
	// Policy exceptions are listed on every policy page.
	{"exception.requested", "policy_exception"}:         open("policy exceptions"),
	{"exception.renewal_requested", "policy_exception"}: open("policy exceptions"),
	{"exception.approved", "policy_exception"}:          open("policy exceptions"),
	{"exception.rejected", "policy_exception"}:          open("policy exceptions"),
	{"exception.revoked", "policy_exception"}:           open("policy exceptions"),
	{"exception.superseded", "policy_exception"}:        open("policy exceptions"),
	{"exception.lapsed", "policy_exception"}:            open("policy exceptions"),
	{"course.created", "course"}:                        open("training"),
	{"course.created", "course"}:                        open("training"),
	// Questionnaire answers: the library is on viewer pages, internal
	// answers too; a filled sheet records only its counts.
	{"answer.created", "answer"}:                     open("questionnaire answers"),
	{"answer.updated", "answer"}:                     open("questionnaire answers"),
	{"answer.approved", "answer"}:                    open("questionnaire answers"),
	{"answer.reviewed", "answer"}:                    open("questionnaire answers"),
	{"answer.flagged", "answer"}:                     open("questionnaire answers"),
	{"answer.questionnaire_filled", "questionnaire"}: open("questionnaire answers"),
	// Employee events name the employee by address; the roster is open.
	{"employee.created", "employee"}:         open("people"),
	{"employee.updated", "employee"}:         open("people"),
	{"employee.offboarded", "employee"}:      open("people"),
	{"acknowledgement.recorded", "employee"}: open("people"),
	{"acknowledgement.imported", "employee"}: open("people"),
	{"training.recorded", "employee"}:        open("people"),
	// The course, date and certificate hash are on the employee page for
	// viewers; the certificate file (auditors and above) is not in the event.
	{"training.certificate_added", "employee"}: open("people"),

	// Exports are for auditors and above.
	{"export.started", "dataset"}:   {Register: "evidence exports", Data: auth.Auditor, Identity: auth.Viewer},
	{"export.completed", "dataset"}: {Register: "evidence exports", Data: auth.Auditor, Identity: auth.Viewer},
	{"export.started", "bundle"}:    {Register: "evidence exports", Data: auth.Auditor, Identity: auth.Viewer},
	{"export.completed", "bundle"}:  {Register: "evidence exports", Data: auth.Auditor, Identity: auth.Viewer},
	// A new signing key for the audit log's checkpoints: the old and new
	// verifier keys, which auditors use.
	{"audit.key.announced", "audit_log"}: {Register: "audit log", Data: auth.Auditor, Identity: auth.Viewer},
	// The keys every instance must share: fingerprints (never the keys)
	// recorded and replaced, and the count of two-factor secrets
	// re-encrypted when the MFA key is rotated; auditors check key
	// management with them.
	{"keys.fingerprint.recorded", "key"}: {Register: "keys", Data: auth.Auditor, Identity: auth.Viewer},
	{"keys.fingerprint.replaced", "key"}: {Register: "keys", Data: auth.Auditor, Identity: auth.Viewer},
	{"mfa.key.rotated", "mfa_key"}:       {Register: "keys", Data: auth.Auditor, Identity: auth.Viewer},
	// Webhook endpoints are admin-only: an endpoint's address can itself
	// be a credential (a Slack incoming-webhook URL). Secrets are never
	// recorded.
	{"webhook.created", "webhook"}:          webhooks(),
	{"webhook.enabled", "webhook"}:          webhooks(),
	{"webhook.disabled", "webhook"}:         webhooks(),
	{"webhook.deleted", "webhook"}:          webhooks(),
	{"webhook.secret_rotated", "webhook"}:   webhooks(),
	{"webhook.test_sent", "webhook"}:        webhooks(),
	{"webhook.delivery_retried", "webhook"}: webhooks(),

	// Snapshots of the public promises hold only what /trust shows.
	{"promise_snapshot.recorded", "promise_snapshot"}: open("snapshots"),

	// Packet holders told of a change, and the operator's switch for it.
	{"packet.holder_notified", "packet"}:      open("packets"),
	{"packet.notify_on_change_set", "packet"}: open("packets"),

	// Editors and admins only.
	// Vulnerability reports hold unpublished vulnerabilities, and the
	// received event's actor is "reporter:" and the reporter's address.
	{"vulnerability_report.received", "vulnerability_report"}: {Register: "vulnerability reports", Data: auth.Editor, Identity: auth.Editor},
	{"vulnerability_report.updated", "vulnerability_report"}:  editors("vulnerability reports"),
	// Privacy requests: the object ID is a reference (PR-2026-0001) and a
	// public requester's actor is "requester", never the address.
	{"privacy_request.created", "privacy_request"}:           editors("privacy requests"),
	{"privacy_request.confirmed", "privacy_request"}:         editors("privacy requests"),
	{"privacy_request.verify", "privacy_request"}:            editors("privacy requests"),
	{"privacy_request.start-verifying", "privacy_request"}:   editors("privacy requests"),
	{"privacy_request.acknowledge", "privacy_request"}:       editors("privacy requests"),
	{"privacy_request.extend", "privacy_request"}:            editors("privacy requests"),
	{"privacy_request.complete", "privacy_request"}:          editors("privacy requests"),
	{"privacy_request.refuse", "privacy_request"}:            editors("privacy requests"),
	{"privacy_request.response_attached", "privacy_request"}: editors("privacy requests"),
	{"privacy_request.redacted", "privacy_request"}:          editors("privacy requests"),
	{"privacy_request.expired", "privacy_request"}:           editors("privacy requests"),
	// Background-check results are criminal-record data (GDPR Art. 10):
	// their history is for the people who run checks. (Auditors see the
	// current status on the employee record and in the background_checks
	// dataset, not every past result.)
	{"background_check.updated", "employee"}: editors("background checks"),
	// Acknowledgement links and reminders go through the outbox, which
	// holds live links: editors and admins.
	{"ack_link.issued", "employee"}: editors("outbox"),
	{"reminder.queued", "employee"}: editors("outbox"),
	// Subscribers are a mailing list no page shows.
	{"subscriber.requested", "subscriber"}:    editors("subscribers"),
	{"subscriber.confirmed", "subscriber"}:    editors("subscribers"),
	{"subscriber.unsubscribed", "subscriber"}: editors("subscribers"),
	{"subscriber.expired", "subscriber"}:      editors("subscribers"),
}

func account(identity auth.Role) Rule {
	return Rule{Register: "users and access", Data: auth.Admin, Identity: identity}
}

func open(register string) Rule {
	return Rule{Register: register, Data: auth.Viewer, Identity: auth.Viewer}
}

func webhooks() Rule {
	return Rule{Register: "webhooks", Data: auth.Admin, Identity: auth.Viewer}
}

func editors(register string) Rule {
	return Rule{Register: register, Data: auth.Editor, Identity: auth.Viewer}
}

// RuleFor returns the rule of an event kind, Deny when none is written.
func RuleFor(action, objectType string) Rule {
	if r, ok := rules[Kind{action, objectType}]; ok {
		return r
	}
	return Deny
}

// Kinds lists every kind with a rule, sorted.
func Kinds() []Kind {
	out := make([]Kind, 0, len(rules))
	for k := range rules {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Action != out[j].Action {
			return out[i].Action < out[j].Action
		}
		return out[i].ObjectType < out[j].ObjectType
	})
	return out
}

// Fields of an event that may be withheld, as the API names them.
const (
	FieldActor     = "actor"
	FieldObjectID  = "object_id"
	FieldBefore    = "before"
	FieldAfter     = "after"
	FieldClientIP  = "client_ip"
	FieldUserAgent = "user_agent"
	FieldRequestID = "request_id"
)

// View is an event as one role may see it.
type View struct {
	// Event has every withheld field blanked; seq, time, action, object
	// type and hashes are always there.
	audit.Event
	// Withheld names the fields that had a value this role may not see, in
	// the order of the constants above; empty when nothing was withheld.
	Withheld []string
}

// DataWithheld reports whether the event's before or after was withheld.
func (v View) DataWithheld() bool { return v.withheld(FieldBefore) || v.withheld(FieldAfter) }

// IdentityWithheld reports whether the actor or object ID was withheld.
func (v View) IdentityWithheld() bool { return v.withheld(FieldActor) || v.withheld(FieldObjectID) }

// IsWithheld reports whether field (one of the Field constants) was withheld.
func (v View) IsWithheld(field string) bool { return v.withheld(field) }

func (v View) withheld(field string) bool { return slices.Contains(v.Withheld, field) }

// For returns e as role may see it. An unknown or empty role sees what the
// least role sees of an event, and of an unknown kind only what Deny allows.
func For(role auth.Role, e audit.Event) View {
	r := RuleFor(e.Action, e.ObjectType)
	v := View{Event: e}
	hide := func(field string, value *string) {
		if *value != "" {
			v.Withheld = append(v.Withheld, field)
			*value = ""
		}
	}
	if !role.Allows(r.Identity) {
		hide(FieldActor, &v.Actor)
		hide(FieldObjectID, &v.ObjectID)
		// The actor ID points at the same account as the label.
		v.ActorID = nil
	}
	if !role.Allows(r.Data) {
		hide(FieldBefore, &v.BeforeJSON)
		hide(FieldAfter, &v.AfterJSON)
	}
	if !role.Allows(ClientRole) {
		hide(FieldClientIP, &v.ClientIP)
		hide(FieldUserAgent, &v.UserAgent)
	}
	if len(v.Withheld) > 0 {
		hide(FieldRequestID, &v.RequestID)
	}
	return v
}

// IdentityVisible reports whether role sees the actor and object ID of e. A query
// that filters by actor or object ID keeps only such events, or the filter
// itself would tell whether a withheld address is there.
func IdentityVisible(role auth.Role, e audit.Event) bool {
	return role.Allows(RuleFor(e.Action, e.ObjectType).Identity)
}
