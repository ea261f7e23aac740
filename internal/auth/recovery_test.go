package auth_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/pquerna/otp/totp"
)

const recoveryPassword = "a long unusual passphrase"

// recoveryFixture is a service on a real database with an admin and an
// editor, a movable clock and a session store to watch sessions end.
type recoveryFixture struct {
	t        *testing.T
	st       *store.Store
	svc      *auth.Service
	now      time.Time
	admin    *auth.User
	ed       *auth.User
	sessions *auth.SessionStore
}

func newRecoveryFixture(t *testing.T, st *store.Store) *recoveryFixture {
	f := &recoveryFixture{t: t, st: st, now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	f.svc = auth.NewService(st.DB, clock)
	key, err := auth.LoadOrCreateMFAKey(filepath.Join(t.TempDir(), auth.MFAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetMFAKey(key)
	f.svc.SetBaseURL("https://charter.example.com/")
	f.sessions = auth.NewSessionStore(st.DB, clock, scs.GobCodec{})
	by := audit.System("test")
	if f.admin, err = f.svc.Create(context.Background(), by, auth.NewUser{Email: "root@example.com", Role: auth.Admin, Password: recoveryPassword}); err != nil {
		t.Fatal(err)
	}
	if f.ed, err = f.svc.Create(context.Background(), by, auth.NewUser{Email: "ed@example.com", Role: auth.Editor, Password: recoveryPassword}); err != nil {
		t.Fatal(err)
	}
	return f
}

// byAdmin is the admin acting from the dashboard.
func (f *recoveryFixture) byAdmin() audit.Actor { return f.admin.Actor("192.0.2.1", "test", "req") }

func (f *recoveryFixture) signIn(u *auth.User, token string) {
	f.t.Helper()
	exp := f.now.Add(time.Hour)
	data, _ := scs.GobCodec{}.Encode(exp, map[string]any{auth.SessionUserKey: u.ID})
	if err := f.sessions.Commit(token, data, exp); err != nil {
		f.t.Fatal(err)
	}
}

func (f *recoveryFixture) alive(token string) bool {
	_, found, _ := f.sessions.Find(token)
	return found
}

// lastEvent is the newest audit event.
func (f *recoveryFixture) lastEvent() audit.Event {
	var ev audit.Event
	f.st.DB.Order("seq DESC").First(&ev)
	return ev
}

func (f *recoveryFixture) count(table string) int64 {
	var n int64
	f.st.DB.Table(table).Count(&n)
	return n
}

func (f *recoveryFixture) user(id int64) *auth.User {
	f.t.Helper()
	u, err := f.svc.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

func TestAdminResetsAPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newRecoveryFixture(t, st)
		f.signIn(f.ed, "ed-session")

		pw, u, err := f.svc.ResetPassword(ctx, f.byAdmin(), f.ed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) < 20 || !u.MustChangePassword || !f.user(f.ed.ID).MustChangePassword {
			t.Fatalf("reset: password %q, must change %v", pw, f.user(f.ed.ID).MustChangePassword)
		}
		if f.alive("ed-session") {
			t.Fatal("a session survived the reset")
		}
		if ev := f.lastEvent(); ev.Action != "user.password_reset" || ev.ObjectID != strconv.FormatInt(f.ed.ID, 10) || ev.Actor != "root@example.com" {
			t.Fatalf("audit: %+v", ev)
		}
		if _, err := f.svc.Authenticate(ctx, "ed@example.com", recoveryPassword, audit.Actor{}); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("old password: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "ed@example.com", pw, audit.Actor{}); err != nil {
			t.Fatalf("one-time password: %v", err)
		}
		// Choosing a new password (with the one-time one) clears the flag.
		if err := f.svc.ChangePassword(ctx, f.ed.Actor("", "", ""), f.ed.ID, pw, "my own new passphrase"); err != nil {
			t.Fatal(err)
		}
		if f.user(f.ed.ID).MustChangePassword {
			t.Fatal("must-change survived a password change")
		}

		sso, err := f.svc.Create(ctx, audit.System("test"), auth.NewUser{Email: "sso@example.com", Role: auth.Viewer, Password: recoveryPassword})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetSSOOnly(ctx, audit.System("test"), sso.ID, true); err != nil {
			t.Fatal(err)
		}
		gone, err := f.svc.Create(ctx, audit.System("test"), auth.NewUser{Email: "gone@example.com", Role: auth.Viewer, Password: recoveryPassword})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Disable(ctx, audit.System("test"), gone.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			id   int64
			want error
		}{
			{"own account", f.admin.ID, auth.ErrOwnAccount},
			{"SSO-only account", sso.ID, auth.ErrSSOAccount},
			{"disabled account", gone.ID, auth.ErrDisabledAccount},
			{"unknown user", 9999, auth.ErrUserNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				events := f.count("audit_events")
				if _, _, err := f.svc.ResetPassword(ctx, f.byAdmin(), c.id); err != c.want {
					t.Fatalf("got %v, want %v", err, c.want)
				}
				if f.count("audit_events") != events {
					t.Fatal("a refused reset was audited as done")
				}
			})
		}
		// From the command line there is no acting user: any account.
		if _, _, err := f.svc.ResetPassword(ctx, audit.System("cli:ops"), f.admin.ID); err != nil {
			t.Fatalf("CLI reset of the admin: %v", err)
		}
	})
}

func TestAdminResetsTwoFactor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newRecoveryFixture(t, st)
		if _, err := f.svc.ResetMFA(ctx, f.byAdmin(), f.ed.ID); err != auth.ErrNoMFA {
			t.Fatalf("reset without a second factor: %v", err)
		}
		en, err := f.svc.BeginEnrolment(f.ed, "Charter")
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(en.Secret, f.now)
		if _, err := f.svc.ConfirmEnrolment(ctx, audit.System("test"), f.ed.ID, recoveryPassword, en.Sealed, code); err != nil {
			t.Fatal(err)
		}
		f.signIn(f.ed, "ed-session")

		u, err := f.svc.ResetMFA(ctx, f.byAdmin(), f.ed.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored := f.user(f.ed.ID)
		if u.HasMFA() || stored.HasMFA() || stored.MFASecret != "" {
			t.Fatalf("second factor kept: %+v", stored)
		}
		if left, _ := f.svc.RecoveryCodesLeft(ctx, f.ed.ID); left != 0 {
			t.Fatalf("%d recovery codes kept", left)
		}
		if f.alive("ed-session") {
			t.Fatal("a session survived the reset")
		}
		if ev := f.lastEvent(); ev.Action != "mfa.reset" || ev.ObjectID != strconv.FormatInt(f.ed.ID, 10) {
			t.Fatalf("audit: %+v", ev)
		}
		// The old code no longer signs in: there is no second factor to check.
		if _, err := f.svc.VerifySecondFactor(ctx, audit.Actor{}, f.ed.ID, code); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("second factor after reset: %v", err)
		}
		// The user can enrol again.
		en, _ = f.svc.BeginEnrolment(stored, "Charter")
		f.now = f.now.Add(time.Minute)
		code, _ = totp.GenerateCode(en.Secret, f.now)
		if _, err := f.svc.ConfirmEnrolment(ctx, audit.System("test"), f.ed.ID, recoveryPassword, en.Sealed, code); err != nil {
			t.Fatalf("enrolling again: %v", err)
		}
		if _, err := f.svc.ResetMFA(ctx, f.byAdmin(), f.admin.ID); err != auth.ErrOwnAccount {
			t.Fatalf("own account: %v", err)
		}
	})
}

func TestAdminUnlocksAThrottledAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newRecoveryFixture(t, st)
		for i := range auth.MaxAccountNetworkFailures {
			from := audit.Actor{IP: "198.51.100.7"}
			if _, err := f.svc.Authenticate(ctx, "ed@example.com", "wrong guess "+strconv.Itoa(i), from); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if _, err := f.svc.Authenticate(ctx, "root@example.com", "wrong guess", audit.Actor{IP: "198.51.100.7"}); err == nil {
			t.Fatal("wrong admin password accepted")
		}
		// The owner's own network is blocked (a stranger's would only be
		// slowed), until an admin unlocks the account.
		if _, err := f.svc.Authenticate(ctx, "ed@example.com", recoveryPassword, audit.Actor{IP: "198.51.100.7"}); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("before unlock: %v, want TooMany", err)
		}

		n, err := f.svc.Unlock(ctx, f.byAdmin(), f.ed.ID)
		if err != nil || n != auth.MaxAccountNetworkFailures {
			t.Fatalf("unlock: %d %v", n, err)
		}
		if ev := f.lastEvent(); ev.Action != "user.sign_in_unlocked" || ev.ObjectID != strconv.FormatInt(f.ed.ID, 10) {
			t.Fatalf("audit: %+v", ev)
		}
		var others int64
		st.DB.Table("login_failures").Where("email = ?", "root@example.com").Count(&others)
		if others != 1 {
			t.Fatalf("another account's failures: %d, want 1", others)
		}
		if _, err := f.svc.Authenticate(ctx, "ed@example.com", recoveryPassword, audit.Actor{IP: "198.51.100.7"}); err != nil {
			t.Fatalf("after unlock: %v", err)
		}
		if _, err := f.svc.Unlock(ctx, f.byAdmin(), 9999); err != auth.ErrUserNotFound {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

var resetLink = regexp.MustCompile(`https://charter\.example\.com/login/reset/([A-Za-z0-9_-]{43})`)

// resetToken reads the token out of the newest reset email to addr.
func (f *recoveryFixture) resetToken(addr string) string {
	f.t.Helper()
	var m notify.Message
	if err := f.st.DB.Where("to_addr = ? AND kind = ?", addr, "password_reset").Order("id DESC").First(&m).Error; err != nil {
		f.t.Fatalf("no reset email to %s: %v", addr, err)
	}
	match := resetLink.FindStringSubmatch(m.Body)
	if match == nil {
		f.t.Fatalf("no reset link in %q", m.Body)
	}
	return match[1]
}

func TestForgottenPasswordByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newRecoveryFixture(t, st)
		anon := audit.Actor{Label: "anonymous", IP: "198.51.100.9"}

		t.Run("unknown, disabled and expired accounts get nothing", func(t *testing.T) {
			gone, _ := f.svc.Create(ctx, audit.System("test"), auth.NewUser{Email: "gone@example.com", Role: auth.Viewer, Password: recoveryPassword})
			if _, err := f.svc.Disable(ctx, audit.System("test"), gone.ID); err != nil {
				t.Fatal(err)
			}
			last := f.now.AddDate(0, 0, -1)
			old, _ := f.svc.Create(ctx, audit.System("test"), auth.NewUser{Email: "old@example.com", Role: auth.Viewer, Password: recoveryPassword})
			st.DB.Table("users").Where("id = ?", old.ID).Update("access_until", last)
			before := [3]int64{f.count("outbox"), f.count("share_links"), f.count("audit_events")}
			for _, addr := range []string{"nobody@example.com", "gone@example.com", "Old@Example.com"} {
				if err := f.svc.RequestPasswordReset(ctx, anon, addr); err != nil {
					t.Fatalf("%s: %v", addr, err)
				}
			}
			if after := [3]int64{f.count("outbox"), f.count("share_links"), f.count("audit_events")}; after != before {
				t.Fatalf("outbox, links, events: %v before, %v after", before, after)
			}
		})

		t.Run("input that is not an address is refused naming the field", func(t *testing.T) {
			for _, addr := range []string{"", "no-at-sign", "ed@example.com\x00", "ed@example.com\r\nBcc: x@evil.example", "\xff@example.com"} {
				err := f.svc.RequestPasswordReset(ctx, anon, addr)
				if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || e.Fields["email"] == "" {
					t.Errorf("%q: %v", addr, err)
				}
			}
		})

		t.Run("SSO-only accounts are told to use SSO, with no link", func(t *testing.T) {
			sso, _ := f.svc.Create(ctx, audit.System("test"), auth.NewUser{Email: "sso@example.com", Role: auth.Viewer, Password: recoveryPassword})
			if err := f.svc.SetSSOOnly(ctx, audit.System("test"), sso.ID, true); err != nil {
				t.Fatal(err)
			}
			links := f.count("share_links")
			if err := f.svc.RequestPasswordReset(ctx, anon, "sso@example.com"); err != nil {
				t.Fatal(err)
			}
			var m notify.Message
			st.DB.Where("to_addr = ?", "sso@example.com").First(&m)
			if m.Kind != "password_reset_sso" || resetLink.MatchString(m.Body) || f.count("share_links") != links {
				t.Fatalf("SSO note: %+v", m)
			}
		})

		f.signIn(f.ed, "ed-session")
		if err := f.svc.RequestPasswordReset(ctx, anon, " ED@example.com "); err != nil {
			t.Fatal(err)
		}
		if ev := f.lastEvent(); ev.Action != "user.password_reset_requested" || ev.ObjectID != strconv.FormatInt(f.ed.ID, 10) {
			t.Fatalf("audit: %+v", ev)
		}
		first := f.resetToken("ed@example.com")
		var m notify.Message
		st.DB.Where("to_addr = ?", "ed@example.com").Order("id DESC").First(&m)
		if !regexp.MustCompile(`within 30 minutes`).MatchString(m.Body) || m.Subject != "Reset your Charter password" {
			t.Fatalf("email: %q %q", m.Subject, m.Body)
		}
		// Asking again sends a new link; only the newest works.
		if err := f.svc.RequestPasswordReset(ctx, anon, "ed@example.com"); err != nil {
			t.Fatal(err)
		}
		token := f.resetToken("ed@example.com")
		if err := f.svc.CheckPasswordReset(ctx, first); err != sharelink.ErrDead {
			t.Fatalf("superseded link: %v", err)
		}
		if err := f.svc.CheckPasswordReset(ctx, token); err != nil {
			t.Fatalf("live link: %v", err)
		}
		// A password that breaks the rules leaves the link usable.
		_, err := f.svc.CompletePasswordReset(ctx, anon, token, "password1")
		if e, ok := apperr.As(err); !ok || e.Fields["new_password"] == "" {
			t.Fatalf("common password: %v", err)
		}
		if !f.alive("ed-session") {
			t.Fatal("a refused password ended the sessions")
		}
		if _, err := f.svc.CompletePasswordReset(ctx, anon, token, "a fresh start passphrase"); err != nil {
			t.Fatal(err)
		}
		if ev := f.lastEvent(); ev.Action != "user.password_reset_completed" || ev.Actor != "ed@example.com" {
			t.Fatalf("audit: %+v", ev)
		}
		if f.alive("ed-session") {
			t.Fatal("a session survived the reset")
		}
		if _, err := f.svc.Authenticate(ctx, "ed@example.com", recoveryPassword, audit.Actor{}); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("old password: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "ed@example.com", "a fresh start passphrase", audit.Actor{}); err != nil {
			t.Fatalf("new password: %v", err)
		}
		for name, tok := range map[string]string{"used": token, "superseded": first} {
			if _, err := f.svc.CompletePasswordReset(ctx, anon, tok, "yet another passphrase"); !apperr.Is(err, apperr.Gone) {
				t.Errorf("%s link: %v, want Gone", name, err)
			}
		}
		if _, err := f.svc.CompletePasswordReset(ctx, anon, "not-a-token", "yet another passphrase"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("junk token: %v, want NotFound", err)
		}

		t.Run("a link expires", func(t *testing.T) {
			if err := f.svc.RequestPasswordReset(ctx, anon, "ed@example.com"); err != nil {
				t.Fatal(err)
			}
			token := f.resetToken("ed@example.com")
			f.now = f.now.Add(auth.DefaultResetLinkTTL)
			if _, err := f.svc.CompletePasswordReset(ctx, anon, token, "yet another passphrase"); !apperr.Is(err, apperr.Gone) {
				t.Fatalf("expired link: %v, want Gone", err)
			}
		})

		t.Run("an admin's reset withdraws a pending link and forces a change", func(t *testing.T) {
			if err := f.svc.RequestPasswordReset(ctx, anon, "ed@example.com"); err != nil {
				t.Fatal(err)
			}
			token := f.resetToken("ed@example.com")
			if _, _, err := f.svc.ResetPassword(ctx, f.byAdmin(), f.ed.ID); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.CheckPasswordReset(ctx, token); !apperr.Is(err, apperr.Gone) {
				t.Fatalf("link after an admin reset: %v", err)
			}
		})

		t.Run("a link completes a forced change", func(t *testing.T) {
			if err := f.svc.RequestPasswordReset(ctx, anon, "ed@example.com"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.CompletePasswordReset(ctx, anon, f.resetToken("ed@example.com"), "chosen by the owner"); err != nil {
				t.Fatal(err)
			}
			if f.user(f.ed.ID).MustChangePassword {
				t.Fatal("must-change survived a reset by link")
			}
		})

		res, err := audit.Verify(ctx, st.DB)
		if err != nil || res.Break != nil {
			t.Fatalf("audit chain: %+v %v", res, err)
		}
	})
}
