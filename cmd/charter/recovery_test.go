package main

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/pquerna/otp/totp"
)

// eachDatabase runs fn with the command line pointed at a fresh SQLite
// file and, when CHARTER_TEST_POSTGRES_URL is set, a fresh PostgreSQL
// schema; fn gets the database's URL.
func eachDatabase(t *testing.T, fn func(t *testing.T, dbURL string)) {
	for name, dbURL := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			u := dbURL(t)
			t.Setenv("CHARTER_DATA_DIR", t.TempDir())
			t.Setenv("CHARTER_DATABASE_URL", u)
			fn(t, u)
		})
	}
}

func TestUserRecoveryCommands(t *testing.T) {
	if code, out := charter(t, "user", "--help"); code != 0 || !strings.Contains(out, "reset-password") || !strings.Contains(out, "reset-mfa") || !strings.Contains(out, "unlock") {
		t.Fatalf("user --help: %d %s", code, out)
	}
	eachDatabase(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		if code, out := charter(t, "seed"); code != 0 {
			t.Fatalf("seed: %d %s", code, out)
		}
		code, out := charter(t, "user", "add", "--email", "ed@example.com", "--role", "editor")
		if code != 0 {
			t.Fatalf("user add: %d %s", code, out)
		}
		firstPassword := passwordLine.FindStringSubmatch(out)[1]
		st, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cfg := config.Defaults()
		cfg.DataDir, cfg.DatabaseURL = os.Getenv("CHARTER_DATA_DIR"), dbURL
		if err := cfg.Finish(); err != nil {
			t.Fatal(err)
		}
		a, err := app.New(cfg, st, app.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		users, sessions := a.Users, a.Sessions
		ed, err := users.ByEmail(ctx, "ed@example.com")
		if err != nil {
			t.Fatal(err)
		}
		signIn := func(token string) {
			exp := time.Now().Add(time.Hour)
			data, _ := scs.GobCodec{}.Encode(exp, map[string]any{auth.SessionUserKey: ed.ID})
			if err := sessions.Commit(token, data, exp); err != nil {
				t.Fatal(err)
			}
		}
		alive := func(token string) bool { _, found, _ := sessions.Find(token); return found }
		lastEvent := func() audit.Event {
			var ev audit.Event
			st.DB.Order("seq DESC").First(&ev)
			return ev
		}
		cli := "cli:unknown"
		if u, err := user.Current(); err == nil {
			cli = "cli:" + u.Username
		}

		// reset-password prints a one-time password and ends the sessions.
		signIn("ed-laptop")
		code, out = charter(t, "user", "reset-password", "--email", "ED@example.com")
		m := passwordLine.FindStringSubmatch(out)
		if code != 0 || m == nil || !strings.Contains(out, "must choose a new password") {
			t.Fatalf("reset-password: %d %s", code, out)
		}
		if alive("ed-laptop") {
			t.Fatal("a session survived reset-password")
		}
		if _, err := users.Authenticate(ctx, "ed@example.com", firstPassword, audit.Actor{}); err == nil {
			t.Fatal("the old password still signs in")
		}
		u, err := users.Authenticate(ctx, "ed@example.com", m[1], audit.Actor{})
		if err != nil || !u.MustChangePassword {
			t.Fatalf("one-time password: %v, must change %v", err, u != nil && u.MustChangePassword)
		}
		var reset audit.Event
		st.DB.Where("action = ?", "user.password_reset").Take(&reset)
		if reset.Actor != cli || strings.Contains(reset.AfterJSON, m[1]) {
			t.Fatalf("reset event: %+v", reset)
		}

		// reset-mfa removes the second factor and ends the sessions.
		if code, out := charter(t, "user", "reset-mfa", "--email", "ed@example.com"); code != 1 || !strings.Contains(out, "no two-factor") {
			t.Fatalf("reset-mfa without a second factor: %d %s", code, out)
		}
		key, err := auth.LoadOrCreateMFAKey(filepath.Join(t.TempDir(), auth.MFAKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		users.SetMFAKey(key)
		en, err := users.BeginEnrolment(ed, "Charter")
		if err != nil {
			t.Fatal(err)
		}
		totpCode, _ := totp.GenerateCode(en.Secret, time.Now())
		if _, err := users.ConfirmEnrolment(ctx, audit.System("test"), ed.ID, m[1], en.Sealed, totpCode); err != nil {
			t.Fatal(err)
		}
		signIn("ed-phone")
		if code, out := charter(t, "user", "reset-mfa", "--email", "ed@example.com"); code != 0 || !strings.Contains(out, "removed") {
			t.Fatalf("reset-mfa: %d %s", code, out)
		}
		if u, _ := users.Get(ctx, ed.ID); u.HasMFA() || alive("ed-phone") {
			t.Fatalf("after reset-mfa: second factor %v, session alive %v", u.HasMFA(), alive("ed-phone"))
		}
		if ev := lastEvent(); ev.Action != "mfa.reset" || ev.Actor != cli {
			t.Fatalf("reset-mfa event: %+v", ev)
		}

		// unlock clears the account's counted failures, and only those.
		// The refused old password above counted one failure already.
		var counted int64
		st.DB.Table("login_failures").Where("email = ?", "ed@example.com").Count(&counted)
		if counted != 1 {
			t.Fatalf("%d failures counted for the old password, want 1", counted)
		}
		now := time.Now().UTC()
		for _, email := range []string{"ed@example.com", "ed@example.com", "ed@example.com", "admin@example.com"} {
			st.DB.Exec("INSERT INTO login_failures (email, ip, at) VALUES (?, ?, ?)", email, "198.51.100.4", now)
		}
		if code, out := charter(t, "user", "unlock", "--email", "ed@example.com"); code != 0 || !strings.Contains(out, "4 counted failed sign-in(s) of ed@example.com cleared") {
			t.Fatalf("unlock: %d %s", code, out)
		}
		var left int64
		st.DB.Table("login_failures").Count(&left)
		if left != 1 {
			t.Fatalf("%d failures left, want the admin's 1", left)
		}
		if ev := lastEvent(); ev.Action != "user.sign_in_unlocked" || ev.Actor != cli {
			t.Fatalf("unlock event: %+v", ev)
		}

		for _, cmd := range []string{"reset-password", "reset-mfa", "unlock"} {
			if code, out := charter(t, "user", cmd, "--email", "nobody@example.com"); code != 1 || !strings.Contains(out, "no such user") {
				t.Errorf("%s of an unknown user: %d %s", cmd, code, out)
			}
			if code, out := charter(t, "user", cmd); code != 1 || !strings.Contains(out, "email") {
				t.Errorf("%s without --email: %d %s", cmd, code, out)
			}
		}
		if code, out := charter(t, "audit", "verify"); code != 0 || !strings.HasPrefix(out, "ok: ") {
			t.Fatalf("audit verify: %d %s", code, out)
		}
	})
}
