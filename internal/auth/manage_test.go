package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/pquerna/otp/totp"
)

func TestAccountManagement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		svc := auth.NewService(st.DB, now)
		by := audit.System("test")
		pw := "a long unusual passphrase"
		admin, err := svc.Create(ctx, by, auth.NewUser{Email: "root@example.com", Role: auth.Admin, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		ed, err := svc.Create(ctx, by, auth.NewUser{Email: "ed@example.com", Role: auth.Editor, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		sessions := auth.NewSessionStore(st.DB, now, scs.GobCodec{})
		signIn := func(u *auth.User, token string) {
			data, _ := scs.GobCodec{}.Encode(clock.Add(time.Hour), map[string]any{auth.SessionUserKey: u.ID})
			if err := sessions.Commit(token, data, clock.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		alive := func(token string) bool { _, found, _ := sessions.Find(token); return found }

		// The last admin can be neither demoted nor disabled.
		if _, err := svc.SetRole(ctx, by, admin.ID, auth.Viewer); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("demoting the last admin: %v", err)
		}
		if _, err := svc.Disable(ctx, by, admin.ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("disabling the last admin: %v", err)
		}
		for _, c := range []struct {
			role auth.Role
			kind apperr.Kind
		}{{"root", apperr.Invalid}, {auth.Editor, apperr.Conflict}} {
			if _, err := svc.SetRole(ctx, by, ed.ID, c.role); !apperr.Is(err, c.kind) {
				t.Errorf("SetRole(%s): %v", c.role, err)
			}
		}

		// A role change ends the user's sessions.
		signIn(ed, "ed-session")
		u, err := svc.SetRole(ctx, by, ed.ID, auth.Admin)
		if err != nil || u.Role != auth.Admin {
			t.Fatalf("promote: %v", err)
		}
		if alive("ed-session") {
			t.Fatal("session survived a role change")
		}
		if _, err := svc.SetRole(ctx, by, admin.ID, auth.Viewer); err != nil {
			t.Fatalf("demoting an admin while another exists: %v", err)
		}

		// Changing a password needs the current one and ends sessions.
		signIn(ed, "ed-2")
		err = svc.ChangePassword(ctx, by, ed.ID, "not it", "another long passphrase")
		if e, ok := apperr.As(err); !ok || e.Fields["current_password"] == "" {
			t.Fatalf("wrong current password: %v", err)
		}
		err = svc.ChangePassword(ctx, by, ed.ID, pw, "password1")
		if e, ok := apperr.As(err); !ok || e.Fields["new_password"] == "" {
			t.Fatalf("common new password: %v", err)
		}
		if err := svc.ChangePassword(ctx, by, ed.ID, pw, "another long passphrase"); err != nil {
			t.Fatal(err)
		}
		if alive("ed-2") {
			t.Fatal("session survived a password change")
		}
		if _, err := svc.Authenticate(ctx, "ed@example.com", "another long passphrase", audit.Actor{}); err != nil {
			t.Fatalf("new password: %v", err)
		}

		// Tokens are listed and revoked.
		secret, tok, err := svc.CreateToken(ctx, by, "ed@example.com", "ci", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		list, err := svc.ListTokens(ctx, ed.ID)
		if err != nil || len(list) != 1 || list[0].Email != "ed@example.com" || !list[0].Active(clock) {
			t.Fatalf("list: %+v %v", list, err)
		}
		if _, err := svc.RevokeToken(ctx, by, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.AuthenticateToken(ctx, secret); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("revoked token: %v", err)
		}
		if _, err := svc.RevokeToken(ctx, by, tok.ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := svc.RevokeToken(ctx, by, 999); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if all, _ := svc.ListTokens(ctx, 0); len(all) != 1 || all[0].Active(clock) {
			t.Fatalf("all tokens: %+v", all)
		}
		res, err := audit.Verify(ctx, st.DB)
		if err != nil || res.Break != nil {
			t.Fatalf("audit: %+v %v", res, err)
		}
	})
}

func TestAuditorAccessEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		svc := auth.NewService(st.DB, clock)
		by := audit.System("test")
		aud, err := svc.Create(ctx, by, auth.NewUser{Email: "aud@firm.example", Role: auth.Auditor, Password: "a long unusual passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		if aud.AccessUntil == nil || aud.AccessUntil.Format(time.DateOnly) != "2026-05-30" {
			t.Fatalf("default end: %v", aud.AccessUntil)
		}
		last := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
		if _, err := svc.SetAccessUntil(ctx, by, aud.ID, &last); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetAccessUntil(ctx, by, aud.ID, nil); err == nil {
			t.Fatal("an auditor's end date was removed")
		}
		secret, _, err := svc.CreateToken(ctx, by, "aud@firm.example", "export", 90*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at time.Time
			ok bool
		}{
			{time.Date(2026, 3, 15, 23, 59, 0, 0, time.UTC), true}, // the last day counts
			{time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC), false},
		} {
			now = c.at
			_, err := svc.Authenticate(ctx, "aud@firm.example", "a long unusual passphrase", by)
			_, _, terr := svc.AuthenticateToken(ctx, secret)
			if (err == nil) != c.ok || (terr == nil) != c.ok {
				t.Fatalf("at %v: sign-in %v, token %v; want ok=%v", c.at, err, terr, c.ok)
			}
		}
		past := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, err := svc.Create(ctx, by, auth.NewUser{Email: "late@firm.example", Role: auth.Viewer, Password: "a long unusual passphrase", AccessUntil: &past}); err == nil {
			t.Fatal("created an account whose access already ended")
		}
	})
}

func TestPruneLoginFailuresKeepsTheWindow(t *testing.T) {
	st := storetest.SQLite(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc := auth.NewService(st.DB, func() time.Time { return now })
	st.DB.Exec("INSERT INTO login_failures (email, ip, at) VALUES ('a@x.example', '1.2.3.4', ?), ('a@x.example', '1.2.3.4', ?)", now.Add(-2*time.Hour), now.Add(-time.Minute))
	n, err := svc.PruneLoginFailures(context.Background())
	var left int64
	st.DB.Table("login_failures").Count(&left)
	if err != nil || n != 1 || left != 1 {
		t.Fatalf("pruned %d, %d left: %v", n, left, err)
	}
}

func TestTOTPEnrolmentReplayAndRecovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		svc := auth.NewService(st.DB, func() time.Time { return now })
		key, err := auth.LoadOrCreateMFAKey(filepath.Join(t.TempDir(), auth.MFAKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		svc.SetMFAKey(key)
		by := audit.System("test")
		u, _ := svc.Create(ctx, by, auth.NewUser{Email: "ed@example.com", Role: auth.Editor, Password: "a long unusual passphrase"})
		en, err := svc.BeginEnrolment(u, "Charter")
		if err != nil || !strings.HasPrefix(en.QRCode, "data:image/png;base64,") || !strings.HasPrefix(en.URL, "otpauth://totp/") {
			t.Fatalf("begin: %+v %v", en, err)
		}
		code, _ := totp.GenerateCode(en.Secret, now)
		if _, err := svc.ConfirmEnrolment(ctx, by, u.ID, "wrong password", en.Sealed, code); err == nil {
			t.Fatal("enrolled without the current password")
		}
		codes, err := svc.ConfirmEnrolment(ctx, by, u.ID, "a long unusual passphrase", en.Sealed, code)
		if err != nil || len(codes) != auth.RecoveryCodes {
			t.Fatalf("confirm: %v %v", codes, err)
		}
		var stored auth.User
		st.DB.Take(&stored, u.ID)
		if strings.Contains(stored.MFASecret, en.Secret) || stored.MFASecret == "" {
			t.Fatal("the secret is stored in clear")
		}
		// The enrolment's code was used: the same step is refused.
		if _, err := svc.VerifySecondFactor(ctx, by, u.ID, code); err == nil {
			t.Fatal("the enrolment code was accepted again")
		}
		now = now.Add(30 * time.Second)
		next, _ := totp.GenerateCode(en.Secret, now)
		if f, err := svc.VerifySecondFactor(ctx, by, u.ID, next); err != nil || f != "totp" {
			t.Fatalf("next code: %v %v", f, err)
		}
		if _, err := svc.VerifySecondFactor(ctx, by, u.ID, next); err == nil {
			t.Fatal("a replayed code was accepted")
		}
		if f, err := svc.VerifySecondFactor(ctx, by, u.ID, strings.ToUpper(codes[0])); err != nil || f != "recovery code" {
			t.Fatalf("recovery code: %v %v", f, err)
		}
		if _, err := svc.VerifySecondFactor(ctx, by, u.ID, codes[0]); err == nil {
			t.Fatal("a recovery code worked twice")
		}
		if n, _ := svc.RecoveryCodesLeft(ctx, u.ID); n != auth.RecoveryCodes-1 {
			t.Fatalf("%d recovery codes left", n)
		}
		if err := svc.DisableMFA(ctx, by, u.ID, "nope"); err == nil {
			t.Fatal("disabled without the password")
		}
		if err := svc.DisableMFA(ctx, by, u.ID, "a long unusual passphrase"); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Get(ctx, u.ID)
		if got.HasMFA() {
			t.Fatal("still enrolled")
		}
	})
}
