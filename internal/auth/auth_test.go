package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestPasswordRules(t *testing.T) {
	pc := auth.NewPasswordChecker()
	cases := []struct {
		pw, email, want string
	}{
		{"short", "a@x.io", "at least 8"},
		{"password", "a@x.io", "common"},
		{"PassWord1", "a@x.io", "common"}, // case-insensitive match of "password1"
		{"qwertyuiop", "a@x.io", "common"},
		{"jonathan-secret-words", "jonathan@x.io", "email"},
		{strings.Repeat("x", 129), "a@x.io", "at most 128"},
		{"correct horse battery staple", "a@x.io", ""},
		{"ünïcödé-pässwörd", "a@x.io", ""},
	}
	for _, c := range cases {
		got := pc.Check(c.pw, c.email)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("Check(%q) = %q, want mention of %q", c.pw, got, c.want)
		}
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := auth.HashPassword("a long unusual passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if !auth.VerifyPassword(h, "a long unusual passphrase") || auth.VerifyPassword(h, "a long unusual passphrasE") {
		t.Fatal("verify is wrong")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$AA$AA", h[:len(h)-4]} {
		if auth.VerifyPassword(bad, "x") {
			t.Errorf("malformed hash %q verified", bad)
		}
	}
}

func TestRoleOrder(t *testing.T) {
	if !auth.Admin.Allows(auth.Editor) || auth.Viewer.Allows(auth.Auditor) || !auth.Auditor.Allows(auth.Viewer) || auth.Role("root").Allows(auth.Viewer) {
		t.Fatal("role order is wrong")
	}
}

func TestUsersTokensAndDisable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		svc := auth.NewService(st.DB, now)
		by := audit.System("test")

		_, err := svc.Create(ctx, by, auth.NewUser{Email: "bad", Role: "root", Password: "123"})
		e, ok := apperr.As(err)
		if !ok || e.Fields["email"] == "" || e.Fields["role"] == "" || e.Fields["password"] == "" {
			t.Fatalf("invalid user: %v", err)
		}
		u, err := svc.Create(ctx, by, auth.NewUser{Email: " Dana@Example.COM ", Role: auth.Editor, Password: "a long unusual passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "dana@example.com" {
			t.Fatalf("email stored as %q", u.Email)
		}
		if _, err := svc.Create(ctx, by, auth.NewUser{Email: "DANA@example.com", Role: auth.Viewer, Password: "another long passphrase"}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("duplicate email: %v", err)
		}

		from := audit.Actor{IP: "198.51.100.7", UserAgent: "ua"}
		if _, err := svc.Authenticate(ctx, "dana@example.com", "wrong password!", from); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := svc.Authenticate(ctx, "nobody@example.com", "whatever123", from); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("unknown email: %v", err)
		}
		if _, err := svc.Authenticate(ctx, "DANA@example.com", "a long unusual passphrase", from); err != nil {
			t.Fatalf("good password: %v", err)
		}
		var failed, ok2 int64
		st.DB.Model(&audit.Event{}).Where("action = ? AND client_ip = ?", "auth.login.failed", "198.51.100.7").Count(&failed)
		st.DB.Model(&audit.Event{}).Where("action = ?", "auth.login.succeeded").Count(&ok2)
		if failed != 2 || ok2 != 1 {
			t.Fatalf("audited %d failures and %d successes, want 2 and 1", failed, ok2)
		}

		secret, tok, err := svc.CreateToken(ctx, by, "dana@example.com", "ci", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		st.DB.Raw("SELECT token_hash FROM api_tokens WHERE id = ?", tok.ID).Scan(&stored)
		if strings.Contains(stored, secret) || stored != auth.HashToken(secret) {
			t.Fatal("token not stored as its hash")
		}
		if got, _, err := svc.AuthenticateToken(ctx, secret); err != nil || got.ID != u.ID {
			t.Fatalf("token auth: %v", err)
		}
		if _, _, err := svc.AuthenticateToken(ctx, secret+"x"); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("wrong token: %v", err)
		}
		clock = clock.Add(25 * time.Hour)
		if _, _, err := svc.AuthenticateToken(ctx, secret); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("expired token: %v", err)
		}

		// Disabling ends sessions and tokens at once.
		secret2, _, _ := svc.CreateToken(ctx, by, "dana@example.com", "ci2", 0)
		sessions := auth.NewSessionStore(st.DB, now, scs.GobCodec{})
		data, _ := scs.GobCodec{}.Encode(clock.Add(time.Hour), map[string]any{auth.SessionUserKey: u.ID})
		if err := sessions.Commit("session-token", data, clock.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := sessions.Find("session-token"); !found {
			t.Fatal("session not found before disable")
		}
		if _, err := svc.Disable(ctx, by, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := sessions.Find("session-token"); found {
			t.Fatal("session survived disable")
		}
		if _, _, err := svc.AuthenticateToken(ctx, secret2); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("token survived disable: %v", err)
		}
		if _, err := svc.Authenticate(ctx, "dana@example.com", "a long unusual passphrase", from); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("disabled user signed in: %v", err)
		}
		if _, err := svc.Disable(ctx, by, u.ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("disabling twice: %v", err)
		}
	})
}

func TestSessionStoreExpiresAndHashesTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clock := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		s := auth.NewSessionStore(st.DB, func() time.Time { return clock }, scs.GobCodec{})
		if err := s.Commit("tok", []byte("data"), clock.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		var n int64
		st.DB.Table("sessions").Where("token_hash = ?", "tok").Count(&n)
		if n != 0 {
			t.Fatal("session token stored in clear")
		}
		if b, found, err := s.Find("tok"); err != nil || !found || string(b) != "data" {
			t.Fatalf("find: %q %v %v", b, found, err)
		}
		clock = clock.Add(time.Minute)
		if _, found, _ := s.Find("tok"); found {
			t.Fatal("expired session found")
		}
		if removed, err := s.DeleteExpired(context.Background()); err != nil || removed != 1 {
			t.Fatalf("DeleteExpired = %d, %v", removed, err)
		}
	})
}

// NewUser's tags are Create's rules; the password policy is checked beside
// them, and every problem is named at once.
func TestNewUserRules(t *testing.T) {
	svc := auth.NewService(storetest.SQLite(t).DB, time.Now)
	_, err := svc.Create(context.Background(), audit.System("test"), auth.NewUser{Email: " ", Name: strings.Repeat("n", 201), Role: "root", Password: "123"})
	e, ok := apperr.As(err)
	want := map[string]string{"email": "is required", "name": "must be at most 200 characters", "role": "must be one of admin, editor, auditor, viewer"}
	if !ok || e.Kind != apperr.Invalid || e.Fields["password"] == "" || len(e.Fields) != 4 {
		t.Fatalf("got %v, want Invalid naming email, name, role and password", err)
	}
	for field, msg := range want {
		if e.Fields[field] != msg {
			t.Errorf("%s: %q, want %q", field, e.Fields[field], msg)
		}
	}
}
