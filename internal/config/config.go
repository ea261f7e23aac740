// Package config holds Charter's settings. Every setting is a flag and a
// CHARTER_* environment variable; a flag given on the command line wins over
// the variable, which wins over the default.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Config is the complete set of settings.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	// SigningKeyFile and MFAKeyFile are the key files every instance
	// sharing a database must be given; empty for the files in the data
	// directory, made on first start (one instance).
	SigningKeyFile     string
	MFAKeyFile         string
	BaseURL            string
	LogLevel           string
	LogFormat          string
	TrustedProxies     []string
	SessionIdleTimeout time.Duration
	SessionLifetime    time.Duration
	AdminEmail         string
	// Demo loads the fictional demo team into an empty roster.
	Demo            bool
	ShutdownTimeout time.Duration
	// AckDueNewHireDays: a new hire owes acknowledgements this many days
	// after their start date.
	AckDueNewHireDays int
	// AckDueNewVersionDays: a new major policy version is owed this many
	// days after its publication.
	AckDueNewVersionDays int
	// AckLinkTTL is how long an employee's acknowledgement link works.
	AckLinkTTL time.Duration
	// BackgroundCheckDays: days after the start date by which a background
	// check must be complete (0: by the start date).
	BackgroundCheckDays int
	// Reminders turns the daily reminder job on.
	Reminders bool
	// ApprovalReminderDays: a draft waiting this many days for approval is
	// brought to its approvers again, once a day.
	ApprovalReminderDays int
	// ExceptionReminderDays: a policy exception's requester and approver
	// are reminded this many days before it expires.
	ExceptionReminderDays int
	// ExceptionMaxDays is the longest term a policy exception may have.
	ExceptionMaxDays int
	// SMTP settings; with no host, emails wait in the outbox.
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string
	SMTPTLS      string
	// FreeMailDomains are refused by public forms that ask for a work
	// email; empty means the built-in list.
	FreeMailDomains []string
	// PublicFormsPerHour bounds the submissions of every public form from
	// one client network (an IPv4 address or an IPv6 /64) per hour.
	PublicFormsPerHour int
	// PublicFormsPerAddressPerHour and PublicFormsPerAddressPerDay bound
	// the submissions naming one email address, from any source.
	PublicFormsPerAddressPerHour int
	PublicFormsPerAddressPerDay  int
	// PublicFormsPerFormPerHour bounds one form's submissions from everyone.
	PublicFormsPerFormPerHour int
	// UnconfirmedRetention: how long a public-form submission whose email
	// address was never confirmed is kept before it is deleted.
	UnconfirmedRetention time.Duration
	// Scheduled SQLite backups: every BackupInterval (0: off) into
	// BackupDir, keeping the newest BackupKeep.
	BackupInterval time.Duration
	BackupDir      string
	BackupKeep     int
	// PrivacyRequestRetention: how long after closing a privacy request
	// its requester's details are kept.
	PrivacyRequestRetention time.Duration
	// OpenID Connect single sign-on; off without an issuer.
	OIDCIssuer         string
	OIDCClientID       string
	OIDCClientSecret   string
	OIDCAllowedDomains []string
	OIDCCreateUsers    bool
	OIDCDefaultRole    string
	// PasswordSignIn off leaves SSO as the only way in.
	PasswordSignIn bool
	// PasswordResetTTL is how long a forgotten-password link works.
	PasswordResetTTL time.Duration
	// MFARequiredRoles must set up a second factor before using the
	// dashboard; "all" means every role.
	MFARequiredRoles []string
	// PacketAutoApproveDPA approves policy requests at once from the
	// domain of a customer with a signed DPA.
	PacketAutoApproveDPA bool
	// PacketAutoApproveDomains are further domains approved at once.
	PacketAutoApproveDomains []string
	// WebhooksAllowLoopback lets webhook endpoints be on this machine
	// (loopback, over http too); other private addresses stay refused.
	WebhooksAllowLoopback bool
	// Lease is how long an instance's claim on an email being sent or a
	// job being run holds without renewal; after it, another instance
	// takes the work over (the claimant is presumed dead).
	Lease time.Duration
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// MetricsAddr, when set, is the only address that serves /metrics;
	// the main address then answers 404 for it.
	MetricsAddr string
	// PublicCheckpoint serves the audit log's newest signed checkpoint at
	// /trust/audit/checkpoint; it reveals only the event count and a hash.
	PublicCheckpoint bool
}

// MinMetricsTokenLength keeps the /metrics token out of guessing range.
const MinMetricsTokenLength = 16

// Defaults returns the settings used when nothing is given.
func Defaults() Config {
	return Config{
		Addr:               ":8080",
		DataDir:            "./data",
		BaseURL:            "http://localhost:8080",
		LogLevel:           "info",
		LogFormat:          "json",
		SessionIdleTimeout: 30 * time.Minute,
		SessionLifetime:    12 * time.Hour,
		AdminEmail:         "admin@example.com",
		ShutdownTimeout:    30 * time.Second,
		PublicFormsPerHour: 20,
		// A few confirmation emails to one address: enough for someone
		// asking for policies, a DPA and a privacy request in one go.
		PublicFormsPerAddressPerHour: 3,
		PublicFormsPerAddressPerDay:  10,
		PublicFormsPerFormPerHour:    300,
		UnconfirmedRetention:         7 * 24 * time.Hour,
		PacketAutoApproveDPA:         true,
		MFARequiredRoles:             []string{"admin", "editor"},
		OIDCDefaultRole:              "viewer",
		PasswordSignIn:               true,
		PasswordResetTTL:             30 * time.Minute,
		PrivacyRequestRetention:      2 * 365 * 24 * time.Hour,
		BackupKeep:                   7,
		AckDueNewHireDays:            30,
		AckDueNewVersionDays:         30,
		ApprovalReminderDays:         3,
		ExceptionReminderDays:        14,
		ExceptionMaxDays:             365,
		AckLinkTTL:                   30 * 24 * time.Hour,
		Reminders:                    true,
		SMTPPort:                     587,
		SMTPTLS:                      "starttls",
		Lease:                        30 * time.Second,
	}
}

// envBinding remembers which flag reads which variable.
type envBinding struct{ flag, env string }

// Binder registers flags on a flag set and applies CHARTER_* variables to the
// flags not given on the command line.
type Binder struct {
	fs       *pflag.FlagSet
	bindings []envBinding
}

// NewBinder returns a Binder for fs.
func NewBinder(fs *pflag.FlagSet) *Binder { return &Binder{fs: fs} }

func (b *Binder) note(name, env string) {
	b.bindings = append(b.bindings, envBinding{name, env})
}

// usage appends the variable name to a flag's help text.
func usage(text, env string) string { return text + " (env " + env + ")" }

// StoreFlags registers the settings every command that opens the database needs.
func (b *Binder) StoreFlags(c *Config) {
	b.fs.StringVar(&c.DataDir, "data-dir", c.DataDir, usage("directory for the database file, keys and uploads; created if missing", "CHARTER_DATA_DIR"))
	b.note("data-dir", "CHARTER_DATA_DIR")
	b.fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, usage("database: sqlite://PATH, or a postgres:// URL for PostgreSQL (default sqlite://<data-dir>/charter.db)", "CHARTER_DATABASE_URL"))
	b.note("database-url", "CHARTER_DATABASE_URL")
	b.fs.StringVar(&c.SigningKeyFile, "signing-key-file", c.SigningKeyFile, usage("file of the Ed25519 key (32-byte seed, mode 0600) that signs packets, evidence bundles and audit checkpoints; give every instance sharing a database the same file (default <data-dir>/packet-signing.key, made on first start)", "CHARTER_SIGNING_KEY_FILE"))
	b.note("signing-key-file", "CHARTER_SIGNING_KEY_FILE")
	b.fs.StringVar(&c.MFAKeyFile, "mfa-key-file", c.MFAKeyFile, usage("file of the 32-byte key (mode 0600) that encrypts TOTP secrets; give every instance sharing a database the same file (default <data-dir>/mfa.key, made on first start)", "CHARTER_MFA_KEY_FILE"))
	b.note("mfa-key-file", "CHARTER_MFA_KEY_FILE")
	b.fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, usage("log level: debug, info, warn or error", "CHARTER_LOG_LEVEL"))
	b.note("log-level", "CHARTER_LOG_LEVEL")
	b.fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, usage("log format: json or text", "CHARTER_LOG_FORMAT"))
	b.note("log-format", "CHARTER_LOG_FORMAT")
	b.fs.BoolVar(&c.Demo, "demo", c.Demo, usage("load the fictional demo team, demo privacy registers and sample trust documents into empty registers; for trying Charter out, never for real use", "CHARTER_DEMO"))
	b.note("demo", "CHARTER_DEMO")
	b.fs.StringVar(&c.AdminEmail, "admin-email", c.AdminEmail, usage("email of the first admin, created with a one-time password on an empty database", "CHARTER_ADMIN_EMAIL"))
	b.note("admin-email", "CHARTER_ADMIN_EMAIL")
}

// ServeFlags registers the settings of the HTTP server.
func (b *Binder) ServeFlags(c *Config) {
	b.fs.StringVar(&c.Addr, "addr", c.Addr, usage("address to listen on", "CHARTER_ADDR"))
	b.note("addr", "CHARTER_ADDR")
	b.fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, usage("public base URL, used in emailed links; https enables Secure __Host- cookies and HSTS", "CHARTER_BASE_URL"))
	b.note("base-url", "CHARTER_BASE_URL")
	b.fs.StringSliceVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, usage("comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For is trusted; empty trusts none", "CHARTER_TRUSTED_PROXIES"))
	b.note("trusted-proxies", "CHARTER_TRUSTED_PROXIES")
	b.fs.DurationVar(&c.SessionIdleTimeout, "session-idle-timeout", c.SessionIdleTimeout, usage("sign out a dashboard session after this long without a request", "CHARTER_SESSION_IDLE_TIMEOUT"))
	b.note("session-idle-timeout", "CHARTER_SESSION_IDLE_TIMEOUT")
	b.fs.DurationVar(&c.SessionLifetime, "session-lifetime", c.SessionLifetime, usage("sign out a dashboard session this long after sign-in, whatever its activity", "CHARTER_SESSION_LIFETIME"))
	b.note("session-lifetime", "CHARTER_SESSION_LIFETIME")
	b.fs.BoolVar(&c.Reminders, "reminders", c.Reminders, usage("run the daily job that emails each employee what is overdue or due within 7 days", "CHARTER_REMINDERS"))
	b.note("reminders", "CHARTER_REMINDERS")
	b.fs.BoolVar(&c.PublicCheckpoint, "public-checkpoint", c.PublicCheckpoint, usage("serve the audit log's newest signed checkpoint (event count and root hash only) to anyone at /trust/audit/checkpoint", "CHARTER_PUBLIC_CHECKPOINT"))
	b.note("public-checkpoint", "CHARTER_PUBLIC_CHECKPOINT")
	b.fs.StringSliceVar(&c.FreeMailDomains, "free-mail-domains", c.FreeMailDomains, usage("comma-separated email domains that public forms refuse as not a work address (default: a built-in list of free-mail providers)", "CHARTER_FREE_MAIL_DOMAINS"))
	b.note("free-mail-domains", "CHARTER_FREE_MAIL_DOMAINS")
	for _, f := range []struct {
		dst       *int
		name, env string
		help      string
	}{
		{&c.PublicFormsPerHour, "public-forms-per-hour", "CHARTER_PUBLIC_FORMS_PER_HOUR",
			"submissions of all public forms (requests, subscriptions, reports, confirmations, objections) allowed per client network per hour: per IPv4 address, per IPv6 /64; more get 429"},
		{&c.PublicFormsPerAddressPerHour, "public-forms-per-address-per-hour", "CHARTER_PUBLIC_FORMS_PER_ADDRESS_PER_HOUR",
			"public-form submissions naming one email address allowed per hour, whatever the source: bounds the confirmation emails a stranger can send to anyone"},
		{&c.PublicFormsPerAddressPerDay, "public-forms-per-address-per-day", "CHARTER_PUBLIC_FORMS_PER_ADDRESS_PER_DAY",
			"public-form submissions naming one email address allowed per 24 hours, whatever the source"},
		{&c.PublicFormsPerFormPerHour, "public-forms-per-form-per-hour", "CHARTER_PUBLIC_FORMS_PER_FORM_PER_HOUR",
			"submissions of one public form allowed per hour from everyone together; refusals are counted in charter_public_form_refusals_total and logged"},
	} {
		b.fs.IntVar(f.dst, f.name, *f.dst, usage(f.help, f.env))
		b.note(f.name, f.env)
	}
	b.fs.DurationVar(&c.UnconfirmedRetention, "unconfirmed-retention", c.UnconfirmedRetention, usage("how long a public-form submission whose email address was never confirmed (policy request, privacy request, subscription) is kept before a daily job deletes it; at least 168h, the life of a confirmation link", "CHARTER_UNCONFIRMED_RETENTION"))
	b.note("unconfirmed-retention", "CHARTER_UNCONFIRMED_RETENTION")
	for _, f := range []struct {
		dst       *string
		name, env string
		help      string
	}{
		{&c.OIDCIssuer, "oidc-issuer", "CHARTER_OIDC_ISSUER", "OpenID Connect issuer URL for single sign-on (empty: SSO off)"},
		{&c.OIDCClientID, "oidc-client-id", "CHARTER_OIDC_CLIENT_ID", "OpenID Connect client ID"},
		{&c.OIDCClientSecret, "oidc-client-secret", "CHARTER_OIDC_CLIENT_SECRET", "OpenID Connect client secret"},
		{&c.OIDCDefaultRole, "oidc-default-role", "CHARTER_OIDC_DEFAULT_ROLE", "role of users created on their first SSO sign-in"},
	} {
		b.fs.StringVar(f.dst, f.name, *f.dst, usage(f.help, f.env))
		b.note(f.name, f.env)
	}
	b.fs.StringSliceVar(&c.OIDCAllowedDomains, "oidc-allowed-domains", c.OIDCAllowedDomains, usage("comma-separated email domains allowed to sign in with SSO (empty: any the provider verifies)", "CHARTER_OIDC_ALLOWED_DOMAINS"))
	b.note("oidc-allowed-domains", "CHARTER_OIDC_ALLOWED_DOMAINS")
	b.fs.BoolVar(&c.OIDCCreateUsers, "oidc-create-users", c.OIDCCreateUsers, usage("create an unknown user of an allowed domain on their first SSO sign-in, with --oidc-default-role", "CHARTER_OIDC_CREATE_USERS"))
	b.note("oidc-create-users", "CHARTER_OIDC_CREATE_USERS")
	b.fs.DurationVar(&c.BackupInterval, "backup-interval", c.BackupInterval, usage("make a SQLite backup this often (e.g. 24h; 0: no scheduled backups)", "CHARTER_BACKUP_INTERVAL"))
	b.note("backup-interval", "CHARTER_BACKUP_INTERVAL")
	b.fs.StringVar(&c.BackupDir, "backup-dir", c.BackupDir, usage("directory of the scheduled backups (default <data-dir>/backups)", "CHARTER_BACKUP_DIR"))
	b.note("backup-dir", "CHARTER_BACKUP_DIR")
	b.fs.IntVar(&c.BackupKeep, "backup-keep", c.BackupKeep, usage("how many scheduled backups to keep", "CHARTER_BACKUP_KEEP"))
	b.note("backup-keep", "CHARTER_BACKUP_KEEP")
	b.fs.DurationVar(&c.PrivacyRequestRetention, "privacy-request-retention", c.PrivacyRequestRetention, usage("how long after a privacy request is closed its requester's name, email and details are kept before redaction (dates and outcome stay)", "CHARTER_PRIVACY_REQUEST_RETENTION"))
	b.note("privacy-request-retention", "CHARTER_PRIVACY_REQUEST_RETENTION")
	b.fs.BoolVar(&c.PasswordSignIn, "password-signin", c.PasswordSignIn, usage("allow signing in with a password (false: SSO only)", "CHARTER_PASSWORD_SIGNIN"))
	b.note("password-signin", "CHARTER_PASSWORD_SIGNIN")
	b.fs.DurationVar(&c.PasswordResetTTL, "password-reset-ttl", c.PasswordResetTTL, usage("how long the link of a forgotten-password email works (1m to 24h)", "CHARTER_PASSWORD_RESET_TTL"))
	b.note("password-reset-ttl", "CHARTER_PASSWORD_RESET_TTL")
	b.fs.StringSliceVar(&c.MFARequiredRoles, "mfa-required-roles", c.MFARequiredRoles, usage("roles that must set up two-factor sign-in before using the dashboard: a comma-separated list of admin, editor, auditor, viewer, or all, or none", "CHARTER_MFA_REQUIRED_ROLES"))
	b.note("mfa-required-roles", "CHARTER_MFA_REQUIRED_ROLES")
	b.fs.BoolVar(&c.PacketAutoApproveDPA, "packet-auto-approve-dpa", c.PacketAutoApproveDPA, usage("approve a confirmed policy request at once when the email's domain is that of a customer with a signed DPA", "CHARTER_PACKET_AUTO_APPROVE_DPA"))
	b.fs.BoolVar(&c.WebhooksAllowLoopback, "webhooks-allow-loopback", c.WebhooksAllowLoopback, usage("let webhook endpoints be on this machine (127.0.0.1, ::1, localhost), over plain http too; other private addresses are always refused", "CHARTER_WEBHOOKS_ALLOW_LOOPBACK"))
	b.note("packet-auto-approve-dpa", "CHARTER_PACKET_AUTO_APPROVE_DPA")
	b.fs.StringSliceVar(&c.PacketAutoApproveDomains, "packet-auto-approve-domains", c.PacketAutoApproveDomains, usage("comma-separated email domains whose confirmed policy requests are approved at once", "CHARTER_PACKET_AUTO_APPROVE_DOMAINS"))
	b.note("packet-auto-approve-domains", "CHARTER_PACKET_AUTO_APPROVE_DOMAINS")
	b.fs.StringVar(&c.MetricsToken, "metrics-token", c.MetricsToken, usage("bearer token that GET /metrics requires (Authorization: Bearer <token>); empty: /metrics is open", "CHARTER_METRICS_TOKEN"))
	b.note("metrics-token", "CHARTER_METRICS_TOKEN")
	b.fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, usage("serve /metrics on this separate address (e.g. 127.0.0.1:9090) and not on --addr; empty: on --addr", "CHARTER_METRICS_ADDR"))
	b.note("metrics-addr", "CHARTER_METRICS_ADDR")
	b.fs.DurationVar(&c.Lease, "lease", c.Lease, usage("how long a claim on an email being sent or a scheduled job being run holds without renewal; after it, another instance sharing the database takes the work over (5s to 5m)", "CHARTER_LEASE"))
	b.note("lease", "CHARTER_LEASE")
	b.fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, usage("on SIGTERM, how long to let in-flight requests finish", "CHARTER_SHUTDOWN_TIMEOUT"))
	b.note("shutdown-timeout", "CHARTER_SHUTDOWN_TIMEOUT")
}

// PeopleFlags registers the settings of acknowledgements and their links
// (the base URL included, as links are made from it).
func (b *Binder) PeopleFlags(c *Config) {
	b.fs.IntVar(&c.AckDueNewHireDays, "ack-due-new-hire-days", c.AckDueNewHireDays, usage("days after their start date by which a new hire must acknowledge the policies", "CHARTER_ACK_DUE_NEW_HIRE_DAYS"))
	b.note("ack-due-new-hire-days", "CHARTER_ACK_DUE_NEW_HIRE_DAYS")
	b.fs.IntVar(&c.AckDueNewVersionDays, "ack-due-new-version-days", c.AckDueNewVersionDays, usage("days after a major policy version is published by which everyone must acknowledge it", "CHARTER_ACK_DUE_NEW_VERSION_DAYS"))
	b.note("ack-due-new-version-days", "CHARTER_ACK_DUE_NEW_VERSION_DAYS")
	b.fs.IntVar(&c.ApprovalReminderDays, "approval-reminder-days", c.ApprovalReminderDays, usage("days a policy draft waits for approval before its approvers are reminded, daily", "CHARTER_APPROVAL_REMINDER_DAYS"))
	b.note("approval-reminder-days", "CHARTER_APPROVAL_REMINDER_DAYS")
	b.fs.IntVar(&c.BackgroundCheckDays, "background-check-due-days", c.BackgroundCheckDays, usage("days after the start date by which a background check must be complete; 0 means by the start date", "CHARTER_BACKGROUND_CHECK_DUE_DAYS"))
	b.note("background-check-due-days", "CHARTER_BACKGROUND_CHECK_DUE_DAYS")
	b.fs.DurationVar(&c.AckLinkTTL, "ack-link-ttl", c.AckLinkTTL, usage("how long an employee's acknowledgement link works (at most 2160h, 90 days)", "CHARTER_ACK_LINK_TTL"))
	b.note("ack-link-ttl", "CHARTER_ACK_LINK_TTL")
}

// ExceptionFlags registers the settings of policy exceptions.
func (b *Binder) ExceptionFlags(c *Config) {
	b.fs.IntVar(&c.ExceptionReminderDays, "exception-reminder-days", c.ExceptionReminderDays, usage("days before a policy exception expires that its requester and approver are reminded", "CHARTER_EXCEPTION_REMINDER_DAYS"))
	b.note("exception-reminder-days", "CHARTER_EXCEPTION_REMINDER_DAYS")
	b.fs.IntVar(&c.ExceptionMaxDays, "exception-max-days", c.ExceptionMaxDays, usage("longest term of a policy exception, in days from its request", "CHARTER_EXCEPTION_MAX_DAYS"))
	b.note("exception-max-days", "CHARTER_EXCEPTION_MAX_DAYS")
}

// LinkFlags registers the base URL for commands that make links but do not serve.
func (b *Binder) LinkFlags(c *Config) {
	b.fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, usage("public base URL, used in emailed links", "CHARTER_BASE_URL"))
	b.note("base-url", "CHARTER_BASE_URL")
}

// MailFlags registers the SMTP settings.
func (b *Binder) MailFlags(c *Config) {
	for _, f := range []struct {
		dst       *string
		name, env string
		help      string
	}{
		{&c.SMTPHost, "smtp-host", "CHARTER_SMTP_HOST", "SMTP server; empty keeps every email in the outbox (/app/outbox) to send by hand"},
		{&c.SMTPUsername, "smtp-username", "CHARTER_SMTP_USERNAME", "SMTP user name (PLAIN authentication); empty for none"},
		{&c.SMTPPassword, "smtp-password", "CHARTER_SMTP_PASSWORD", "SMTP password; prefer the variable to the flag"},
		{&c.SMTPFrom, "smtp-from", "CHARTER_SMTP_FROM", "sender address of Charter's emails, e.g. compliance@example.com"},
		{&c.SMTPTLS, "smtp-tls", "CHARTER_SMTP_TLS", "starttls (required), tls (implicit, port 465) or none (trusted relay only)"},
	} {
		b.fs.StringVar(f.dst, f.name, *f.dst, usage(f.help, f.env))
		b.note(f.name, f.env)
	}
	b.fs.IntVar(&c.SMTPPort, "smtp-port", c.SMTPPort, usage("SMTP port", "CHARTER_SMTP_PORT"))
	b.note("smtp-port", "CHARTER_SMTP_PORT")
}

// ApplyEnv sets every flag not given on the command line from its variable.
func (b *Binder) ApplyEnv(lookup func(string) (string, bool)) error {
	for _, bd := range b.bindings {
		f := b.fs.Lookup(bd.flag)
		if f == nil || f.Changed {
			continue
		}
		v, ok := lookup(bd.env)
		if !ok {
			continue
		}
		if f.Value.Type() == "stringSlice" {
			// An empty variable means "none"; pflag's Set would add "".
			if err := f.Value.(pflag.SliceValue).Replace(splitList(v)); err != nil {
				return fmt.Errorf("%s: %w", bd.env, err)
			}
			continue
		}
		if err := f.Value.Set(v); err != nil {
			return fmt.Errorf("%s=%q: %w", bd.env, v, err)
		}
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Finish fills derived values and checks the settings, naming the bad one.
func (c *Config) Finish() error {
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "charter.db")
	}
	if c.BackupDir == "" {
		c.BackupDir = filepath.Join(c.DataDir, "backups")
	}
	if c.BackupInterval != 0 && c.BackupInterval < time.Hour {
		return fmt.Errorf("backup-interval: %s is shorter than an hour", c.BackupInterval)
	}
	if c.Lease < minLease || c.Lease > maxLease {
		return fmt.Errorf("lease: %s is not between %s and %s", c.Lease, minLease, maxLease)
	}
	if c.BackupKeep < 1 {
		return fmt.Errorf("backup-keep: keep at least one backup")
	}
	for _, l := range []struct {
		name  string
		value int
	}{
		{"public-forms-per-hour", c.PublicFormsPerHour},
		{"public-forms-per-address-per-hour", c.PublicFormsPerAddressPerHour},
		{"public-forms-per-address-per-day", c.PublicFormsPerAddressPerDay},
		{"public-forms-per-form-per-hour", c.PublicFormsPerFormPerHour},
	} {
		if l.value < 1 || l.value > 10000 {
			return fmt.Errorf("%s: %d is not between 1 and 10000", l.name, l.value)
		}
	}
	if c.PublicFormsPerAddressPerDay < c.PublicFormsPerAddressPerHour {
		return fmt.Errorf("public-forms-per-address-per-day (%d) must not be below public-forms-per-address-per-hour (%d)", c.PublicFormsPerAddressPerDay, c.PublicFormsPerAddressPerHour)
	}
	if c.UnconfirmedRetention < minUnconfirmedRetention {
		return fmt.Errorf("unconfirmed-retention: %s is shorter than 168h, the life of a confirmation link", c.UnconfirmedRetention)
	}
	switch c.OIDCDefaultRole {
	case "admin", "editor", "auditor", "viewer":
	default:
		return fmt.Errorf("oidc-default-role: %q is not admin, editor, auditor or viewer", c.OIDCDefaultRole)
	}
	if c.OIDCIssuer != "" && (c.OIDCClientID == "" || c.OIDCClientSecret == "") {
		return fmt.Errorf("oidc-client-id and oidc-client-secret are required with oidc-issuer")
	}
	if !c.PasswordSignIn && c.OIDCIssuer == "" {
		return fmt.Errorf("password-signin: cannot be off without oidc-issuer: nobody could sign in")
	}
	for _, r := range c.MFARequiredRoles {
		switch r {
		case "admin", "editor", "auditor", "viewer", "all", "none":
		default:
			return fmt.Errorf("mfa-required-roles: %q is not admin, editor, auditor, viewer, all or none", r)
		}
	}
	for i, d := range c.PacketAutoApproveDomains {
		c.PacketAutoApproveDomains[i] = strings.ToLower(strings.TrimSpace(d))
		if !strings.Contains(d, ".") || strings.ContainsAny(d, "@ /") {
			return fmt.Errorf("packet-auto-approve-domains: %q is not a domain such as example.com", d)
		}
	}
	for _, d := range c.FreeMailDomains {
		if !strings.Contains(d, ".") || strings.ContainsAny(d, "@ /") {
			return fmt.Errorf("free-mail-domains: %q is not a domain such as gmail.com", d)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log-level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return fmt.Errorf("log-format: %q is not json or text", c.LogFormat)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base-url: %q is not an absolute http(s) URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil {
			return fmt.Errorf("trusted-proxies: %q is not a CIDR range such as 10.0.0.0/8", p)
		}
	}
	if c.SessionIdleTimeout <= 0 || c.SessionLifetime <= 0 {
		return fmt.Errorf("session-idle-timeout and session-lifetime must be positive")
	}
	if c.AckDueNewHireDays < 0 || c.AckDueNewHireDays > 365 {
		return fmt.Errorf("ack-due-new-hire-days: %d is not between 0 and 365", c.AckDueNewHireDays)
	}
	if c.AckDueNewVersionDays < 0 || c.AckDueNewVersionDays > 365 {
		return fmt.Errorf("ack-due-new-version-days: %d is not between 0 and 365", c.AckDueNewVersionDays)
	}
	if c.ApprovalReminderDays < 1 || c.ApprovalReminderDays > 90 {
		return fmt.Errorf("approval-reminder-days: %d is not between 1 and 90", c.ApprovalReminderDays)
	}
	if c.ExceptionReminderDays < 1 || c.ExceptionReminderDays > 90 {
		return fmt.Errorf("exception-reminder-days: %d is not between 1 and 90", c.ExceptionReminderDays)
	}
	if c.ExceptionMaxDays < 1 || c.ExceptionMaxDays > 1095 {
		return fmt.Errorf("exception-max-days: %d is not between 1 and 1095 (three years)", c.ExceptionMaxDays)
	}
	if c.BackgroundCheckDays < 0 || c.BackgroundCheckDays > 365 {
		return fmt.Errorf("background-check-due-days: %d is not between 0 and 365", c.BackgroundCheckDays)
	}
	if c.AckLinkTTL <= 0 || c.AckLinkTTL > 90*24*time.Hour {
		return fmt.Errorf("ack-link-ttl: %s is not between 1s and 2160h (90 days)", c.AckLinkTTL)
	}
	if c.PasswordResetTTL < time.Minute || c.PasswordResetTTL > 24*time.Hour {
		return fmt.Errorf("password-reset-ttl: %s is not between 1m and 24h", c.PasswordResetTTL)
	}
	if c.SMTPHost != "" {
		switch {
		case c.SMTPFrom == "" || !strings.Contains(c.SMTPFrom, "@"):
			return fmt.Errorf("smtp-from: an email address is required when smtp-host is set")
		case c.SMTPPort < 1 || c.SMTPPort > 65535:
			return fmt.Errorf("smtp-port: %d is not a port number", c.SMTPPort)
		case c.SMTPTLS != "starttls" && c.SMTPTLS != "tls" && c.SMTPTLS != "none":
			return fmt.Errorf("smtp-tls: %q is not starttls, tls or none", c.SMTPTLS)
		}
	}
	if c.MetricsToken != "" {
		if len(c.MetricsToken) < MinMetricsTokenLength {
			return fmt.Errorf("metrics-token: use at least %d characters (e.g. openssl rand -hex 32)", MinMetricsTokenLength)
		}
		if strings.IndexFunc(c.MetricsToken, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return fmt.Errorf("metrics-token: must not contain spaces or control characters")
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("metrics-addr: %q is not a listen address such as 127.0.0.1:9090", c.MetricsAddr)
		}
		if c.MetricsAddr == c.Addr {
			return fmt.Errorf("metrics-addr: %q is also addr; give /metrics another address, or leave metrics-addr empty", c.MetricsAddr)
		}
	}
	if c.SessionIdleTimeout > c.SessionLifetime {
		return fmt.Errorf("session-idle-timeout (%s) must not exceed session-lifetime (%s)", c.SessionIdleTimeout, c.SessionLifetime)
	}
	return nil
}

// minLease and maxLease bound the lease: shorter, a live instance's
// renewals (every third of it) could miss it on a slow database; longer,
// a dead instance's work waits too long.
const (
	minLease = 5 * time.Second
	maxLease = 5 * time.Minute
)

// minUnconfirmedRetention is the life of the confirmation links: an
// unconfirmed submission deleted sooner would leave a live link to nothing.
const minUnconfirmedRetention = 7 * 24 * time.Hour

// Secure reports whether Charter is served over HTTPS.
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Logger builds the process logger from the settings.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// MFARequired reports whether role must use a second factor.
func (c Config) MFARequired(role string) bool {
	for _, r := range c.MFARequiredRoles {
		if r == "all" || r == role {
			return true
		}
	}
	return false
}
