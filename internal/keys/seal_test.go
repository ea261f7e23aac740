package keys_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/keys"
)

func TestSealOpensOnlyWithItsKeyAndLabel(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	sealed, err := keys.Seal(key, "whsec_abc", "charter webhook secret v1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := keys.Open(key, sealed, "charter webhook secret v1"); err != nil || got != "whsec_abc" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := keys.Open(key, sealed, ""); err == nil {
		t.Fatal("opened under another label")
	}
	if _, err := keys.Open([]byte(strings.Repeat("o", 32)), sealed, "charter webhook secret v1"); err == nil {
		t.Fatal("opened with another key")
	}
	if _, err := keys.Seal(key[:16], "x", ""); err == nil {
		t.Fatal("sealed with a short key")
	}
}

// TestSealWithoutLabelIsTheTOTPFormat: TOTP secrets stored before Seal
// existed (base64 of nonce and AES-256-GCM ciphertext, no additional
// data) are what Seal with no label makes, so they still open.
func TestSealWithoutLabelIsTheTOTPFormat(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	sealed, err := keys.Seal(key, "JBSWY3DPEHPK3PXP", "")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sealed)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], nil)
	if err != nil || string(plain) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("%q %v", plain, err)
	}
}
