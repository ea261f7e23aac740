package keys_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/keys"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

func held(t *testing.T, seed byte, mfa byte) []keys.Held {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	m := make([]byte, 32)
	m[0] = mfa
	return []keys.Held{
		{Name: keys.Signing, Path: "/keys/signing.key", Fingerprint: keys.SigningFingerprint(ed25519.NewKeyFromSeed(s).Public().(ed25519.PublicKey))},
		{Name: keys.MFA, Path: "/keys/mfa.key", Fingerprint: keys.MFAFingerprint(m)},
	}
}

func TestKeyFingerprintsRecordedOnceAndRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC) }
		by := audit.System("test")
		first := keys.NewRegistry(st.DB, now, held(t, 1, 1)...)
		same := keys.NewRegistry(st.DB, now, held(t, 1, 1)...)
		for _, r := range []*keys.Registry{first, same} {
			if err := r.Establish(ctx, by); err != nil {
				t.Fatal(err)
			}
		}
		var recorded int64
		st.DB.Model(&audit.Event{}).Where("action = ?", "keys.fingerprint.recorded").Count(&recorded)
		if recorded != 2 {
			t.Fatalf("%d fingerprint events, want 2 (one per key, once)", recorded)
		}
		for _, c := range []struct {
			name    string
			sk, mk  byte
			wantKey string
		}{{"other signing key", 2, 1, keys.Signing}, {"other MFA key", 1, 2, keys.MFA}} {
			err := keys.NewRegistry(st.DB, now, held(t, c.sk, c.mk)...).Establish(ctx, by)
			var mismatch *keys.MismatchError
			if !errors.As(err, &mismatch) || mismatch.Key != c.wantKey {
				t.Fatalf("%s: %v", c.name, err)
			}
			env := keys.SettingOf(c.wantKey).Env
			if !strings.Contains(err.Error(), "differs from the one this database was set up with") || !strings.Contains(err.Error(), env) {
				t.Errorf("%s: message %q", c.name, err)
			}
		}
		// A rotation recorded underneath a running instance fails its check.
		if err := first.Check(ctx); err != nil {
			t.Fatal(err)
		}
		rotated := held(t, 3, 1)[0].Fingerprint
		if err := st.DB.Transaction(func(tx *gorm.DB) error { return keys.Replace(tx, by, now(), keys.Signing, rotated) }); err != nil {
			t.Fatal(err)
		}
		var mismatch *keys.MismatchError
		if err := first.Check(ctx); !errors.As(err, &mismatch) || mismatch.Key != keys.Signing {
			t.Fatalf("after rotation: %v", err)
		}
		if v, err := audit.Verify(ctx, st.DB); err != nil || v.Break != nil {
			t.Fatal(err, v.Break)
		}
	})
}

func TestKeyFingerprintsRevealNoKey(t *testing.T) {
	m := make([]byte, 32)
	m[0] = 7
	fp := keys.MFAFingerprint(m)
	if !strings.HasPrefix(fp, "hmac-sha256:") || strings.Contains(fp, "07000000") {
		t.Fatalf("MFA fingerprint %q", fp)
	}
	if keys.MFAFingerprint(m) != fp {
		t.Fatal("the fingerprint is not stable")
	}
}
