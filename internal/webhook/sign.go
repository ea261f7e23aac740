package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// SecretPrefix begins a signing secret as shown: Standard Webhooks'
// convention, so that libraries recognise it.
const SecretPrefix = "whsec_"

// secretBytes is the size of a signing secret: 256 bits, within the 24 to
// 64 bytes Standard Webhooks asks for.
const secretBytes = 32

// sealLabel binds a sealed webhook secret to its use (keys.Seal).
const sealLabel = "charter webhook secret v1"

// newSecret makes a signing secret, as shown once: "whsec_" and the
// base64 of 32 random bytes.
func newSecret() (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}

// secretKey is the HMAC key of a secret as shown: the bytes of its base64
// part.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("not a webhook signing secret")
	}
	return key, nil
}

// Sign is the webhook-signature header of a delivery: "v1," and the
// base64 HMAC-SHA256, under the secret's key, of id, timestamp (Unix
// seconds) and body joined by dots.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
