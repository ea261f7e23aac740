package auth_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/netaddr"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/pquerna/otp/totp"
)

const throttlePassword = "a long unusual passphrase"

// throttleFixture is a service with a fixed clock whose waits are recorded
// instead of slept.
type throttleFixture struct {
	t     *testing.T
	st    *store.Store
	svc   *auth.Service
	now   time.Time
	slept []time.Duration
}

func newThrottleFixture(t *testing.T, st *store.Store) *throttleFixture {
	f := &throttleFixture{t: t, st: st, now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	f.svc = auth.NewService(st.DB, func() time.Time { return f.now })
	f.svc.SetSleep(func(_ context.Context, d time.Duration) error { f.slept = append(f.slept, d); return nil })
	f.svc.SetBaseURL("https://charter.example")
	return f
}

func (f *throttleFixture) user(email string, role auth.Role) *auth.User {
	f.t.Helper()
	u, err := f.svc.Create(context.Background(), audit.System("test"), auth.NewUser{Email: email, Role: role, Password: throttlePassword})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// fail plants n failures for email from ip, one a second back from now
// minus age.
func (f *throttleFixture) fail(email, ip string, n int, age time.Duration) {
	f.t.Helper()
	for i := range n {
		if err := f.st.DB.Exec("INSERT INTO login_failures (email, ip, network, at) VALUES (?, ?, ?, ?)",
			email, ip, netaddr.Network(ip), f.now.Add(-age-time.Duration(i)*time.Second)).Error; err != nil {
			f.t.Fatal(err)
		}
	}
}

// spread plants n failures for email, each from its own network, one a
// second back from now.
func (f *throttleFixture) spread(email string, n int) {
	for i := range n {
		f.fail(email, fmt.Sprintf("10.%d.%d.1", i/250, i%250), 1, time.Duration(i)*time.Second)
	}
}

func (f *throttleFixture) reset() {
	f.st.DB.Exec("DELETE FROM login_failures")
	f.st.DB.Exec("DELETE FROM login_alerts")
	f.slept = nil
}

func TestSignInBlocksOnlyTheFailingNetwork(t *testing.T) {
	const victim, other = "victim@example.com", "other@example.com"
	hour := time.Hour
	cases := []struct {
		name  string
		plant func(f *throttleFixture)
		email string
		from  string
		// throttled: refused with 429 and about this Retry-After (0: signs in).
		throttled time.Duration
		slowed    bool
	}{
		{name: "a network that never failed signs in at once", plant: func(*throttleFixture) {}, email: victim, from: "203.0.113.5"},
		{name: "100 failures from one network refuse that network for the account",
			plant: func(f *throttleFixture) { f.fail(victim, "198.51.100.7", 100, 0) },
			email: victim, from: "198.51.100.7", throttled: hour - 99*time.Second},
		{name: "another network still signs in, slowed",
			plant: func(f *throttleFixture) { f.fail(victim, "198.51.100.7", 100, 0) },
			email: victim, from: "203.0.113.5", slowed: true},
		{name: "the same network still signs in to another account",
			plant: func(f *throttleFixture) { f.fail(victim, "198.51.100.7", 100, 0) },
			email: other, from: "198.51.100.7"},
		{name: "an IPv6 client's whole /64 counts as one network",
			plant: func(f *throttleFixture) {
				for i := range 100 {
					f.fail(victim, fmt.Sprintf("2001:db8:1:2::%x", i+1), 1, 0)
				}
			},
			email: victim, from: "2001:db8:1:2:ffff::9", throttled: hour},
		{name: "the neighbouring /64 is another network",
			plant: func(f *throttleFixture) { f.fail(victim, "2001:db8:1:2::1", 100, 0) },
			email: victim, from: "2001:db8:1:3::1", slowed: true},
		{name: "an IPv4-mapped address is its IPv4 network",
			plant: func(f *throttleFixture) { f.fail(victim, "192.0.2.9", 100, 0) },
			email: victim, from: "::ffff:192.0.2.9", throttled: hour - 99*time.Second},
		{name: "300 failures from one network refuse it for every account",
			plant: func(f *throttleFixture) {
				for i := range 300 {
					f.fail(fmt.Sprintf("guess%d@example.com", i), "192.0.2.50", 1, 0)
				}
			},
			email: other, from: "192.0.2.50", throttled: hour},
		{name: "under attack, a network with 10 failures of its own is refused",
			plant: func(f *throttleFixture) { f.spread(victim, 90); f.fail(victim, "192.0.2.77", 10, 0) },
			// Retry-After: when the account falls back under attack, before
			// this network's own failures leave the window.
			email: victim, from: "192.0.2.77", throttled: hour - 89*time.Second},
		{name: "under attack, the owner who mistyped 9 times still signs in",
			plant: func(f *throttleFixture) { f.spread(victim, 91); f.fail(victim, "192.0.2.78", 9, 0) },
			email: victim, from: "192.0.2.78", slowed: true},
		{name: "99 failures from many networks do not slow anyone",
			plant: func(f *throttleFixture) { f.spread(victim, 99) },
			email: victim, from: "203.0.113.5"},
		{name: "failures older than the window no longer count",
			plant: func(f *throttleFixture) { f.fail(victim, "198.51.100.7", 100, hour) },
			email: victim, from: "198.51.100.7"},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newThrottleFixture(t, st)
		f.user(victim, auth.Editor)
		f.user(other, auth.Viewer)
		ctx := context.Background()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f.reset()
				c.plant(f)
				u, err := f.svc.Authenticate(ctx, c.email, throttlePassword, audit.Actor{IP: c.from})
				var throttled *auth.ThrottledError
				switch {
				case c.throttled > 0:
					if !errors.As(err, &throttled) || !apperr.Is(err, apperr.TooMany) {
						t.Fatalf("got %v, want throttled", err)
					}
					if d := throttled.RetryAfter - c.throttled; d < -2*time.Second || d > 2*time.Second {
						t.Errorf("Retry-After %s, want about %s", throttled.RetryAfter, c.throttled)
					}
					var ev audit.Event
					st.DB.Order("seq DESC").First(&ev)
					if ev.Action != "auth.login.failed" || !strings.Contains(ev.AfterJSON, "throttled") || !strings.Contains(ev.AfterJSON, `"factor":"password"`) {
						t.Errorf("refusal audited as %s %s", ev.Action, ev.AfterJSON)
					}
				case err != nil || u.Email != c.email:
					t.Fatalf("signing in: %v", err)
				}
				want := []time.Duration(nil)
				if c.slowed {
					want = []time.Duration{auth.UnderAttackDelay}
				}
				if fmt.Sprint(f.slept) != fmt.Sprint(want) {
					t.Errorf("waited %v, want %v", f.slept, want)
				}
			})
		}
	})
}

func TestAccountUnderAttackAlertsOwnerAndAdminsOncePerWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newThrottleFixture(t, st)
		owner := f.user("owner@example.com", auth.Editor)
		f.user("root@example.com", auth.Admin)
		f.user("root2@example.com", auth.Admin)
		gone := f.user("gone@example.com", auth.Admin)
		f.user("viewer@example.com", auth.Viewer)
		if _, err := f.svc.Disable(ctx, audit.System("test"), gone.ID); err != nil {
			t.Fatal(err)
		}
		alerts := func() []notify.Message {
			var ms []notify.Message
			st.DB.Where("kind = ?", "signin_alert").Order("to_addr").Find(&ms)
			return ms
		}
		wrong := func(ip string) {
			t.Helper()
			if _, err := f.svc.Authenticate(ctx, owner.Email, "not the password", audit.Actor{IP: ip}); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("wrong password from %s: %v", ip, err)
			}
		}
		f.spread(owner.Email, 98)
		wrong("198.51.100.7")
		if n := len(alerts()); n != 0 {
			t.Fatalf("%d alerts at 99 failures", n)
		}
		wrong("198.51.100.7") // the 100th
		ms := alerts()
		var to []string
		for _, m := range ms {
			to = append(to, m.ToAddr)
		}
		if got := strings.Join(to, " "); got != "owner@example.com root2@example.com root@example.com" {
			t.Fatalf("alerted %q", got)
		}
		for _, m := range ms {
			for _, want := range []string{"100 failed sign-ins", "from 99 network(s)", "2026-05-01 07:58", "2026-05-01 08:00 UTC", "not locked"} {
				if !strings.Contains(m.Body, want) {
					t.Errorf("alert to %s lacks %q:\n%s", m.ToAddr, want, m.Body)
				}
			}
			if strings.Contains(m.Body, "198.51.100") || strings.Contains(m.Body, "10.0.") {
				t.Errorf("alert to %s names an address:\n%s", m.ToAddr, m.Body)
			}
			if !strings.Contains(m.Subject, owner.Email) {
				t.Errorf("subject %q", m.Subject)
			}
		}
		if !strings.Contains(ms[0].Body, "your account") || !strings.Contains(ms[0].Body, "https://charter.example/app/account") {
			t.Errorf("the owner's alert:\n%s", ms[0].Body)
		}
		var ev audit.Event
		st.DB.Where("action = ?", "auth.login.under_attack").First(&ev)
		if !strings.Contains(ev.AfterJSON, `"failures":100`) || !strings.Contains(ev.AfterJSON, `"notified":3`) {
			t.Fatalf("alert audited as %q", ev.AfterJSON)
		}

		// More failures within the hour send nothing more.
		f.now = f.now.Add(30 * time.Minute)
		wrong("198.51.100.8")
		wrong("198.51.100.9")
		if n := len(alerts()); n != 3 {
			t.Fatalf("%d alerts after more failures in the same hour", n)
		}
		// An hour after the alert, a new attack is told again.
		f.now = f.now.Add(31 * time.Minute)
		f.spread(owner.Email, 99)
		wrong("198.51.100.10")
		if n := len(alerts()); n != 6 {
			t.Fatalf("%d alerts after a new attack an hour later", n)
		}

		// Guessing at an address nobody has alerts nobody.
		f.spread("nobody@example.com", 99)
		if _, err := f.svc.Authenticate(ctx, "nobody@example.com", "guess", audit.Actor{IP: "192.0.2.1"}); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatal(err)
		}
		if n := len(alerts()); n != 6 {
			t.Fatalf("%d alerts after guessing at an unknown address", n)
		}

		// Pruning keeps the window, alerts included.
		f.now = f.now.Add(2 * time.Hour)
		if _, err := f.svc.PruneLoginFailures(ctx); err != nil {
			t.Fatal(err)
		}
		var failures, claims int64
		st.DB.Table("login_failures").Count(&failures)
		st.DB.Table("login_alerts").Count(&claims)
		if failures != 0 || claims != 0 {
			t.Fatalf("after pruning: %d failures, %d alert records", failures, claims)
		}
	})
}

func TestSecondFactorIsThrottledByAccountAndNetwork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newThrottleFixture(t, st)
		key, err := auth.LoadOrCreateMFAKey(filepath.Join(t.TempDir(), auth.MFAKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		f.svc.SetMFAKey(key)
		u := f.user("ed@example.com", auth.Editor)
		en, err := f.svc.BeginEnrolment(u, "Charter")
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(en.Secret, f.now)
		if _, err := f.svc.ConfirmEnrolment(ctx, audit.System("test"), u.ID, throttlePassword, en.Sealed, code); err != nil {
			t.Fatal(err)
		}
		attacker, clean := audit.Actor{IP: "198.51.100.7"}, audit.Actor{IP: "203.0.113.5"}

		// Wrong codes count like wrong passwords: ten from the attacker's
		// network, with 90 elsewhere, put the account under attack and
		// refuse that network.
		f.spread(u.Email, 90)
		for range 10 {
			if _, err := f.svc.VerifySecondFactor(ctx, attacker, u.ID, "000000"); !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("wrong code: %v", err)
			}
		}
		var counted int64
		st.DB.Table("login_failures").Where("email = ? AND network = ?", u.Email, "198.51.100.7").Count(&counted)
		if counted != 10 {
			t.Fatalf("%d wrong codes counted for the network", counted)
		}
		f.now = f.now.Add(30 * time.Second)
		next, _ := totp.GenerateCode(en.Secret, f.now)
		var throttled *auth.ThrottledError
		if _, err := f.svc.VerifySecondFactor(ctx, attacker, u.ID, next); !errors.As(err, &throttled) {
			t.Fatalf("the attacker's network with the right code: %v", err)
		}
		var ev audit.Event
		st.DB.Order("seq DESC").First(&ev)
		if !strings.Contains(ev.AfterJSON, `"factor":"totp"`) || !strings.Contains(ev.AfterJSON, "throttled") {
			t.Fatalf("refusal audited as %s", ev.AfterJSON)
		}
		// The owner's network completes both steps, slowed at each.
		f.slept = nil
		if _, err := f.svc.Authenticate(ctx, u.Email, throttlePassword, clean); err != nil {
			t.Fatalf("password from a clean network: %v", err)
		}
		if factor, err := f.svc.VerifySecondFactor(ctx, clean, u.ID, next); err != nil || factor != "totp" {
			t.Fatalf("code from a clean network: %q %v", factor, err)
		}
		if len(f.slept) != 2 {
			t.Fatalf("waited %v, want once per step", f.slept)
		}
	})
}
