package notify

import "time"

// Data is what one kind of email says: its Kind names both the template
// (templates/<kind>.txt) and the outbox row's Kind.
type Data interface{ Kind() string }

// Kinds lists every kind of email Charter sends; each has a template and a
// Data type below.
func Kinds() []string {
	return []string{
		"signin_alert", "password_reset", "password_reset_sso",
		"vulnerability_report_ack", "vulnerability_report", "advisory",
		"packet_request_confirmation", "packet_request", "packet_approved", "packet_denied", "packet_changed",
		"privacy_request_confirmation", "privacy_request_ack", "privacy_request", "privacy_request_reminder",
		"subscription_confirmation", "subprocessor_notice", "dpa_request",
		"dpa_signature_confirmation", "dpa_signed",
		"ack_link", "reminder", "document_expiring",
		"approval_request", "approval_reminder",
		"exception_request", "exception_expiring",
	}
}

// SignInAlert tells an account's owner, or an admin, that sign-ins to it
// keep failing.
type SignInAlert struct {
	Account     string // the account's email address
	ToOwner     bool   // the owner's version, else an admin's
	Failures    int64
	Networks    int64
	First, Last time.Time
	BaseURL     string // for the owner's account page; may be empty
}

// Kind is "signin_alert".
func (SignInAlert) Kind() string { return "signin_alert" }

// PasswordReset carries a link that sets a new password.
type PasswordReset struct {
	Account  string
	BaseURL  string
	Lifetime string // how long the link works, in words
	Link     string
}

// Kind is "password_reset".
func (PasswordReset) Kind() string { return "password_reset" }

// PasswordResetSSO answers a reset request for an account without a
// password.
type PasswordResetSSO struct {
	Account string
	BaseURL string
}

// Kind is "password_reset_sso".
func (PasswordResetSSO) Kind() string { return "password_reset_sso" }

// VulnerabilityReportAck acknowledges a report to its reporter.
type VulnerabilityReportAck struct {
	Company   string
	Reference string
	Summary   string
}

// Kind is "vulnerability_report_ack".
func (VulnerabilityReportAck) Kind() string { return "vulnerability_report_ack" }

// VulnerabilityReport tells the security contact of a new report.
type VulnerabilityReport struct {
	Reference string
	Reporter  string // the reporter's address
	Summary   string
	Product   string // may be empty
	Link      string // the report in the dashboard
}

// Kind is "vulnerability_report".
func (VulnerabilityReport) Kind() string { return "vulnerability_report" }

// Advisory announces a published advisory, or a change of its status, to
// a subscriber.
type Advisory struct {
	Company  string
	PublicID string
	Title    string
	CVE      string // may be empty
	Severity string
	Status   string
	// StatusChanged: the status of a published advisory changed; else it
	// was just published.
	StatusChanged bool
	Link          string
	Unsubscribe   string
}

// Kind is "advisory".
func (Advisory) Kind() string { return "advisory" }

// ListUnsubscribe is the subscriber's link.
func (a Advisory) ListUnsubscribe() string { return a.Unsubscribe }

// PacketRequestConfirmation asks a requester to confirm their address.
type PacketRequestConfirmation struct {
	Name    string
	Company string
	Link    string
}

// Kind is "packet_request_confirmation".
func (PacketRequestConfirmation) Kind() string { return "packet_request_confirmation" }

// PacketRequest puts a confirmed request before the team.
type PacketRequest struct {
	Name    string
	Email   string
	Company string // the requester's company
	Reason  string // may be empty
	Link    string
}

// Kind is "packet_request".
func (PacketRequest) Kind() string { return "packet_request" }

// PacketApproved sends the requester their packet's link.
type PacketApproved struct {
	Name          string
	Company       string
	Policies      int
	Documents     int
	PacketID      string
	Link          string
	Expires       time.Time
	DownloadLimit *int // per file; nil: no limit
}

// Kind is "packet_approved".
func (PacketApproved) Kind() string { return "packet_approved" }

// PacketChanged tells a packet's recipient that policies or documents in
// their packet have new versions, with a link to request them.
type PacketChanged struct {
	Name        string
	Company     string
	PacketID    string
	Changes     []ChangedItem
	RequestLink string
}

// ChangedItem is one policy or document with a new version.
type ChangedItem struct {
	Title    string
	Version  string
	Document bool // a trust document; else a policy
}

// Kind is "packet_changed".
func (PacketChanged) Kind() string { return "packet_changed" }

// PacketDenied tells the requester why not.
type PacketDenied struct {
	Name    string
	Company string
	Reason  string
}

// Kind is "packet_denied".
func (PacketDenied) Kind() string { return "packet_denied" }

// PrivacyRequestConfirmation asks a data subject to confirm their address.
type PrivacyRequestConfirmation struct {
	Name        string
	Company     string
	RequestType string
	Law         string // as shown, e.g. "UK GDPR"
	Link        string
}

// Kind is "privacy_request_confirmation".
func (PrivacyRequestConfirmation) Kind() string { return "privacy_request_confirmation" }

// PrivacyRequestAck acknowledges a confirmed request with its deadline.
type PrivacyRequestAck struct {
	Name      string
	Company   string
	Received  time.Time
	Reference string
	Deadline  time.Time
	Law       string
}

// Kind is "privacy_request_ack".
func (PrivacyRequestAck) Kind() string { return "privacy_request_ack" }

// PrivacyRequest tells the team of a confirmed request.
type PrivacyRequest struct {
	Reference   string
	RequestType string
	Law         string
	Deadline    time.Time
	Link        string
}

// Kind is "privacy_request".
func (PrivacyRequest) Kind() string { return "privacy_request" }

// PrivacyRequestReminder lists the team's requests due soon or overdue.
type PrivacyRequestReminder struct {
	Requests []DueRequest
	Link     string
}

// DueRequest is one line of a PrivacyRequestReminder.
type DueRequest struct {
	Reference   string
	RequestType string
	Law         string
	Deadline    time.Time
	Timing      string // "due soon", "overdue"
}

// Kind is "privacy_request_reminder".
func (PrivacyRequestReminder) Kind() string { return "privacy_request_reminder" }

// SubscriptionConfirmation asks a subscriber to confirm their address.
type SubscriptionConfirmation struct {
	Company string
	Link    string
}

// Kind is "subscription_confirmation".
func (SubscriptionConfirmation) Kind() string { return "subscription_confirmation" }

// SubprocessorNotice gives notice of a sub-processor change: to a customer
// under its DPA, with a link to object, or to a subscriber, with a link to
// unsubscribe.
type SubprocessorNotice struct {
	Company      string
	Subprocessor string
	Summary      string
	EffectiveOn  time.Time
	List         string // the public list of sub-processors
	// Snapshot is the page of the day of the dated, signed snapshot of
	// the public promises that records this announcement, SnapshotExact
	// that snapshot's own address and SnapshotSHA256 its hash.
	Snapshot       string
	SnapshotExact  string
	SnapshotSHA256 string
	// Counterparty and ObjectionLink are set for a customer; Unsubscribe
	// for a subscriber.
	Counterparty  string
	ObjectionLink string
	Unsubscribe   string
}

// Kind is "subprocessor_notice".
func (SubprocessorNotice) Kind() string { return "subprocessor_notice" }

// ListUnsubscribe is a subscriber's link; a customer, notified under its
// DPA, has none.
func (n SubprocessorNotice) ListUnsubscribe() string { return n.Unsubscribe }

// DPARequest tells the team that a customer asked for a DPA.
type DPARequest struct {
	Company string // the customer
	Email   string
	Region  string // may be empty
	Link    string
}

// Kind is "dpa_request".
func (DPARequest) Kind() string { return "dpa_request" }

// DPASignatureConfirmation asks a customer who signed the standard DPA on
// /trust/dpa to confirm their address: the signature counts only then.
type DPASignatureConfirmation struct {
	Name     string // the signer
	Company  string // ours
	Customer string // the company they sign for
	Version  int    // of the standard DPA
	Link     string
}

// Kind is "dpa_signature_confirmation".
func (DPASignatureConfirmation) Kind() string { return "dpa_signature_confirmation" }

// DPASigned sends the signer the countersigned standard DPA, attached.
type DPASigned struct {
	Name       string // the signer
	Company    string // ours
	Customer   string // the company they signed for
	Version    int
	SignedAt   time.Time // UTC
	TextSHA256 string    // of the agreement's text
	PDFSHA256  string    // of the attached PDF
	// Signature is the company's Ed25519 signature (base64) of PDFSHA256
	// as text, for checking the copy offline; "" when there is no key.
	Signature  string
	VerifyLink string
	PDF        Attachment
}

// Kind is "dpa_signed".
func (DPASigned) Kind() string { return "dpa_signed" }

// Attachment is the countersigned PDF.
func (d DPASigned) Attachment() Attachment { return d.PDF }

// AckLink carries an employee's link to acknowledge policies.
type AckLink struct {
	FirstName string
	Owed      int
	Link      string
	Expires   time.Time
}

// Kind is "ack_link".
func (AckLink) Kind() string { return "ack_link" }

// Reminder lists what an employee owes; Link, their new acknowledgement
// link, is set when Policies is not empty.
type Reminder struct {
	FirstName string
	Policies  []ReminderItem
	Training  []ReminderItem
	Link      string
}

// ReminderItem is one line of a Reminder.
type ReminderItem struct {
	What    string
	Due     time.Time
	Overdue bool
}

// Kind is "reminder".
func (Reminder) Kind() string { return "reminder" }

// DocumentExpiring tells a trust document's owner that the version in
// force lapses soon, or has lapsed and left /trust.
type DocumentExpiring struct {
	Title      string
	Version    string
	ValidUntil time.Time
	DaysLeft   int // days from today to ValidUntil
	Lapsed     bool
	Link       string
}

// Kind is "document_expiring".
func (DocumentExpiring) Kind() string { return "document_expiring" }

// ApprovalRequest asks an editor or admin to approve a policy draft.
type ApprovalRequest struct {
	Policy        string // the policy's title
	Version       string
	Author        string
	ChangeSummary string
	Material      bool
	Named         bool // the recipient was named as the approver
	Link          string
}

// Kind is "approval_request".
func (ApprovalRequest) Kind() string { return "approval_request" }

// ApprovalReminder reminds an approver of a draft still waiting.
type ApprovalReminder struct {
	Policy  string
	Version string
	Author  string
	Waiting string // how long, in words: "4 days"
	Link    string
}

// Kind is "approval_reminder".
func (ApprovalReminder) Kind() string { return "approval_reminder" }

// ExceptionExpiring tells the requester and approver of a policy exception
// that it expires soon, or has lapsed and the policy applies in full.
type ExceptionExpiring struct {
	Policy    string // the policy's title
	Section   string // may be empty
	Scope     string
	ExpiresOn time.Time
	DaysLeft  int // days from today to ExpiresOn
	Lapsed    bool
	Link      string
}

// Kind is "exception_expiring".
func (ExceptionExpiring) Kind() string { return "exception_expiring" }

// ExceptionRequest asks the editors and admins other than the requester
// to approve or reject a policy exception (or its renewal).
type ExceptionRequest struct {
	Policy               string // the policy's title
	Section              string // may be empty
	Scope                string
	Reason               string
	CompensatingControls string
	ExpiresOn            time.Time
	Requester            string
	Renewal              bool
	Link                 string
}

// Kind is "exception_request".
func (ExceptionRequest) Kind() string { return "exception_request" }
