package packet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// KeyFile is the signing key's file in the data directory.
const KeyFile = "packet-signing.key"

// LoadOrCreateKey reads the Ed25519 signing key at path (its 32-byte
// seed), creating it with mode 0600 on first start. A key file readable
// by others is refused.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	seed, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		seed = make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating the signing key: %w", err)
		}
		if _, err := f.Write(seed); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return ed25519.NewKeyFromSeed(seed), nil
	} else if err != nil {
		return nil, fmt.Errorf("reading the signing key: %w", err)
	}
	return parseKey(path, seed)
}

// LoadKey reads the Ed25519 signing key at path, which must exist: a key
// given by a setting is shared by every instance, so one instance making
// its own would diverge from the others.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	seed, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the signing key %s does not exist; make it once (charter audit rotate-key --new-key %s makes one) and give the same file to every instance", path, path)
	} else if err != nil {
		return nil, fmt.Errorf("reading the signing key: %w", err)
	}
	return parseKey(path, seed)
}

func parseKey(path string, seed []byte) (ed25519.PrivateKey, error) {
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the signing key %s is readable by other users (mode %v); chmod 600 it", path, info.Mode().Perm())
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("the signing key %s is not a %d-byte Ed25519 seed", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// PublicKeyBase64 is the verifying key as shown on /trust/verify.
func (s *Service) PublicKeyBase64() string { return base64.StdEncoding.EncodeToString(s.PublicKey()) }

// manifestBytes is the manifest's JSON as signed and served: compact, with
// <, > and & written as themselves rather than Go's default \u003c, \u003e
// and \u0026, so that the file reads as any other JSON tool would write it.
// Manifests signed before this were escaped; their stored bytes are served
// unchanged and still verify.
func manifestBytes(m Manifest) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// PublicKeyPEM is the verifying key as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo),
// the form `openssl pkeyutl -verify -pubin -inkey` reads.
func (s *Service) PublicKeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(s.PublicKey())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
