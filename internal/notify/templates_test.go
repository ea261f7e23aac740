package notify_test

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// TestEveryKindRenders renders every kind of email (and each variant of
// its text) with sample data: the texts are those the services wrote
// before they moved into templates, word for word.
func TestEveryKindRenders(t *testing.T) {
	tpl, err := notify.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://charter.example"
	first, now := time.Date(2026, 3, 2, 8, 40, 0, 0, time.UTC), time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	expires, deadline := time.Date(2026, 4, 1, 9, 15, 0, 0, time.UTC), day(2026, 4, 1)
	five := 5
	cases := []struct {
		name          string
		data          notify.Data
		subject, body string
	}{
		{"signin_alert to the owner", notify.SignInAlert{Account: "ana@acme.example", ToOwner: true, Failures: 12, Networks: 3, First: first, Last: now, BaseURL: base},
			"Failed sign-ins to the Charter account ana@acme.example",
			`Charter counted 12 failed sign-ins to your account ana@acme.example between 2026-03-02 08:40 and 2026-03-02 09:15 UTC, from 3 network(s).

The account is not locked. Until the failures stop, every sign-in to it waits a few seconds, and a network that keeps failing is refused for up to an hour; a network that has not failed still signs in with the right password and two-factor code.

If these attempts were not yours, make sure your password is long and used nowhere else, and that two-factor sign-in is on (https://charter.example/app/account). An admin can see where the attempts came from.

This email is sent at most once an hour for an account.
`},
		{"signin_alert to the owner without a base URL", notify.SignInAlert{Account: "ana@acme.example", ToOwner: true, Failures: 12, Networks: 3, First: first, Last: now},
			"Failed sign-ins to the Charter account ana@acme.example",
			`Charter counted 12 failed sign-ins to your account ana@acme.example between 2026-03-02 08:40 and 2026-03-02 09:15 UTC, from 3 network(s).

The account is not locked. Until the failures stop, every sign-in to it waits a few seconds, and a network that keeps failing is refused for up to an hour; a network that has not failed still signs in with the right password and two-factor code.

If these attempts were not yours, make sure your password is long and used nowhere else, and that two-factor sign-in is on. An admin can see where the attempts came from.

This email is sent at most once an hour for an account.
`},
		{"signin_alert to an admin", notify.SignInAlert{Account: "ana@acme.example", Failures: 12, Networks: 3, First: first, Last: now, BaseURL: base},
			"Failed sign-ins to the Charter account ana@acme.example",
			`Charter counted 12 failed sign-ins to the account ana@acme.example between 2026-03-02 08:40 and 2026-03-02 09:15 UTC, from 3 network(s).

The account is not locked. Until the failures stop, every sign-in to it waits a few seconds, and a network that keeps failing is refused for up to an hour; a network that has not failed still signs in with the right password and two-factor code.

The audit trail lists each attempt with its client address (action auth.login.failed).

This email is sent at most once an hour for an account.
`},
		{"password_reset_sso", notify.PasswordResetSSO{Account: "ana@acme.example", BaseURL: base},
			"Your Charter account signs in with single sign-on",
			`Hello,

Someone (probably you) asked to reset the password of the Charter account ana@acme.example at https://charter.example.

This account has no password: sign in with single sign-on at

  https://charter.example/login

If it was not you, ignore this email; nothing has changed.
`},
		{"password_reset", notify.PasswordReset{Account: "ana@acme.example", BaseURL: base, Lifetime: "30 minutes", Link: base + "/login/reset/TOKEN"},
			"Reset your Charter password",
			`Hello,

Someone (probably you) asked to reset the password of the Charter account ana@acme.example at https://charter.example.

To choose a new password, open this link within 30 minutes:

  https://charter.example/login/reset/TOKEN

The link works once, and signs you out everywhere. If it was not you, ignore this email: your password has not changed.
`},
		{"vulnerability_report_ack", notify.VulnerabilityReportAck{Company: "Acme", Reference: "VR-2026-0001", Summary: "XSS in search"},
			"We received your security report VR-2026-0001",
			`Hello,

Thank you for reporting a security issue to Acme. Your report's reference is VR-2026-0001:

  XSS in search

Our security team reviews every report and will reply to this address. Valid findings are rewarded.
`},
		{"vulnerability_report", notify.VulnerabilityReport{Reference: "VR-2026-0001", Reporter: "eve@research.example", Summary: "XSS in search", Product: "Portal", Link: base + "/app/reports/VR-2026-0001"},
			"Vulnerability report VR-2026-0001: XSS in search",
			`Vulnerability report VR-2026-0001 from eve@research.example

Summary: XSS in search
Product: Portal

Triage it: https://charter.example/app/reports/VR-2026-0001
`},
		{"vulnerability_report without a product", notify.VulnerabilityReport{Reference: "VR-2026-0001", Reporter: "eve@research.example", Summary: "XSS in search", Link: base + "/app/reports/VR-2026-0001"},
			"Vulnerability report VR-2026-0001: XSS in search",
			`Vulnerability report VR-2026-0001 from eve@research.example

Summary: XSS in search
Product: –

Triage it: https://charter.example/app/reports/VR-2026-0001
`},
		{"packet_approved", notify.PacketApproved{Name: "Bo Chen", Company: "Acme", Policies: 20, PacketID: "PK-2026-0001", Link: base + "/p/TOKEN", Expires: expires, DownloadLimit: &five},
			"Your Acme policy packet",
			`Hello Bo Chen,

Acme has approved your request. Your policy packet (20 policies, packet ID PK-2026-0001) is here:

  https://charter.example/p/TOKEN

The link works until 1 April 2026 (at most 5 downloads of each file) and is for you alone: every file is watermarked with your name and email address.
`},
		{"packet_approved with a document", notify.PacketApproved{Name: "Bo Chen", Company: "Acme", Policies: 1, Documents: 1, PacketID: "PK-2026-0001", Link: base + "/p/TOKEN", Expires: expires},
			"Your Acme policy packet",
			`Hello Bo Chen,

Acme has approved your request. Your policy packet (1 policy, 1 document, packet ID PK-2026-0001) is here:

  https://charter.example/p/TOKEN

The link works until 1 April 2026 (no download limit) and is for you alone: every file is watermarked with your name and email address.
`},
		{"packet_approved without a download limit", notify.PacketApproved{Name: "Bo Chen", Company: "Acme", Policies: 20, PacketID: "PK-2026-0001", Link: base + "/p/TOKEN", Expires: expires},
			"Your Acme policy packet",
			`Hello Bo Chen,

Acme has approved your request. Your policy packet (20 policies, packet ID PK-2026-0001) is here:

  https://charter.example/p/TOKEN

The link works until 1 April 2026 (no download limit) and is for you alone: every file is watermarked with your name and email address.
`},
		{"packet_denied", notify.PacketDenied{Name: "Bo Chen", Company: "Acme", Reason: "We share policies under contract only."},
			"Your request for Acme's policies",
			`Hello Bo Chen,

Acme cannot share its policies with you at this time:

  We share policies under contract only.

You may reply to your contact at Acme.
`},
		{"packet_changed", notify.PacketChanged{Name: "Bo Chen", Company: "Acme", PacketID: "PK-2026-0001",
			Changes:     []notify.ChangedItem{{Title: "Backup Policy", Version: "2.0"}, {Title: "SOC 2 Type II report", Version: "2026", Document: true}},
			RequestLink: base + "/trust/request?policies=backup&document=soc2"},
			"Acme: new versions in your packet PK-2026-0001",
			`Hello Bo Chen,

Acme has published new versions of policies or documents in the packet you received (packet ID PK-2026-0001):

  Backup Policy: version 2.0
  SOC 2 Type II report (document): version 2026

The copy you hold is no longer the one in force. To receive the new version, request it here (the form is filled in for you):

  https://charter.example/trust/request?policies=backup&document=soc2

— Acme
`},
		{"packet_request_confirmation", notify.PacketRequestConfirmation{Name: "Bo Chen", Company: "Acme", Link: base + "/trust/request/confirm/TOKEN"},
			"Confirm your request for Acme's policies",
			`Hello Bo Chen,

You asked Acme for its security policies. To confirm that this address is yours, open this link within 7 days and press Confirm:

  https://charter.example/trust/request/confirm/TOKEN

If it was not you, ignore this email.
`},
		{"dpa_signature_confirmation", notify.DPASignatureConfirmation{Name: "Bo Chen", Company: "Acme", Customer: "Initech", Version: 2, Link: base + "/trust/dpa/sign/confirm/TOKEN"},
			"Confirm your signature of Acme's DPA",
			`Hello Bo Chen,

You signed version 2 of Acme's Data Processing Agreement on behalf of Initech. Your signature counts once you confirm that this address is yours: open this link within 7 days and press Confirm and sign:

  https://charter.example/trust/dpa/sign/confirm/TOKEN

Acme then countersigns the agreement and emails you the signed copy.

If it was not you, ignore this email: nothing is signed without the confirmation.
`},
		{"dpa_signed", notify.DPASigned{Name: "Bo Chen", Company: "Acme", Customer: "Initech", Version: 2, SignedAt: now,
			TextSHA256: strings.Repeat("a", 64), PDFSHA256: strings.Repeat("b", 64), Signature: "c2lnbmF0dXJl", VerifyLink: base + "/trust/verify",
			PDF: notify.Attachment{SHA256: strings.Repeat("b", 64), Name: "dpa.pdf"}},
			"Your countersigned DPA with Acme",
			`Hello Bo Chen,

Acme has countersigned the Data Processing Agreement you signed for Initech on 2026-03-02 09:15 UTC. The signed copy is attached.

Agreement:        standard DPA, version 2
Text SHA-256:     ` + strings.Repeat("a", 64) + `
PDF SHA-256:      ` + strings.Repeat("b", 64) + `
Ed25519 signature of the PDF SHA-256: c2lnbmF0dXJl

To check that a copy is the one Acme issued, upload it or give its SHA-256 at the address below, where Acme's public key is published:

  https://charter.example/trust/verify

Keep this email with your records.
`},
		{"packet_request", notify.PacketRequest{Name: "Bo Chen", Email: "bo@initech.example", Company: "Initech", Reason: "Vendor review", Link: base + "/app/packets/requests/7"},
			"Policy request from Initech",
			`Bo Chen (bo@initech.example, Initech) asks for policies.

Reason: Vendor review

Decide here: https://charter.example/app/packets/requests/7
`},
		{"packet_request without a reason", notify.PacketRequest{Name: "Bo Chen", Email: "bo@initech.example", Company: "Initech", Link: base + "/app/packets/requests/7"},
			"Policy request from Initech",
			`Bo Chen (bo@initech.example, Initech) asks for policies.

Reason: (none given)

Decide here: https://charter.example/app/packets/requests/7
`},
		{"privacy_request_confirmation", notify.PrivacyRequestConfirmation{Name: "Dana Ruiz", Company: "Acme", RequestType: "access", Law: "GDPR", Link: base + "/trust/privacy-request/confirm/TOKEN"},
			"Confirm your privacy request to Acme",
			`Hello Dana Ruiz,

You asked Acme to handle a privacy request (access, GDPR). To confirm that this address is yours, open this link within 7 days and press Confirm:

  https://charter.example/trust/privacy-request/confirm/TOKEN

If it was not you, ignore this email.
`},
		{"privacy_request_ack", notify.PrivacyRequestAck{Name: "Dana Ruiz", Company: "Acme", Received: now, Reference: "PR-2026-0003", Deadline: deadline, Law: "GDPR"},
			"Your privacy request PR-2026-0003",
			`Hello Dana Ruiz,

Acme received your privacy request on 2 March 2026. Its reference is PR-2026-0003. We will answer by 1 April 2026, as GDPR requires.
`},
		{"privacy_request", notify.PrivacyRequest{Reference: "PR-2026-0003", RequestType: "access", Law: "GDPR", Deadline: deadline, Link: base + "/app/privacy-requests/PR-2026-0003"},
			"Privacy request PR-2026-0003",
			`Privacy request PR-2026-0003 (access, GDPR) received through the public form. Deadline: 2026-04-01.

https://charter.example/app/privacy-requests/PR-2026-0003
`},
		{"privacy_request_reminder", notify.PrivacyRequestReminder{Requests: []notify.DueRequest{
			{Reference: "PR-2026-0003", RequestType: "access", Law: "GDPR", Deadline: deadline, Timing: "due soon"},
			{Reference: "PR-2026-0001", RequestType: "deletion", Law: "CCPA/CPRA", Deadline: day(2026, 2, 27), Timing: "overdue"},
		}, Link: base + "/app/privacy-requests"},
			"2 privacy request(s) due soon or overdue",
			`Privacy requests that need an answer soon:

  PR-2026-0003  access (GDPR) answer by 2026-04-01: due soon
  PR-2026-0001  deletion (CCPA/CPRA) answer by 2026-02-27: overdue

https://charter.example/app/privacy-requests
`},
		{"subscription_confirmation", notify.SubscriptionConfirmation{Company: "Acme", Link: base + "/trust/subscribe/confirm/TOKEN"},
			"Confirm your subscription to Acme sub-processor changes",
			`Hello,

Someone, probably you, asked to receive Acme's sub-processor change notices at this address.

To confirm, open this link within 7 days and press Confirm:

  https://charter.example/trust/subscribe/confirm/TOKEN

If it was not you, ignore this email: nothing will be sent.
`},
		{"advisory published", notify.Advisory{Company: "Acme", PublicID: "ACME-2026-0001", Title: "Token leak in logs", CVE: "CVE-2026-1234", Severity: "High", Status: "investigating", Link: base + "/trust/advisories/ACME-2026-0001", Unsubscribe: base + "/trust/unsubscribe/TOKEN"},
			"Acme security advisory ACME-2026-0001 published: Token leak in logs",
			`Hello,

Acme has published a security advisory (CVE-2026-1234):

  Token leak in logs
  Severity: High · Status: investigating

Read it: https://charter.example/trust/advisories/ACME-2026-0001

You receive this because you subscribed to Acme's security and privacy notices. To stop: https://charter.example/trust/unsubscribe/TOKEN
`},
		{"advisory status changed, no CVE", notify.Advisory{Company: "Acme", PublicID: "ACME-2026-0001", Title: "Token leak in logs", Severity: "High", Status: "resolved", StatusChanged: true, Link: base + "/trust/advisories/ACME-2026-0001", Unsubscribe: base + "/trust/unsubscribe/TOKEN"},
			"Acme security advisory ACME-2026-0001 status changed to resolved: Token leak in logs",
			`Hello,

Acme has changed the status of a security advisory:

  Token leak in logs
  Severity: High · Status: resolved

Read it: https://charter.example/trust/advisories/ACME-2026-0001

You receive this because you subscribed to Acme's security and privacy notices. To stop: https://charter.example/trust/unsubscribe/TOKEN
`},
		{"subprocessor_notice to a customer", notify.SubprocessorNotice{Company: "Acme", Subprocessor: "Mailgun", Summary: "We will add Mailgun as a sub-processor for email delivery.", EffectiveOn: day(2026, 4, 15), List: base + "/trust/subprocessors", Counterparty: "Initech", ObjectionLink: base + "/trust/objections/TOKEN"},
			"Sub-processor change effective 2026-04-15: Mailgun",
			`Hello,

As set out in the Data Processing Agreement between Initech and Acme, we give notice of a change to our sub-processors:

  We will add Mailgun as a sub-processor for email delivery.

The change takes effect on 15 April 2026.

If you object to this change, tell us before that date through your personal link:

  https://charter.example/trust/objections/TOKEN

The current list of sub-processors: https://charter.example/trust/subprocessors

— Acme
`},
		{"subprocessor_notice to a subscriber", notify.SubprocessorNotice{Company: "Acme", Subprocessor: "Mailgun", Summary: "We will add Mailgun as a sub-processor for email delivery.", EffectiveOn: day(2026, 4, 15), List: base + "/trust/subprocessors", Unsubscribe: base + "/trust/unsubscribe/TOKEN"},
			"Sub-processor change effective 2026-04-15: Mailgun",
			`Hello,

Acme gives notice of a change to its sub-processors:

  We will add Mailgun as a sub-processor for email delivery.

The change takes effect on 15 April 2026.

The current list: https://charter.example/trust/subprocessors

You receive this because you subscribed to sub-processor changes. To stop: https://charter.example/trust/unsubscribe/TOKEN
`},
		{"subprocessor_notice citing its snapshot", notify.SubprocessorNotice{Company: "Acme", Subprocessor: "Mailgun", Summary: "We will add Mailgun as a sub-processor for email delivery.", EffectiveOn: day(2026, 4, 15), List: base + "/trust/subprocessors", Counterparty: "Initech", ObjectionLink: base + "/trust/objections/TOKEN",
			Snapshot: base + "/trust/as-of/2026-03-01", SnapshotExact: base + "/trust/snapshots/7.json", SnapshotSHA256: "9f2c"},
			"Sub-processor change effective 2026-04-15: Mailgun",
			`Hello,

As set out in the Data Processing Agreement between Initech and Acme, we give notice of a change to our sub-processors:

  We will add Mailgun as a sub-processor for email delivery.

The change takes effect on 15 April 2026.

If you object to this change, tell us before that date through your personal link:

  https://charter.example/trust/objections/TOKEN

The current list of sub-processors: https://charter.example/trust/subprocessors

The list with this change announced, as a dated and signed snapshot: https://charter.example/trust/as-of/2026-03-01
(this snapshot: https://charter.example/trust/snapshots/7.json, SHA-256 9f2c)

— Acme
`},
		{"dpa_request", notify.DPARequest{Company: "Initech", Email: "bo@initech.example", Region: "eu-west-1", Link: base + "/app/privacy/dpas/4"},
			"DPA requested by Initech",
			`Initech (bo@initech.example) asked for a DPA through the Security & Privacy page.

Region: eu-west-1

The request is in the register:

  https://charter.example/app/privacy/dpas/4
`},
		{"dpa_request without a region", notify.DPARequest{Company: "Initech", Email: "bo@initech.example", Link: base + "/app/privacy/dpas/4"},
			"DPA requested by Initech",
			`Initech (bo@initech.example) asked for a DPA through the Security & Privacy page.

Region: (not given)

The request is in the register:

  https://charter.example/app/privacy/dpas/4
`},
		{"reminder with policies and training", notify.Reminder{FirstName: "Carl",
			Policies: []notify.ReminderItem{{What: "Access Control Policy 2.0", Due: day(2026, 3, 9)}, {What: "Backup Policy 1.1", Due: day(2026, 2, 20), Overdue: true}},
			Training: []notify.ReminderItem{{What: "Security awareness", Due: day(2026, 2, 20), Overdue: true}},
			Link:     base + "/ack/TOKEN"},
			"Reminder: security and compliance tasks",
			`Hello Carl,

A reminder of what the company's security programme needs from you:

Policies to read and acknowledge:
  - Access Control Policy 2.0 (due 9 March 2026)
  - Backup Policy 1.1 (OVERDUE since 20 February 2026)

Training to complete:
  - Security awareness (OVERDUE since 20 February 2026)

Your personal link to the policies (earlier links no longer work):

  https://charter.example/ack/TOKEN

Thank you.
`},
		{"reminder with training only", notify.Reminder{FirstName: "Carl", Training: []notify.ReminderItem{{What: "Security awareness", Due: day(2026, 3, 9)}}},
			"Reminder: security and compliance tasks",
			`Hello Carl,

A reminder of what the company's security programme needs from you:

Training to complete:
  - Security awareness (due 9 March 2026)

Thank you.
`},
		{"ack_link", notify.AckLink{FirstName: "Carl", Owed: 3, Link: base + "/ack/TOKEN", Expires: expires},
			"Please acknowledge the company policies",
			`Hello Carl,

Please read and acknowledge the company's policies (3 to go). Your personal link:

  https://charter.example/ack/TOKEN

The link works until 1 April 2026 and is for you alone; do not forward it.
`},
		{"document_expiring, early", notify.DocumentExpiring{Title: "SOC 2 Type II report", Version: "2026", ValidUntil: deadline, DaysLeft: 30, Link: base + "/app/documents/soc-2-type-ii-report"},
			"SOC 2 Type II report lapses on 2026-04-01",
			`Version 2026 of "SOC 2 Type II report" is valid until 1 April 2026, 30 days from now. On the day after, it leaves the trust center and can no longer be requested.

Upload the new version before then:
https://charter.example/app/documents/soc-2-type-ii-report

You receive this email because you own this document in Charter.
`},
		{"document_expiring, one day left", notify.DocumentExpiring{Title: "Insurance certificate", Version: "v3", ValidUntil: deadline, DaysLeft: 1, Link: base + "/app/documents/insurance"},
			"Insurance certificate lapses on 2026-04-01",
			`Version v3 of "Insurance certificate" is valid until 1 April 2026, 1 day from now. On the day after, it leaves the trust center and can no longer be requested.

Upload the new version before then:
https://charter.example/app/documents/insurance

You receive this email because you own this document in Charter.
`},
		{"document_expiring, lapsed", notify.DocumentExpiring{Title: "Insurance certificate", Version: "v3", ValidUntil: deadline, Lapsed: true, Link: base + "/app/documents/insurance"},
			"Insurance certificate has lapsed",
			`Version v3 of "Insurance certificate" was valid until 1 April 2026. It has left the trust center and can no longer be requested.

Upload the new version to share it again:
https://charter.example/app/documents/insurance

You receive this email because you own this document in Charter.
`},
		{"approval_request to a named approver", notify.ApprovalRequest{Policy: "Backup Policy", Version: "2.0", Author: "ana@acme.example",
			ChangeSummary: "Hourly snapshots", Material: true, Named: true, Link: base + "/app/policies/backup/versions/2.0"},
			"Approve Backup Policy 2.0",
			`ana@acme.example submitted Backup Policy version 2.0 for approval, and named you as its approver.

Change: material (every employee must acknowledge it again)
Summary: Hourly snapshots

Read and approve it here: https://charter.example/app/policies/backup/versions/2.0
`},
		{"approval_request to every approver", notify.ApprovalRequest{Policy: "Backup Policy", Version: "1.1", Author: "ana@acme.example",
			ChangeSummary: "Typo", Link: base + "/app/policies/backup/versions/1.1"},
			"Approve Backup Policy 1.1",
			`ana@acme.example submitted Backup Policy version 1.1 for approval.

Change: minor (no new acknowledgement)
Summary: Typo

Read and approve it here: https://charter.example/app/policies/backup/versions/1.1
`},
		{"approval_reminder", notify.ApprovalReminder{Policy: "Backup Policy", Version: "2.0", Author: "ana@acme.example", Waiting: "4 days",
			Link: base + "/app/policies/backup/versions/2.0"},
			"Still waiting: approve Backup Policy 2.0",
			`Backup Policy version 2.0, drafted by ana@acme.example, has waited 4 days for approval.

Read and approve it here: https://charter.example/app/policies/backup/versions/2.0
`},
		{"exception_request", notify.ExceptionRequest{Policy: "Password Policy", Section: "4.2 Rotation", Scope: "Legacy billing host",
			Reason: "The appliance cannot rotate passwords", CompensatingControls: "Isolated network", ExpiresOn: deadline,
			Requester: "ana@acme.example", Link: base + "/app/exceptions/7"},
			"Approve a policy exception: Password Policy",
			`ana@acme.example requested an exception to the Password Policy (4.2 Rotation), until 1 April 2026.

Scope: Legacy billing host
Reason: The appliance cannot rotate passwords
Compensating controls: Isolated network

Approve or reject it here (the requester cannot approve it): https://charter.example/app/exceptions/7
`},
		{"exception_request, renewal", notify.ExceptionRequest{Policy: "Password Policy", Scope: "Legacy billing host",
			Reason: "Replacement delayed", CompensatingControls: "Isolated network", ExpiresOn: deadline,
			Requester: "ana@acme.example", Renewal: true, Link: base + "/app/exceptions/8"},
			"Approve the renewal of a policy exception: Password Policy",
			`ana@acme.example requested the renewal of an exception to the Password Policy, until 1 April 2026.

Scope: Legacy billing host
Reason: Replacement delayed
Compensating controls: Isolated network

Approve or reject it here (the requester cannot approve it): https://charter.example/app/exceptions/8
`},
		{"exception_expiring, soon", notify.ExceptionExpiring{Policy: "Password Policy", Section: "4.2 Rotation", Scope: "Legacy billing host",
			ExpiresOn: deadline, DaysLeft: 14, Link: base + "/app/exceptions/7"},
			"Policy exception expires on 2026-04-01: Password Policy",
			`The exception to the Password Policy (4.2 Rotation) for "Legacy billing host" expires on 1 April 2026, 14 days from now. From that day the policy applies in full again.

If it is still needed, request its renewal before then; another editor or admin approves it:
https://charter.example/app/exceptions/7

You receive this email because you requested or approved this exception in Charter.
`},
		{"exception_expiring, lapsed", notify.ExceptionExpiring{Policy: "Password Policy", Scope: "Legacy billing host",
			ExpiresOn: deadline, Lapsed: true, Link: base + "/app/exceptions/7"},
			"Policy exception lapsed: Password Policy",
			`The exception to the Password Policy for "Legacy billing host" expired on 1 April 2026. The policy applies in full again.

If the exception is still needed, request its renewal:
https://charter.example/app/exceptions/7

You receive this email because you requested or approved this exception in Charter.
`},
	}
	rendered := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := tpl.Email("to@example.com", c.data)
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind != c.data.Kind() || e.To != "to@example.com" {
				t.Errorf("kind %q to %q", e.Kind, e.To)
			}
			// Only a subscriber's email has the one-click header, with
			// the link its body shows.
			wantUnsubscribe := ""
			if i := strings.Index(c.body, "To stop: "); i >= 0 {
				wantUnsubscribe = strings.TrimSpace(c.body[i+len("To stop: "):])
			}
			if e.ListUnsubscribe != wantUnsubscribe {
				t.Errorf("List-Unsubscribe %q, want %q", e.ListUnsubscribe, wantUnsubscribe)
			}
			if e.Subject != c.subject {
				t.Errorf("subject:\n got %q\nwant %q", e.Subject, c.subject)
			}
			if e.Body != c.body {
				t.Errorf("body:\n got %q\nwant %q", e.Body, c.body)
			}
			for _, link := range strings.Fields(c.body) {
				if strings.HasPrefix(link, base) && !strings.Contains(e.Body, link) {
					t.Errorf("body lacks the link %s", link)
				}
			}
		})
		rendered[c.data.Kind()] = true
	}
	for _, kind := range notify.Kinds() {
		if !rendered[kind] {
			t.Errorf("no case renders %s", kind)
		}
	}
}

// TestEveryTemplateHasAKind compares the template directory with the
// kinds the code sends: a template nobody sends, or a kind without a
// template, fails here (and NewTemplates refuses to start).
func TestEveryTemplateHasAKind(t *testing.T) {
	entries, err := fs.ReadDir(os.DirFS("templates"), ".")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, strings.TrimSuffix(e.Name(), ".txt"))
	}
	kinds := notify.Kinds()
	slices.Sort(files)
	slices.Sort(kinds)
	if !slices.Equal(files, kinds) {
		t.Fatalf("templates %v\n    kinds %v", files, kinds)
	}
	if len(slices.Compact(slices.Clone(kinds))) != len(kinds) {
		t.Fatalf("a kind is listed twice: %v", kinds)
	}
}

// wrongData claims the kind ack_link without its fields.
type wrongData struct{ Name string }

func (wrongData) Kind() string { return "ack_link" }

type unknownData struct{}

func (unknownData) Kind() string { return "carrier_pigeon" }

// TestRenderFailsLoudly: a template reading a field the data lacks is an
// error, never an email saying "<no value>"; so is a kind without a
// template.
func TestRenderFailsLoudly(t *testing.T) {
	tpl, err := notify.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []notify.Data{wrongData{Name: "Carl"}, unknownData{}} {
		if e, err := tpl.Email("to@example.com", d); err == nil {
			t.Errorf("%T rendered: %q %q", d, e.Subject, e.Body)
		}
	}
}

// TestEnqueueWritesTheRenderedEmail: the outbox row carries the rendered
// text, the data's kind and, for a subscriber, the one-click header.
func TestEnqueueWritesTheRenderedEmail(t *testing.T) {
	tpl, err := notify.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
		notice := notify.SubprocessorNotice{Company: "Acme", Subprocessor: "Mailgun", Summary: "We will add Mailgun.", EffectiveOn: day(2026, 4, 15),
			List: "https://charter.example/trust/subprocessors", Unsubscribe: "https://charter.example/trust/unsubscribe/TOKEN"}
		var m *notify.Message
		if err := st.DB.Transaction(func(tx *gorm.DB) error {
			m, err = tpl.Enqueue(tx, now, "charter.example", "sub@example.com", notice)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var got notify.Message
		if err := st.DB.Take(&got, m.ID).Error; err != nil {
			t.Fatal(err)
		}
		subject, body, _ := tpl.Render(notice)
		if got.Kind != "subprocessor_notice" || got.ToAddr != "sub@example.com" || got.Subject != subject || got.Body != body ||
			got.ListUnsubscribe != notice.Unsubscribe || got.State != notify.Pending || !strings.HasSuffix(got.MessageID, "@charter.example>") {
			t.Fatalf("outbox row %+v", got)
		}
	})
}
