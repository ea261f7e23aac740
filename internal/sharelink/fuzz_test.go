package sharelink_test

import (
	"encoding/base64"
	"testing"

	"github.com/charter-registry/charter/internal/sharelink"
)

// FuzzWellFormed: only 43-character base64url strings of 32 bytes pass,
// and the hash is always 64 hex characters.
func FuzzWellFormed(f *testing.F) {
	f.Add(base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	f.Add("short")
	f.Add("../../etc/passwd")
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, 32)))
	f.Fuzz(func(t *testing.T, token string) {
		if sharelink.WellFormed(token) {
			b, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil || len(b) != 32 {
				t.Fatalf("%q passed", token)
			}
		}
		if h := sharelink.Hash(token); len(h) != 64 {
			t.Fatalf("hash %q", h)
		}
	})
}
