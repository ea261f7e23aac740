package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"
)

// Rotating the MFA key re-encrypts every TOTP secret in one transaction:
// an instance with the new key reads them, one with the old key does not,
// and a failure in the same transaction changes nothing.
func TestRotateMFAKeyReencryptsEverySecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		oldKey, newKey := make([]byte, 32), make([]byte, 32)
		oldKey[0], newKey[0] = 1, 2
		svc := auth.NewService(st.DB, clock)
		svc.SetMFAKey(oldKey)
		by := audit.System("test")
		u, err := svc.Create(ctx, by, auth.NewUser{Email: "ed@example.com", Role: auth.Editor, Password: "a long unusual passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		en, err := svc.BeginEnrolment(u, "Charter")
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(en.Secret, now)
		if _, err := svc.ConfirmEnrolment(ctx, by, u.ID, "a long unusual passphrase", en.Sealed, code); err != nil {
			t.Fatal(err)
		}
		var before auth.User
		st.DB.Take(&before, u.ID)

		// A failing record rolls the whole rotation back.
		if _, err := svc.RotateMFAKey(ctx, by, newKey, func(*gorm.DB) error { return errors.New("no") }); err == nil {
			t.Fatal("the rotation ignored its record's failure")
		}
		var after auth.User
		st.DB.Take(&after, u.ID)
		if after.MFASecret != before.MFASecret {
			t.Fatal("a failed rotation changed a secret")
		}

		recorded := false
		n, err := svc.RotateMFAKey(ctx, by, newKey, func(*gorm.DB) error { recorded = true; return nil })
		if err != nil || n != 1 || !recorded {
			t.Fatalf("rotation: %d %v %v", n, err, recorded)
		}
		now = now.Add(30 * time.Second)
		next, _ := totp.GenerateCode(en.Secret, now)
		withNew := auth.NewService(st.DB, clock)
		withNew.SetMFAKey(newKey)
		if f, err := withNew.VerifySecondFactor(ctx, by, u.ID, next); err != nil || f != "totp" {
			t.Fatalf("with the new key: %v %v", f, err)
		}
		now = now.Add(30 * time.Second)
		next, _ = totp.GenerateCode(en.Secret, now)
		withOld := auth.NewService(st.DB, clock)
		withOld.SetMFAKey(oldKey)
		if _, err := withOld.VerifySecondFactor(ctx, by, u.ID, next); err == nil {
			t.Fatal("the old key still reads the secret")
		}
		if _, err := svc.RotateMFAKey(ctx, by, newKey, func(*gorm.DB) error { return nil }); err == nil {
			t.Fatal("rotated to the current key")
		}
	})
}
