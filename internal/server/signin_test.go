package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/pquerna/otp/totp"
)

// signIn posts the sign-in form from b.
func (b *browser) signIn(email, password string) response {
	return b.postRaw("/login", url.Values{"email": {email}, "password": {password}, "csrf": {b.csrf()}}, nil)
}

func TestAStrangerCannotLockAnAccountOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		victim := e.emails["editor"]
		// The victim signs in with a second factor.
		ed, err := e.users.ByEmail(ctx, victim)
		if err != nil {
			t.Fatal(err)
		}
		en, err := e.users.BeginEnrolment(ed, "Charter")
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(en.Secret, e.clock.Now())
		if _, err := e.users.ConfirmEnrolment(ctx, audit.System("test"), ed.ID, testPassword, en.Sealed, code); err != nil {
			t.Fatal(err)
		}

		// 200 wrong passwords from one address: the first 100 are checked,
		// the rest refused with Retry-After.
		attacker := e.browserFrom("198.51.100.7:40000")
		for i := range 200 {
			r := attacker.signIn(victim, fmt.Sprintf("wrong guess %d", i))
			want := http.StatusUnauthorized
			if i >= auth.MaxAccountNetworkFailures {
				want = http.StatusTooManyRequests
			}
			if r.status != want {
				t.Fatalf("attempt %d: %d, want %d", i+1, r.status, want)
			}
			if want == http.StatusTooManyRequests {
				if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 3600 {
					t.Fatalf("attempt %d: Retry-After %q", i+1, r.header.Get("Retry-After"))
				}
			}
		}
		// Even the right password, and a forged X-Forwarded-For, leave the
		// attacking address refused.
		r := attacker.postRaw("/login", url.Values{"email": {victim}, "password": {testPassword}, "csrf": {attacker.csrf()}},
			http.Header{"X-Forwarded-For": {"203.0.113.77"}})
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("the attacker with the right password: %d", r.status)
		}
		// Every refusal is audited.
		var refused int64
		st.DB.Model(&audit.Event{}).Where("action = ? AND object_id = ? AND after_json LIKE ?", "auth.login.failed", victim, "%throttled%").Count(&refused)
		if refused != 101 {
			t.Fatalf("%d refusals audited, want 101", refused)
		}

		// The owner and the admin were told, once.
		var alerts []notify.Message
		st.DB.Where("kind = ?", "signin_alert").Order("to_addr").Find(&alerts)
		if len(alerts) != 2 || alerts[0].ToAddr != e.emails["admin"] || alerts[1].ToAddr != victim {
			t.Fatalf("alerts: %+v", alerts)
		}
		if !strings.Contains(alerts[1].Body, "100 failed sign-ins to your account") || strings.Contains(alerts[1].Body, "198.51.100.7") {
			t.Fatalf("the owner's alert:\n%s", alerts[1].Body)
		}

		// The same address still signs in to another account.
		if r := e.browserFrom("198.51.100.7:40001").signIn(e.emails["viewer"], testPassword); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("another account from the attacking address: %d %s", r.status, r.header.Get("Location"))
		}

		// The owner, from another address, signs in with the password and
		// the second factor, each step slowed but not refused.
		waited := e.waits.count()
		owner := e.browserFrom("203.0.113.5:50000")
		if r := owner.signIn(victim, testPassword); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/mfa" {
			t.Fatalf("the owner's password: %d %s", r.status, r.header.Get("Location"))
		}
		e.clock.Advance(30 * time.Second)
		code, _ = totp.GenerateCode(en.Secret, e.clock.Now())
		if r := owner.post("/login/mfa", url.Values{"code": {code}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("the owner's code: %d %s", r.status, r.header.Get("Location"))
		}
		if r := owner.get("/app/"); r.status != http.StatusOK {
			t.Fatalf("the owner's dashboard: %d", r.status)
		}
		if n := e.waits.count() - waited; n != 2 {
			t.Fatalf("the owner's sign-in waited %d times, want once per step", n)
		}
		for _, action := range []string{"auth.login.succeeded", "auth.mfa.succeeded"} {
			var n int64
			st.DB.Model(&audit.Event{}).Where("action = ? AND actor_id = ? AND client_ip = ?", action, ed.ID, "203.0.113.5").Count(&n)
			if n != 1 {
				t.Errorf("%d %s events from the owner's address", n, action)
			}
		}
	})
}

func TestSignInThrottlingCountsTheRealClientAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		now := e.clock.Now().UTC()
		plant := func(email string, n int) {
			for i := range n {
				st.DB.Exec("INSERT INTO login_failures (email, ip, network, at) VALUES (?, ?, ?, ?)", email, "127.0.0.1", "127.0.0.1", now.Add(-time.Duration(i)*time.Second))
			}
		}
		forged := http.Header{"X-Forwarded-For": {"203.0.113.77"}}
		attempt := func(email string) response {
			b := e.browser()
			return b.postRaw("/login", url.Values{"email": {email}, "password": {testPassword}, "csrf": {b.csrf()}}, forged)
		}
		// 100 failures for the editor from this client refuse it for the
		// editor, whatever the X-Forwarded-For says.
		plant(e.emails["editor"], auth.MaxAccountNetworkFailures)
		if r := attempt(e.emails["editor"]); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("with a forged X-Forwarded-For: %d %q", r.status, r.header.Get("Retry-After"))
		}
		if ev := e.lastEvent(); ev.Action != "auth.login.failed" || !strings.Contains(ev.AfterJSON, "throttled") {
			t.Fatalf("audit: %+v", ev)
		}
		if r := attempt(e.emails["viewer"]); r.status != http.StatusSeeOther {
			t.Fatalf("another account: %d", r.status)
		}
		// The window slides.
		e.clock.Advance(time.Hour + time.Minute)
		if r := attempt(e.emails["editor"]); r.status != http.StatusSeeOther {
			t.Fatalf("an hour later: %d", r.status)
		}
		// 300 failures from this client over many accounts stop it for
		// every account.
		now = e.clock.Now().UTC()
		for i := range auth.MaxNetworkFailures {
			plant(fmt.Sprintf("guess%d@example.com", i), 1)
		}
		if r := attempt(e.emails["auditor"]); r.status != http.StatusTooManyRequests {
			t.Fatalf("the network bucket: %d", r.status)
		}
	})
}
