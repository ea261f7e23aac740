package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
)

// Seal encrypts plain with AES-256-GCM under key (the MFA key: the one
// key every instance shares for secrets kept at rest, such as TOTP and
// webhook secrets), binding it to label, and returns base64 of the
// nonce followed by the ciphertext. A value sealed with one label does
// not open with another, so a secret of one kind cannot be passed off as
// one of another.
func Seal(key []byte, plain, label string) (string, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(plain), additional(label))), nil
}

// Open decrypts a value made by Seal with the same key and label.
func Open(key []byte, sealed, label string) (string, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", err
	}
	if len(raw) < gcm.NonceSize() {
		return "", errors.New("sealed secret too short")
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], additional(label))
	return string(plain), err
}

// additional is the label as GCM's additional data; the TOTP secrets,
// sealed before labels existed, have none.
func additional(label string) []byte {
	if label == "" {
		return nil
	}
	return []byte(label)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("no MFA key is set")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
