package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	keyring "github.com/charter-registry/charter/internal/keys"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

// An instance whose key was rotated underneath it (by another instance)
// answers 503 naming the key, so that a load balancer takes it out.
func TestReadyzFailsWhenTheRecordedKeyChanges(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := e.browser()
	if r := b.get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("readyz before: %d %s", r.status, r.body)
	}
	err := e.st.DB.Transaction(func(tx *gorm.DB) error {
		return keyring.Replace(tx, audit.System("test"), e.clock.Now(), keyring.Signing, "sha256:"+strings.Repeat("0", 64))
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := b.get("/readyz"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `"key":"signing"`) {
		t.Fatalf("readyz after the signing key changed: %d %s", r.status, r.body)
	}
}
