// Package apptest gives tests a fully built Charter: every service from
// internal/app on a real, migrated database, a movable clock, the seeded
// policies, organization profile and NDA, and one user with an API token
// per role.
package apptest

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/clocktest"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store"
)

// Password is every test user's password.
const Password = "a long unusual passphrase"

// Clock is the movable clock of an Env.
type Clock = clocktest.Clock

// Roles names the test users: admin, editor, editor2 (a second editor, for
// segregation of duties), auditor and viewer, each name@example.com.
var Roles = map[string]auth.Role{"admin": auth.Admin, "editor": auth.Editor, "editor2": auth.Editor, "auditor": auth.Auditor, "viewer": auth.Viewer}

// Env is a built app with its clock and test users.
type Env struct {
	*app.App
	Clock  *Clock
	Emails map[string]string // by name in Roles
	Tokens map[string]string // API token secrets, by name in Roles
}

// Config is the settings tests start from: the defaults with a data
// directory of the test's own and the base URL http://charter.test.
func Config(t testing.TB) config.Config {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.BaseURL = "http://charter.test"
	return cfg
}

// New builds the app on st with cfg (from Config, adjusted), seeds it and
// adds the test users.
func New(t testing.TB, st *store.Store, cfg config.Config) *Env {
	t.Helper()
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clock := clocktest.New(time.Now().UTC())
	a, err := app.New(cfg, st, app.Deps{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SeedProfile(ctx, audit.System("system:seed"), io.Discard); err != nil {
		t.Fatal(err)
	}
	e := &Env{App: a, Clock: clock, Emails: map[string]string{}, Tokens: map[string]string{}}
	for name, role := range Roles {
		email := name + "@example.com"
		if _, err := a.Users.Create(ctx, audit.System("test"), auth.NewUser{Email: email, Role: role, Password: Password}); err != nil {
			t.Fatal(err)
		}
		secret, _, err := a.Users.CreateToken(ctx, audit.System("test"), email, "test", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.Emails[name], e.Tokens[name] = email, secret
	}
	return e
}
