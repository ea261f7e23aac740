package evidence

import (
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditview"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/store"
)

// datasets is the fixed list of exports, in the order the dashboard and
// the bundle list them. Each query selects exactly Columns, in order, with
// a total order (so that two exports of the same data are identical);
// booleans are spelled yes/no in SQL so both databases agree.
var datasets = []Dataset{
	{
		Name: "policies", Description: "The policies with their owner, review interval and SOC 2 criteria.",
		FiltersOn: "created_at: policies that existed by the end of the period",
		Columns:   []string{"slug", "title", "owner_role", "review_interval_months", "tsc_refs", "last_reviewed_at", "next_review_at", "created_at"},
		query: `SELECT slug, title, owner_role, review_interval_months, tsc_refs, last_reviewed_at, next_review_at, created_at
			FROM policies WHERE created_at < ? ORDER BY slug`,
		args: func(p Period, _ Rules) []any { return []any{p.end()} },
	},
	{
		Name: "policy_versions", Description: "Every version: author, approver, approval and publication times, SHA-256 of the text.",
		FiltersOn: "created_at and superseded_at: versions that existed during the period and were not superseded before it began",
		Columns: []string{"policy", "version", "major", "minor", "status", "material", "change_summary", "author", "approved_by", "approved_at",
			"published_by", "published_at", "superseded_at", "sha256", "created_at"},
		query: `SELECT p.slug, ` + versionLabel + `, v.major, v.minor, v.status, CASE WHEN v.material THEN 'yes' ELSE 'no' END, v.change_summary,
			v.author, v.approved_by, v.approved_at, v.published_by, v.published_at, v.superseded_at, v.sha256, v.created_at
			FROM policy_versions v JOIN policies p ON p.id = v.policy_id
			WHERE (v.superseded_at IS NULL OR v.superseded_at >= ?) AND v.created_at < ?
			ORDER BY p.slug, v.major, v.minor`,
		args: bounds(1),
	},
	{
		Name: "policy_reviews", Description: "Reviews recorded without a change, with who reviewed and the next review date.",
		FiltersOn: "reviewed_at", Columns: []string{"policy", "reviewed_by", "reviewed_at", "note", "next_review_at"},
		query: `SELECT p.slug, r.reviewed_by, r.reviewed_at, r.note, r.next_review_at FROM policy_reviews r JOIN policies p ON p.id = r.policy_id
			WHERE r.reviewed_at >= ? AND r.reviewed_at < ? ORDER BY r.reviewed_at, r.id`,
		args: bounds(1),
	},
	{
		Name: "policy_exceptions", Description: "Approved exceptions to the policies in force at some time in the period: policy and section, scope, reason, compensating controls, requester, approver, dates and state.",
		FiltersOn: "approved_at, expires_on and ended_at: approved before the period's end, not expired or ended before its start",
		Columns: []string{"id", "policy", "section", "scope", "reason", "compensating_controls", "state", "requested_by", "requested_at",
			"approved_by", "approved_at", "expires_on", "ended_at", "ended_by", "end_note", "renews"},
		query: `SELECT e.id, p.slug, e.section, e.scope, e.reason, e.compensating_controls, e.state, e.requested_by, e.requested_at,
			e.decided_by, e.approved_at, e.expires_on, e.ended_at, e.ended_by, e.end_note, e.renews_id
			FROM policy_exceptions e JOIN policies p ON p.id = e.policy_id
			WHERE e.approved_at IS NOT NULL AND e.approved_at < ? AND e.expires_on > ? AND (e.ended_at IS NULL OR e.ended_at >= ?)
			ORDER BY p.slug, e.id`,
		args: func(p Period, _ Rules) []any { return []any{p.end(), p.From, p.From} },
	},
	{
		Name: "employees", Description: "The roster: everyone employed at some time in the period, with start and end dates.",
		FiltersOn: "start_date and end_date: on the roster at some time in the period",
		Columns:   []string{"email", "name", "title", "department", "manager_email", "country", "employment_type", "start_date", "end_date"},
		query: `SELECT email, name, title, department, manager_email, country, employment_type, start_date, end_date FROM employees
			WHERE (end_date IS NULL OR end_date >= ?) AND start_date < ? ORDER BY email`,
		args: bounds(1),
	},
	{
		Name: "acknowledgements", Description: "The population: one row per employee on the roster in the period and policy major version in force, with the due date, the first acknowledgement and whether it was on time.",
		FiltersOn: "the employee's start and end dates, and versions published before the period's end and not replaced by a newer major version before its start",
		Columns:   []string{"email", "policy", "version", "published_at", "due_on", "acknowledged_at", "on_time"},
		queryOn:   map[store.Dialect]string{store.SQLite: acknowledgementsQuery(sqliteText), store.Postgres: acknowledgementsQuery(postgresText)},
		// In the order of the query's placeholders.
		args: func(p Period, r Rules) []any {
			return []any{p.To.Format(time.DateOnly), r.NewHireDays, r.NewVersionDays, p.From, p.end(), p.end(), p.From}
		},
	},
	{
		Name: "training", Description: "Training completions, one row per completed cycle, with its expiry.",
		FiltersOn: "completed_on", Columns: []string{"email", "course", "completed_on", "expires_on", "source", "recorded_at"},
		query: `SELECT e.email, c.name, t.completed_on, t.expires_on, t.source, t.created_at FROM training_records t
			JOIN employees e ON e.id = t.employee_id JOIN courses c ON c.id = t.course_id
			WHERE t.completed_on >= ? AND t.completed_on < ? ORDER BY t.completed_on, e.email, c.name`,
		args: bounds(1),
	},
	{
		Name: "background_checks", Description: "Background-check status and dates (never the report's contents) of the employees on the roster in the period.",
		FiltersOn: "the employee's start_date and end_date", Columns: []string{"email", "status", "provider", "initiated_on", "completed_on", "exemption_reason", "updated_at"},
		query: `SELECT e.email, b.status, b.provider, b.initiated_on, b.completed_on, b.exemption_reason, b.updated_at FROM background_checks b
			JOIN employees e ON e.id = b.employee_id WHERE (e.end_date IS NULL OR e.end_date >= ?) AND e.start_date < ? ORDER BY e.email`,
		args: bounds(1),
	},
	{
		Name: "dpas", Description: "Data processing agreements with customers and vendors: status, dates, transfer mechanisms, signed file hash.",
		FiltersOn: "created_at and terminated_on: agreements that existed and were not terminated before the period",
		Columns: []string{"id", "direction", "counterparty", "contact_email", "domain", "status", "template_version", "signed_on", "effective_on", "terminated_on",
			"our_signatory", "their_signatory", "data_region", "transfer_mechanisms", "scc_modules", "subprocessor_authorization", "notice_days", "file_sha256", "created_at"},
		query: `SELECT id, direction, counterparty, contact_email, domain, status, template_version, signed_on, effective_on, terminated_on,
			our_signatory, their_signatory, data_region, transfer_mechanisms, scc_modules, subprocessor_authorization, notice_days, file_sha256, created_at
			FROM dpas WHERE (terminated_on IS NULL OR terminated_on >= ?) AND created_at < ? ORDER BY id`,
		args: bounds(1),
	},
	{
		Name: "subprocessors", Description: "Sub-processors with purpose, data, countries, transfer mechanism and status.",
		FiltersOn: "created_at and removed_on: on the list at some time in the period",
		Columns:   []string{"name", "purpose", "data_categories", "countries", "transfer_mechanism", "website", "status", "active_since", "removed_on"},
		query: `SELECT name, purpose, data_categories, countries, transfer_mechanism, website, status, active_since, removed_on FROM subprocessors
			WHERE (removed_on IS NULL OR removed_on >= ?) AND created_at < ? ORDER BY name`,
		args: bounds(1),
	},
	{
		Name: "subprocessor_changes", Description: "Change notices: what changed, when announced and effective, how many were notified and objected.",
		FiltersOn: "announced_at",
		Columns:   []string{"notice", "change", "subprocessor", "replaces", "summary", "announced_at", "announced_by", "effective_on", "state", "applied_at", "notices_sent", "objections"},
		query: `SELECT n.id, n.change, s.name, COALESCE(r.name, ''), n.summary, n.announced_at, n.announced_by, n.effective_on, n.state, n.applied_at,
			(SELECT COUNT(*) FROM notice_recipients x WHERE x.notice_id = n.id), (SELECT COUNT(*) FROM subprocessor_objections o WHERE o.notice_id = n.id)
			FROM subprocessor_notices n JOIN subprocessors s ON s.id = n.subprocessor_id LEFT JOIN subprocessors r ON r.id = n.replaces_id
			WHERE n.announced_at >= ? AND n.announced_at < ? ORDER BY n.id`,
		args: bounds(1),
	},
	{
		Name: "packet_requests", Description: "Requests for policies and trust documents: requester, NDA acceptance, decision and the packet issued.",
		FiltersOn: "created_at",
		// policies is empty for every policy, "none" for documents only.
		Columns: []string{"request", "name", "email", "company", "policies", "documents", "status", "nda_sha256", "nda_accepted_at", "created_at", "confirmed_at", "decided_at",
			"decided_by", "deny_reason", "auto_approved", "packet_id"},
		query: `SELECT r.id, r.name, r.email, r.company, CASE WHEN r.no_policies THEN 'none' ELSE r.policies END, r.documents, r.status, COALESCE(a.sha256, ''), a.accepted_at, r.created_at, r.confirmed_at, r.decided_at,
			r.decided_by, r.deny_reason, CASE WHEN r.auto_approved THEN 'yes' ELSE 'no' END, COALESCE(p.public_id, '')
			FROM packet_requests r LEFT JOIN nda_acceptances a ON a.id = r.nda_acceptance_id LEFT JOIN packets p ON p.request_id = r.id
			WHERE r.created_at >= ? AND r.created_at < ? ORDER BY r.id`,
		args: bounds(1),
	},
	{
		Name: "packet_access_log", Description: "Every view, download and refusal of a packet link.",
		FiltersOn: "at", Columns: []string{"packet_id", "recipient", "at", "file", "outcome", "ip", "user_agent"},
		query: `SELECT p.public_id, p.recipient_email, a.at, a.file, a.outcome, a.ip, a.user_agent FROM packet_access a JOIN packets p ON p.id = a.packet_id
			WHERE a.at >= ? AND a.at < ? ORDER BY a.at, a.id`,
		args: bounds(1),
	},
	{
		Name: "access_review", Description: "Who can sign in: users with role, state, second factor, SSO-only, creation, disabling, end of access and last sign-in, and their API tokens.",
		FiltersOn: "created_at and disabled_at: accounts that existed and were not disabled before the period",
		Columns: []string{"email", "name", "role", "state", "mfa", "sso_only", "created_at", "disabled_at", "access_until", "last_sign_in_at",
			"api_tokens_live", "api_tokens_last_used_at"},
		query: `SELECT u.email, u.name, u.role, CASE WHEN u.disabled_at IS NULL THEN 'active' ELSE 'disabled' END,
			CASE WHEN u.mfa_enabled_at IS NULL THEN 'no' ELSE 'yes' END, CASE WHEN u.sso_only THEN 'yes' ELSE 'no' END,
			u.created_at, u.disabled_at, u.access_until, u.last_login_at,
			(SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > ?),
			(SELECT MAX(t.last_used_at) FROM api_tokens t WHERE t.user_id = u.id)
			FROM users u WHERE (u.disabled_at IS NULL OR u.disabled_at >= ?) AND u.created_at < ? ORDER BY u.email`,
		args: func(p Period, _ Rules) []any { return []any{p.end(), p.From, p.end()} },
	},
	{
		Name: "advisories", Description: "Security advisories with their incident, CVE, severity, status, timeline and publication (drafts included, marked).",
		FiltersOn: "date: the advisory's date",
		Columns: []string{"id", "title", "date", "cve", "severity", "status", "affected_regions", "incident", "incident_declared_at", "discovered_on", "reported_on",
			"fixed_on", "disclosed_on", "published_at", "updated_at"},
		query: `SELECT a.public_id, a.title, a.advisory_date, COALESCE(a.cve, ''), a.severity, a.status, a.affected_regions, i.title, i.declared_at,
			a.discovered_on, a.reported_on, a.fixed_on, a.disclosed_on, a.published_at, a.updated_at
			FROM advisories a JOIN incidents i ON i.id = a.incident_id
			WHERE a.advisory_date >= ? AND a.advisory_date < ? ORDER BY a.advisory_date, a.public_id`,
		args: bounds(1),
	},
	{
		Name: "dsar_requests", Description: "Data subject requests: law, type, channel, received, verified, extended, closed, outcome (requester details are not exported).",
		FiltersOn: "received_at",
		Columns: []string{"reference", "law", "type", "channel", "received_at", "status", "verified_at", "verification_method", "acknowledged_at",
			"extended_at", "extension_reason", "closed_at", "outcome", "refusal_reason", "systems_searched", "response_sha256"},
		query: `SELECT reference, law, request_type, channel, received_at, status, verified_at, verification_method, acknowledged_at,
			extended_at, extension_reason, closed_at, outcome, refusal_reason, systems_searched, response_sha256
			FROM privacy_requests WHERE status <> 'unconfirmed' AND received_at >= ? AND received_at < ? ORDER BY received_at, reference`,
		args: bounds(1),
	},
	{
		Name: "access_review_log", Description: "Recorded access reviews: who reviewed, when, how many accounts and tokens were live, and their note.",
		FiltersOn: "reviewed_at", Columns: []string{"reviewed_at", "reviewed_by", "users_active", "tokens_live", "note"},
		query: `SELECT reviewed_at, reviewed_by, users_active, tokens_live, note FROM access_reviews
			WHERE reviewed_at >= ? AND reviewed_at < ? ORDER BY reviewed_at, id`,
		args: bounds(1),
	},
	{
		Name: "audit_log", Description: "The audit trail: every change, sign-in, export and share-link access, with its hash chain. " +
			"Each event's data is there only for a role that may read the register it belongs to, the client IP and request ID only for admins; " +
			"`withheld` names the columns blanked for the role the export was made for (see \"What the audit_log lets you verify\").",
		FiltersOn: "occurred_at",
		Columns: []string{"seq", "occurred_at", "actor", "action", "object_type", "object_id", "client_ip", "request_id", "before_json", "after_json",
			"prev_hash", "hash", "withheld"},
		query: `SELECT seq, occurred_at, actor, action, object_type, object_id, client_ip, request_id, before_json, after_json, prev_hash, hash FROM audit_events
			WHERE occurred_at >= ? AND occurred_at < ? ORDER BY seq`,
		args:   bounds(1),
		redact: redactAuditRow,
	},
}

// versionLabel is "major.minor" in SQL that both databases accept.
const versionLabel = `CAST(v.major AS TEXT) || '.' || CAST(v.minor AS TEXT)`

// acknowledgementsQuery is the population with every cell computed in
// SQL as the text exported, so that a million rows are copied, not parsed
// and formatted again. due_on is the later of the start date + NewHireDays
// and the publication + NewVersionDays, as in the people area; on_time is
// yes when the first acknowledgement came by the end of the due day, empty
// while an unacknowledged version was not yet due at the end of the period
// (due_on before its last day: the whole due day counts), else no.
func acknowledgementsQuery(on textSQL) string {
	return `SELECT email, slug, version, published_at, due_on, acknowledged_at,
			CASE WHEN acknowledged_at IS NULL THEN CASE WHEN due_on < ? THEN 'no' ELSE '' END
			WHEN SUBSTR(acknowledged_at, 1, 10) <= due_on THEN 'yes' ELSE 'no' END
		FROM (SELECT e.email, p.slug, v.major, CAST(v.major AS TEXT) || '.0' AS version, ` + on.timestamp("v.published_at") + ` AS published_at,
			` + on.laterDate("e.start_date", "v.published_at") + ` AS due_on, ` + on.timestamp("MIN(a.acknowledged_at)") + ` AS acknowledged_at
			FROM employees e
			CROSS JOIN policy_versions v
			JOIN policies p ON p.id = v.policy_id
			LEFT JOIN acknowledgements a ON a.employee_id = e.id AND a.policy_id = v.policy_id AND a.major = v.major
			WHERE (e.end_date IS NULL OR e.end_date >= ?) AND e.start_date < ?
			AND v.minor = 0 AND v.status IN ('published', 'superseded') AND v.published_at < ?
			AND (e.end_date IS NULL OR e.end_date > v.published_at)
			AND NOT EXISTS (SELECT 1 FROM policy_versions w WHERE w.policy_id = v.policy_id AND w.minor = 0 AND w.major > v.major
				AND w.status IN ('published', 'superseded') AND w.published_at < ?)
			GROUP BY e.email, p.slug, v.major, e.start_date, v.published_at) AS population
		ORDER BY email, slug, major`
}

// textSQL writes, for one database, the SQL that turns stored times into
// the exported text: what format does in Go, done by the database.
type textSQL struct {
	// timestamp is ISO 8601 UTC to the second (time.RFC3339 of the UTC time).
	timestamp func(expr string) string
	// laterDate is the later, as YYYY-MM-DD, of the UTC day of the date
	// start plus a number of days and the UTC day of the timestamp at plus
	// another (the next two placeholders, in that order).
	laterDate func(start, at string) string
}

// sqliteText: strftime and date read every form the driver stores
// (offsets converted to UTC) and drop fractions of a second, as Go does.
var sqliteText = textSQL{
	timestamp: func(expr string) string { return `strftime('%Y-%m-%dT%H:%M:%SZ', ` + expr + `)` },
	laterDate: func(start, at string) string {
		return `MAX(date(` + start + `, ? || ' days'), date(` + at + `, ? || ' days'))`
	},
}

// postgresText: a DATE column is a day already (no time zone applies).
var postgresText = textSQL{
	timestamp: func(expr string) string {
		return `to_char(` + expr + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
	},
	laterDate: func(start, at string) string {
		return `to_char(GREATEST(` + start + ` + CAST(? AS INTEGER), CAST(` + at + ` AT TIME ZONE 'UTC' AS DATE) + CAST(? AS INTEGER)), 'YYYY-MM-DD')`
	},
}

// auditColumnOf names the audit_log column of each field auditview may
// withhold (the user agent is not exported).
var auditColumnOf = map[string]string{auditview.FieldActor: "actor", auditview.FieldObjectID: "object_id", auditview.FieldClientIP: "client_ip",
	auditview.FieldRequestID: "request_id", auditview.FieldBefore: "before_json", auditview.FieldAfter: "after_json"}

// redactAuditRow applies auditview's rule to one audit_log row: withheld
// cells are blanked and the last cell names their columns, so that a cell
// empty in the trail is told apart from one withheld. seq, prev_hash and
// hash are always kept: an auditor can check that the rows link up into
// one unbroken chain ending at the bundle's audit head, while recomputing
// a row's hash needs every field, which is for a role that may read them
// all ("charter audit verify", run by the operator).
func redactAuditRow(rec []string, role auth.Role) {
	v := auditview.For(role, audit.Event{Actor: rec[2], Action: rec[3], ObjectType: rec[4], ObjectID: rec[5], ClientIP: rec[6],
		RequestID: rec[7], BeforeJSON: rec[8], AfterJSON: rec[9]})
	rec[2], rec[5], rec[6], rec[7], rec[8], rec[9] = v.Actor, v.ObjectID, v.ClientIP, v.RequestID, v.BeforeJSON, v.AfterJSON
	names := make([]string, len(v.Withheld))
	for i, field := range v.Withheld {
		names[i] = auditColumnOf[field]
	}
	rec[len(rec)-1] = strings.Join(names, " ")
}
