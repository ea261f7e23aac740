package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

func openStore(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// rewriteAuditRow does what an attacker with write access to the database
// can: drop the append-only triggers, change event seq, and recompute the
// chain hash of it and of every later event, so the chain alone verifies.
func rewriteAuditRow(t *testing.T, st *store.Store, seq int64) {
	t.Helper()
	drops := []string{"DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"}
	if st.Dialect == store.Postgres {
		drops = []string{"DROP TRIGGER audit_events_no_update ON audit_events"}
	}
	for _, stmt := range drops {
		if err := st.DB.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	var events []audit.Event
	if err := st.DB.Where("seq >= ?", seq-1).Order("seq").Find(&events).Error; err != nil {
		t.Fatal(err)
	}
	prev := events[0].Hash
	for _, ev := range events[1:] {
		if ev.Seq == seq {
			ev.Actor = "mallory"
		}
		ev.PrevHash = prev
		ev.Hash = ev.ComputeHash()
		prev = ev.Hash
		if err := st.DB.Model(&audit.Event{}).Where("seq = ?", ev.Seq).
			Updates(map[string]any{"actor": ev.Actor, "prev_hash": ev.PrevHash, "hash": ev.Hash}).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func appendTestEvents(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := st.DB.Transaction(func(tx *gorm.DB) error {
			return audit.Append(tx, audit.System("test"), audit.Entry{Action: "test.event", ObjectType: "test", ObjectID: fmt.Sprint(i)})
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRewrittenAuditTrailFailsVerifyAndConsistency(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		if code, out := charter(t, "migrate"); code != 0 {
			t.Fatalf("migrate: %d %s", code, out)
		}
		st := openStore(t, url)
		appendTestEvents(t, st, 6)
		code, old := charter(t, "audit", "checkpoint")
		if code != 0 || !strings.HasPrefix(old, "localhost:8080/audit-log\n6\n") {
			t.Fatalf("audit checkpoint: %d %q", code, old)
		}
		oldFile := filepath.Join(t.TempDir(), "q3.checkpoint")
		if err := os.WriteFile(oldFile, []byte(old), 0o600); err != nil {
			t.Fatal(err)
		}
		appendTestEvents(t, st, 5)
		if code, out := charter(t, "audit", "checkpoint"); code != 0 || !strings.HasPrefix(out, "localhost:8080/audit-log\n11\n") {
			t.Fatalf("second checkpoint: %d %q", code, out)
		}

		// Without tampering both pass.
		if code, out := charter(t, "audit", "verify"); code != 0 || !strings.Contains(out, "ok: 11 events") || !strings.Contains(out, "checkpoint 2 (tree size 11") {
			t.Fatalf("audit verify: %d %q", code, out)
		}
		if code, out := charter(t, "audit", "verify-consistency", oldFile); code != 0 || !strings.HasPrefix(out, "ok: ") {
			t.Fatalf("verify-consistency: %d %q", code, out)
		}

		rewriteAuditRow(t, st, 3)
		code, out := charter(t, "audit", "verify")
		if code != 1 || !strings.Contains(out, "FAILED: checkpoint 1 (tree size 6,") || strings.Contains(out, "FAILED: seq") {
			t.Fatalf("audit verify after a rewrite with recomputed hashes: %d %q", code, out)
		}
		code, out = charter(t, "audit", "verify-consistency", oldFile)
		if code != 1 || !strings.Contains(out, "FAILED: "+oldFile) {
			t.Fatalf("verify-consistency after a rewrite: %d %q", code, out)
		}

		// A checkpoint from somewhere else does not verify at all.
		forged := strings.Replace(old, "\n6\n", "\n5\n", 1)
		os.WriteFile(oldFile, []byte(forged), 0o600)
		if code, out := charter(t, "audit", "verify-consistency", oldFile); code != 1 || !strings.Contains(out, "signature") {
			t.Fatalf("a forged checkpoint: %d %q", code, out)
		}
	})
}

func TestRotatedKeyKeepsOldCheckpointsVerifiable(t *testing.T) {
	dir := dataDir(t)
	if code, out := charter(t, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	st := openStore(t, "sqlite://"+filepath.Join(dir, "charter.db"))
	appendTestEvents(t, st, 3)
	_, old := charter(t, "audit", "checkpoint")
	oldFile := filepath.Join(t.TempDir(), "old.checkpoint")
	os.WriteFile(oldFile, []byte(old), 0o600)

	newKey := filepath.Join(t.TempDir(), "new.key")
	// No instance has started on this database: the command first records
	// the current keys' fingerprints (two events), then announces.
	code, out := charter(t, "audit", "rotate-key", "--new-key", newKey)
	if code != 0 || !strings.Contains(out, "announced at tree size 6:") {
		t.Fatalf("rotate-key: %d %q", code, out)
	}
	// The operator installs the new key as the instructions say.
	keyFile := filepath.Join(dir, "packet-signing.key")
	if err := os.Rename(keyFile, keyFile+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(newKey, keyFile); err != nil {
		t.Fatal(err)
	}
	appendTestEvents(t, st, 2)
	if code, out := charter(t, "audit", "checkpoint"); code != 0 || !strings.Contains(out, "\n9\n") {
		t.Fatalf("checkpoint with the new key: %d %q", code, out)
	}
	if code, out := charter(t, "audit", "verify"); code != 0 || !strings.Contains(out, "tree size 9") {
		t.Fatalf("audit verify after rotation: %d %q", code, out)
	}
	if code, out := charter(t, "audit", "verify-consistency", oldFile); code != 0 {
		t.Fatalf("a checkpoint signed by the old key, after rotation: %d %q", code, out)
	}
}

func TestCutOffAuditTrailFailsVerify(t *testing.T) {
	dir := dataDir(t)
	if code, out := charter(t, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	st := openStore(t, "sqlite://"+filepath.Join(dir, "charter.db"))
	appendTestEvents(t, st, 4)
	charter(t, "audit", "checkpoint")
	// The newest events removed: the chain that is left is whole.
	for _, stmt := range []string{"DROP TRIGGER audit_events_no_delete", "DELETE FROM audit_events WHERE seq > 2"} {
		if err := st.DB.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	code, out := charter(t, "audit", "verify")
	if code != 1 || !strings.Contains(out, "FAILED: checkpoint 1 (tree size 4,") || strings.Contains(out, "FAILED: seq") {
		t.Fatalf("audit verify of a cut-off trail: %d %q", code, out)
	}
}
