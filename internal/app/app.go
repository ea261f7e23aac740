// Package app is Charter's composition root: the one place where every
// service is built, for `charter serve`, every CLI command and every test,
// so that all of them run the same graph with the same settings.
package app

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/auditlog"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/exception"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/keys"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/publicform"
	"github.com/charter-registry/charter/internal/questionnaire"
	"github.com/charter-registry/charter/internal/search"
	"github.com/charter-registry/charter/internal/snapshot"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/webhook"
	"github.com/charter-registry/charter/internal/worklist"
	"gorm.io/gorm"
)

// Deps are what the caller brings besides the settings and the store.
type Deps struct {
	// Now is the clock of every service (time.Now when nil); tests fix it.
	Now func() time.Time
	// Logger is where background work reports (discarded when nil).
	Logger *slog.Logger
}

// App holds every service, built once.
type App struct {
	Config config.Config
	Store  *store.Store
	Now    func() time.Time
	Logger *slog.Logger

	Users    *auth.Service
	Sessions *auth.SessionStore
	// SSO signs users in through OpenID Connect; nil until SignOn has
	// reached the provider (and always when no issuer is configured).
	SSO       *auth.SSO
	SSOConfig auth.SSOConfig

	Policies *policy.Service
	Org      *org.Service
	People   *people.Service
	Privacy  *privacy.Service
	Packets  *packet.Service
	Evidence *evidence.Service
	// AuditLog is the transparency log over the audit trail: its tree,
	// signed checkpoints and proofs.
	AuditLog   *auditlog.Log
	Advisories *advisory.Service
	DSAR       *dsar.Service
	Documents  *document.Service
	// Exceptions is the register of approved departures from the policies.
	Exceptions *exception.Service
	// Answers is the questionnaire answer library.
	Answers *questionnaire.Service
	Files   *files.Store
	// Worklist gathers what waits for each person across the registers.
	Worklist *worklist.Service
	// Outbox lists and counts the queued emails (the services write them).
	Outbox *notify.Outbox
	// Search finds records of every register for the dashboard's search box.
	Search *search.Service
	// Webhooks keeps the webhook endpoints and their delivery logs (the
	// services publish events with webhook.Publish).
	Webhooks *webhook.Service
	// Snapshots keeps the dated, signed snapshots of the public promises.
	Snapshots *snapshot.Service

	// Keys compares the signing and MFA keys this instance holds with the
	// fingerprints recorded in the database.
	Keys *keys.Registry

	// FormLimits bounds the public forms per client network, recipient
	// and form.
	FormLimits *publicform.Limiter
}

// New builds every service on st with the settings of cfg. The keys (MFA
// encryption, packet, bundle and checkpoint signing) are read from the
// files the settings name, or else from cfg.DataDir, made there on first
// use. New does not compare them with the recorded fingerprints:
// Keys.Establish does, when serving.
func New(cfg config.Config, st *store.Store, deps Deps) (*App, error) {
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &App{Config: cfg, Store: st, Now: now, Logger: logger}

	// The email texts, parsed once and shared by every service that mails.
	mail, err := notify.NewTemplates()
	if err != nil {
		return nil, err
	}
	a.Users = auth.NewService(st.DB, now)
	a.Users.SetMail(mail)
	mfaPath, mfaKey, err := LoadMFAKey(cfg)
	if err != nil {
		return nil, err
	}
	a.Users.SetMFAKey(mfaKey)
	a.Users.SetBaseURL(cfg.BaseURL)
	a.Users.SetRecovery(auth.RecoverySettings{LinkTTL: cfg.PasswordResetTTL})
	a.Users.NoPasswords = !cfg.PasswordSignIn
	// scs computes the expiries it stores on the wall clock, so its store
	// compares on it too, whatever clock the services run on.
	a.Sessions = auth.NewSessionStore(st.DB, time.Now, scs.GobCodec{})
	a.SSOConfig = auth.SSOConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
		RedirectURL: strings.TrimRight(cfg.BaseURL, "/") + "/login/sso/callback", AllowedDomains: cfg.OIDCAllowedDomains,
		CreateUsers: cfg.OIDCCreateUsers, DefaultRole: auth.Role(cfg.OIDCDefaultRole)}

	a.Files = files.InDatabase(st.DB)
	signingPath, signing, err := LoadSigningKey(cfg)
	if err != nil {
		return nil, err
	}
	a.Keys = keys.NewRegistry(st.DB, now,
		keys.Held{Name: keys.Signing, Path: signingPath, Fingerprint: keys.SigningFingerprint(signing.Public().(ed25519.PublicKey))},
		keys.Held{Name: keys.MFA, Path: mfaPath, Fingerprint: keys.MFAFingerprint(mfaKey)})
	// Every change to a public promise records a signed snapshot in its
	// own transaction, watched from the audit trail it appends to.
	a.Snapshots = snapshot.NewService(st.DB, now, signing)
	a.Snapshots.Watch(st.DB)
	team := func(ctx context.Context) ([]string, error) { return a.Users.Emails(ctx, auth.Editor) }
	// The free-mail rule of the public forms, enforced by the services
	// that take a work address.
	workEmail := publicform.NewWorkEmail(cfg.FreeMailDomains)

	a.Policies = policy.NewService(st.DB, now)
	a.Policies.SetApprovals(policy.Approvals{Mail: mail, BaseURL: cfg.BaseURL,
		RemindAfter: time.Duration(cfg.ApprovalReminderDays) * 24 * time.Hour,
		Approvers: func(ctx context.Context) ([]policy.Approver, error) {
			users, err := a.Users.List(ctx)
			var out []policy.Approver
			for _, u := range users {
				if u.Active() && u.Role.Allows(auth.Editor) {
					out = append(out, policy.Approver{UserID: u.ID, Email: u.Email, Admin: u.Role == auth.Admin})
				}
			}
			return out, err
		}})
	a.Org = org.NewService(st.DB, now)
	a.People = people.NewService(st.DB, now, people.Settings{NewHireDays: cfg.AckDueNewHireDays, NewVersionDays: cfg.AckDueNewVersionDays,
		BackgroundCheckDays: cfg.BackgroundCheckDays, AckLinkTTL: cfg.AckLinkTTL, BaseURL: cfg.BaseURL, Mail: mail})
	// What each employee owes is kept: a new major version changes it in
	// the publishing transaction.
	a.Policies.OnNewMajor(a.People.RequirementsChanged)
	a.Privacy = privacy.NewService(st.DB, now, a.Files, a.Org, privacy.Settings{BaseURL: cfg.BaseURL, TeamAddresses: team, Mail: mail, WorkEmail: workEmail,
		SigningKey: signing, RecordPromises: func(tx *gorm.DB) (privacy.PromiseSnapshot, error) {
			snap, err := a.Snapshots.Record(tx)
			if err != nil {
				return privacy.PromiseSnapshot{}, err
			}
			base := strings.TrimRight(cfg.BaseURL, "/")
			return privacy.PromiseSnapshot{URL: base + snap.AsOfPath(), Exact: base + snap.Path(), SHA256: snap.SHA256}, nil
		}})
	a.Documents = document.NewService(st.DB, now, a.Files, document.Settings{BaseURL: cfg.BaseURL, Mail: mail})
	a.Exceptions = exception.NewService(st.DB, now, exception.Settings{BaseURL: cfg.BaseURL, Mail: mail,
		MaxDays: cfg.ExceptionMaxDays, ReminderDays: cfg.ExceptionReminderDays, Approvers: team})
	a.Packets = packet.NewService(st.DB, now, a.Org, a.Documents, a.Files, signing, packet.Settings{BaseURL: cfg.BaseURL,
		AutoApproveDPACustomers: cfg.PacketAutoApproveDPA, AutoApproveDomains: cfg.PacketAutoApproveDomains, TeamAddresses: team, Mail: mail, WorkEmail: workEmail})
	// The answer library: its answers citing a policy are flagged when the
	// policy gets a new major version; packets may carry its answers.
	a.Answers = questionnaire.NewService(st.DB, now, questionnaire.Settings{BaseURL: cfg.BaseURL})
	a.Policies.OnNewMajor(a.Answers.FlagForNewMajor)
	a.Packets.SetAnswers(a.Answers.ForPacket)
	// Packet holders hear of a new version of what their packet holds, in
	// the transaction that publishes it.
	a.Policies.OnNewMajor(a.Packets.PoliciesChanged)
	a.Documents.OnNewVersion(a.Packets.DocumentChanged)
	a.Evidence = evidence.NewService(st, now, evidence.Rules{NewHireDays: cfg.AckDueNewHireDays, NewVersionDays: cfg.AckDueNewVersionDays}, signing)
	a.AuditLog = auditlog.NewLog(st.DB, now, signing, auditlog.OriginFor(cfg.BaseURL))
	a.Evidence.SetAuditLog(a.AuditLog)
	a.Advisories = advisory.NewService(st.DB, now, a.Org, a.Privacy, advisory.Settings{BaseURL: cfg.BaseURL, Mail: mail})
	a.DSAR = dsar.NewService(st.DB, now, a.Files, dsar.Settings{BaseURL: cfg.BaseURL, Retention: cfg.PrivacyRequestRetention, Mail: mail})
	a.Outbox = notify.NewOutbox(st.DB)
	a.Webhooks = webhook.NewService(st.DB, now, mfaKey, webhook.Settings{AllowLoopback: cfg.WebhooksAllowLoopback, BaseURL: cfg.BaseURL})
	a.Search = search.NewService(st.DB)
	a.Worklist = worklist.NewService(worklist.Sources{Policies: a.Policies, People: a.People, Privacy: a.Privacy, Packets: a.Packets,
		DSAR: a.DSAR, Advisories: a.Advisories, Documents: a.Documents, Exceptions: a.Exceptions, Answers: a.Answers}, now)
	a.FormLimits = publicform.NewLimiter(st.DB, now, publicform.Limits{
		PerNetworkPerHour: cfg.PublicFormsPerHour, PerRecipientPerHour: cfg.PublicFormsPerAddressPerHour,
		PerRecipientPerDay: cfg.PublicFormsPerAddressPerDay, PerFormPerHour: cfg.PublicFormsPerFormPerHour})
	return a, nil
}

// SignOn reaches the OpenID Connect provider, when one is configured, and
// keeps the result in a.SSO. Only the server needs it: a CLI command works
// while the provider is down.
func (a *App) SignOn(ctx context.Context) error {
	if a.Config.OIDCIssuer == "" {
		return nil
	}
	sso, err := auth.NewSSO(ctx, a.SSOConfig)
	if err != nil {
		return err
	}
	a.SSO = sso
	return nil
}

// Sender delivers the outbox over SMTP; nil when no SMTP server is
// configured (emails then wait in the outbox).
func (a *App) Sender() *notify.Sender {
	c := a.Config
	if c.SMTPHost == "" {
		return nil
	}
	return notify.NewSender(a.Store.DB, a.Now, a.Logger, notify.SMTP{Host: c.SMTPHost, Port: c.SMTPPort,
		Username: c.SMTPUsername, Password: c.SMTPPassword, From: c.SMTPFrom, TLS: c.SMTPTLS}).
		AttachFrom(func(sum string) (io.ReadCloser, error) { return a.Files.Open(sum) }).
		WithLease(c.Lease)
}

// WebhookSender delivers the webhook deliveries; unlike email it needs no
// settings, so serve always runs it.
func (a *App) WebhookSender() *webhook.Sender {
	return a.Webhooks.Sender(a.Logger, a.Config.Lease)
}

// SigningKeyPath is the file of the signing key: the setting's, or the
// data directory's.
func SigningKeyPath(cfg config.Config) string {
	if cfg.SigningKeyFile != "" {
		return cfg.SigningKeyFile
	}
	return filepath.Join(cfg.DataDir, packet.KeyFile)
}

// MFAKeyPath is the file of the MFA key: the setting's, or the data
// directory's.
func MFAKeyPath(cfg config.Config) string {
	if cfg.MFAKeyFile != "" {
		return cfg.MFAKeyFile
	}
	return filepath.Join(cfg.DataDir, auth.MFAKeyFile)
}

// LoadSigningKey reads the signing key a setting names (which must
// exist), or the data directory's, made on first use.
func LoadSigningKey(cfg config.Config) (string, ed25519.PrivateKey, error) {
	path := SigningKeyPath(cfg)
	if cfg.SigningKeyFile != "" {
		k, err := packet.LoadKey(path)
		return path, k, err
	}
	k, err := packet.LoadOrCreateKey(path)
	return path, k, err
}

// LoadMFAKey reads the MFA key a setting names (which must exist), or the
// data directory's, made on first use.
func LoadMFAKey(cfg config.Config) (string, []byte, error) {
	path := MFAKeyPath(cfg)
	if cfg.MFAKeyFile != "" {
		k, err := auth.LoadMFAKey(path)
		return path, k, err
	}
	k, err := auth.LoadOrCreateMFAKey(path)
	return path, k, err
}
