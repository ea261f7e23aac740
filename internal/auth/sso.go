package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"gorm.io/gorm"
)

// SSOConfig configures sign-in with an OpenID Connect provider.
type SSOConfig struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is this server's callback, <base URL>/login/sso/callback.
	RedirectURL string
	// AllowedDomains are the email domains that may sign in; empty: any
	// domain the provider vouches for.
	AllowedDomains []string
	// CreateUsers adds an unknown (but allowed) email as a user with
	// DefaultRole on their first sign-in.
	CreateUsers bool
	DefaultRole Role
}

// SSO signs users in through an OpenID Connect provider, with PKCE, state
// and nonce; users are matched by verified email.
type SSO struct {
	cfg      SSOConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewSSO discovers the provider's endpoints and keys.
func NewSSO(ctx context.Context, cfg SSOConfig) (*SSO, error) {
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc issuer %s: %w", cfg.Issuer, err)
	}
	for i, d := range cfg.AllowedDomains {
		cfg.AllowedDomains[i] = strings.ToLower(strings.TrimSpace(d))
	}
	return &SSO{cfg: cfg,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}},
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
	}, nil
}

// SSOStart is what the browser carries between the redirect and the
// callback (in its session): never sent to the provider except the
// state, the nonce and the verifier's challenge.
type SSOStart struct {
	URL      string
	State    string
	Nonce    string
	Verifier string
}

func randomString() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Start makes the provider URL for a new sign-in.
func (s *SSO) Start() (*SSOStart, error) {
	state, err := randomString()
	if err != nil {
		return nil, err
	}
	nonce, err := randomString()
	if err != nil {
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	return &SSOStart{State: state, Nonce: nonce, Verifier: verifier,
		URL: s.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))}, nil
}

// ErrSSORefused is a sign-in the provider or the rules refused.
var ErrSSORefused = apperr.New(apperr.Unauthorized, "single sign-on failed; ask an admin if you should have access")

// SSOIdentity is who the provider says signed in.
type SSOIdentity struct {
	Email string
	Name  string
}

// Finish exchanges the code (with the PKCE verifier), verifies the ID
// token and its nonce, and returns the verified email if its domain is
// allowed.
func (s *SSO) Finish(ctx context.Context, code string, start SSOStart) (*SSOIdentity, string, error) {
	tok, err := s.oauth.Exchange(ctx, code, oauth2.VerifierOption(start.Verifier))
	if err != nil {
		return nil, "code exchange failed", ErrSSORefused
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, "no id_token", ErrSSORefused
	}
	idt, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, "id_token invalid", ErrSSORefused
	}
	if idt.Nonce != start.Nonce {
		return nil, "nonce mismatch", ErrSSORefused
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, "claims unreadable", ErrSSORefused
	}
	email := notify.NormalizeAddress(claims.Email)
	if email == "" || !claims.EmailVerified {
		return nil, "email missing or not verified", ErrSSORefused
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	if len(s.cfg.AllowedDomains) > 0 && !slices.Contains(s.cfg.AllowedDomains, domain) {
		return &SSOIdentity{Email: email}, "domain " + domain + " not allowed", ErrSSORefused
	}
	return &SSOIdentity{Email: email, Name: claims.Name}, "", nil
}

// SignInSSO signs in the user with a verified email, creating them when
// the configuration says so; every outcome is audited.
func (s *Service) SignInSSO(ctx context.Context, from audit.Actor, cfg SSOConfig, id *SSOIdentity, refusal string) (*User, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	var u User
	created := false
	if refusal == "" {
		err := s.db.WithContext(ctx).Where("email = ?", id.Email).Take(&u).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound) && cfg.CreateUsers:
			pw, perr := randomString()
			if perr != nil {
				return nil, perr
			}
			nu, cerr := s.Create(ctx, audit.Actor{Label: "sso", IP: from.IP, UserAgent: from.UserAgent, RequestID: from.RequestID},
				NewUser{Email: id.Email, Name: id.Name, Role: cfg.DefaultRole, Password: pw + "-" + pw})
			if cerr != nil {
				return nil, cerr
			}
			u, created = *nu, true
		case errors.Is(err, gorm.ErrRecordNotFound):
			refusal = "no such user"
		case err != nil:
			return nil, err
		}
	}
	if refusal == "" {
		switch {
		case !u.Active():
			refusal = "user disabled"
		case u.Expired(now):
			refusal = "access ended " + u.AccessUntil.Format(time.DateOnly)
		}
	}
	label := ""
	if id != nil {
		label = id.Email
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		by := from
		by.Label = label
		entry := audit.Entry{At: now, ObjectType: "user", ObjectID: label, Action: "auth.login.succeeded", After: map[string]any{"factor": "sso", "created": created}}
		if u.ID != 0 {
			by.UserID, entry.ObjectID = u.ID, strconv.FormatInt(u.ID, 10)
		}
		if refusal != "" {
			entry.Action, entry.After = "auth.login.failed", map[string]any{"factor": "sso", "reason": refusal}
			return audit.Append(tx, by, entry)
		}
		if err := tx.Model(&u).Update("last_login_at", now).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, entry)
	})
	if err != nil {
		return nil, err
	}
	if refusal != "" {
		return nil, ErrSSORefused
	}
	return &u, nil
}

// SetSSOOnly turns password sign-in off (or on) for one user.
func (s *Service) SetSSOOnly(ctx context.Context, by audit.Actor, id int64, ssoOnly bool) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{"sso_only": ssoOnly, "updated_at": s.now().UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrUserNotFound
		}
		return audit.Append(tx, by, audit.Entry{At: s.now(), Action: "user.sso_only_set", ObjectType: "user", ObjectID: strconv.FormatInt(id, 10),
			After: map[string]bool{"sso_only": ssoOnly}})
	})
}
