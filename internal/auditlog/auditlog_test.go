package auditlog_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditlog"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// naiveRoot is RFC 9162's MTH written recursively over all leaves.
func naiveRoot(leaves [][]byte) [32]byte {
	if len(leaves) == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := naiveRoot(leaves[:k]), naiveRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// appendEvents writes n events in batches, as busy paths do.
func appendEvents(t *testing.T, db *gorm.DB, n int) {
	t.Helper()
	for done := 0; done < n; {
		batch := make([]audit.Record, 0, 500)
		for ; done < n && len(batch) < cap(batch); done++ {
			batch = append(batch, audit.Record{By: audit.System("test"), Entry: audit.Entry{Action: "test.event", ObjectType: "test", ObjectID: fmt.Sprint(done)}})
		}
		if err := db.Transaction(func(tx *gorm.DB) error { return audit.AppendAll(tx, batch) }); err != nil {
			t.Fatal(err)
		}
	}
}

func leafData(t *testing.T, db *gorm.DB, size int64) [][]byte {
	t.Helper()
	var events []audit.Event
	db.Select("seq", "hash").Where("seq <= ?", size).Order("seq").Find(&events)
	out := make([][]byte, len(events))
	for i, ev := range events {
		out[i], _ = hex.DecodeString(ev.Hash)
	}
	return out
}

func newLog(st *store.Store) *auditlog.Log {
	_, key, _ := ed25519.GenerateKey(nil)
	now := func() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }
	return auditlog.NewLog(st.DB, now, key, "charter.test/audit-log")
}

func TestTreeGrowsAcrossCheckpointsAndMatchesTheRFCRoot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		log := newLog(st)
		if _, _, err := log.Checkpoint(ctx, "command"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("empty log: %v", err)
		}
		// Sizes that cross batch and power-of-two boundaries, the last
		// past one extension batch (2048) so a first run catches up in
		// several transactions.
		total := 0
		for _, add := range []int{1, 2, 5, 120, 2500} {
			appendEvents(t, st.DB, add)
			total += add
			c, made, err := log.Checkpoint(ctx, "command")
			if err != nil || !made || c.TreeSize != int64(total) {
				t.Fatalf("checkpoint at %d: %+v %v %v", total, c, made, err)
			}
			want := naiveRoot(leafData(t, st.DB, c.TreeSize))
			root, _ := auditlog.DecodeHash(c.RootHash)
			if root != tlog.Hash(want) {
				t.Fatalf("size %d: stored root differs from RFC 9162's MTH", total)
			}
			if fromEvents, err := auditlog.RootFromEvents(ctx, st.DB, c.TreeSize); err != nil || fromEvents != root {
				t.Fatalf("size %d: root recomputed from events differs: %v", total, err)
			}
		}
		if _, made, err := log.Checkpoint(ctx, "command"); made || err != nil {
			t.Fatalf("a checkpoint without new events: %v %v", made, err)
		}
		if out, err := log.Job().Do(ctx); err != nil || out != fmt.Sprintf("no new events since the checkpoint of size %d", total) {
			t.Fatalf("job: %q %v", out, err)
		}
		// Every older checkpoint is consistent with the newest; a sample
		// of events is included in it.
		latest, _ := log.Latest(ctx)
		latestRoot, _ := auditlog.DecodeHash(latest.RootHash)
		history, _ := log.History(ctx, 0, 100)
		for _, old := range history[1:] {
			p, err := log.Consistency(ctx, old.TreeSize, latest.TreeSize)
			oldRoot, _ := auditlog.DecodeHash(old.RootHash)
			if err != nil || tlog.CheckTree(p.Path, latest.TreeSize, latestRoot, old.TreeSize, oldRoot) != nil {
				t.Fatalf("consistency %d→%d: %v", old.TreeSize, latest.TreeSize, err)
			}
		}
		for _, seq := range []int64{1, 2, 128, 1024, 2048, latest.TreeSize} {
			p, err := log.Inclusion(ctx, seq, latest.TreeSize)
			if err != nil || tlog.CheckRecord(p.Path, latest.TreeSize, latestRoot, seq-1, p.LeafHash) != nil {
				t.Fatalf("inclusion of %d: %v", seq, err)
			}
		}
		if chk, err := log.CheckLatest(ctx); err != nil || chk.Problem != "" {
			t.Fatalf("check: %+v %v", chk, err)
		}
	})
}

func TestCheckpointTablesAreAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		appendEvents(t, st.DB, 3)
		if _, _, err := newLog(st).Checkpoint(context.Background(), "command"); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{
			"UPDATE audit_checkpoints SET tree_size = 2",
			"DELETE FROM audit_checkpoints",
			"UPDATE audit_tree_hashes SET hash = ''",
			"DELETE FROM audit_tree_hashes",
		} {
			if err := st.DB.Exec(stmt).Error; err == nil {
				t.Errorf("%s: allowed", stmt)
			}
		}
	})
}

func TestConcurrentCheckpointsSignOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		log := newLog(st)
		appendEvents(t, st.DB, 300)
		type result struct {
			c    auditlog.Checkpoint
			made bool
			err  error
		}
		results := make(chan result, 4)
		for range 4 {
			go func() {
				c, made, err := log.Checkpoint(context.Background(), "schedule")
				results <- result{c, made, err}
			}()
		}
		made := 0
		for range 4 {
			r := <-results
			if r.err != nil || r.c.TreeSize != 300 {
				t.Fatalf("concurrent checkpoint: %+v", r)
			}
			if r.made {
				made++
			}
		}
		if history, _ := log.History(context.Background(), 0, 100); made != 1 || len(history) != 1 {
			t.Fatalf("%d checkpoints made, %d stored; want 1", made, len(history))
		}
	})
}

func TestKeyRotationKeepsOldCheckpointsVerifiableAndTrustsOnlySignedAnnouncements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }
		_, oldKey, _ := ed25519.GenerateKey(nil)
		_, newKey, _ := ed25519.GenerateKey(nil)
		before := auditlog.NewLog(st.DB, now, oldKey, "charter.test/audit-log")
		appendEvents(t, st.DB, 3)
		first, _, err := before.Checkpoint(ctx, "command")
		if err != nil {
			t.Fatal(err)
		}
		a, err := before.AnnounceKey(ctx, audit.System("cli"), newKey)
		if err != nil || a.TreeSize != 4 {
			t.Fatalf("announce: %+v %v", a, err)
		}
		if oldText, newText, err := auditlog.VerifyAnnouncement([]byte(a.Note)); err != nil || oldText != a.OldKey || newText != a.NewKey {
			t.Fatalf("announcement: %v", err)
		}
		// The operator installs the new key.
		after := auditlog.NewLog(st.DB, now, newKey, "ignored-after-the-first-checkpoint")
		keys, err := after.VerifierKeys(ctx)
		if err != nil || len(keys) != 2 || keys[0] != a.OldKey || keys[1] != a.NewKey {
			t.Fatalf("verifier keys after rotation: %v %v", keys, err)
		}
		if _, err := auditlog.OpenCheckpoint([]byte(first.Note), keys...); err != nil {
			t.Fatalf("an old checkpoint after rotation: %v", err)
		}
		appendEvents(t, st.DB, 2)
		if c, _, err := after.Checkpoint(ctx, "command"); err != nil || c.VerifierKey != a.NewKey || c.Origin() != "charter.test/audit-log" {
			t.Fatalf("checkpoint with the new key: %+v %v", c, err)
		}
		if n, bad, err := after.CheckAll(ctx); err != nil || bad.Problem != "" || n != 3 {
			t.Fatalf("check all after rotation: %d %+v %v", n, bad, err)
		}

		// Someone with the database but not the keys stores announcements
		// that the current key replaced theirs: one signed by their keys
		// only, one with its text changed to name the current key. Neither
		// is trusted.
		_, mallory, _ := ed25519.GenerateKey(nil)
		_, mallory2, _ := ed25519.GenerateKey(nil)
		forger := auditlog.NewLog(st.DB, now, mallory, "charter.test/audit-log")
		forged, err := forger.AnnounceKey(ctx, audit.System("mallory"), mallory2)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{forged.Note, strings.Replace(forged.Note, forged.NewKey, a.NewKey, 1)} {
			if err := st.DB.Create(&auditlog.Announcement{OldKey: forged.OldKey, NewKey: a.NewKey, TreeSize: forged.TreeSize, Note: text, CreatedAt: now()}).Error; err != nil {
				t.Fatal(err)
			}
		}
		keys, _ = after.VerifierKeys(ctx)
		if len(keys) != 2 {
			t.Fatalf("a forged announcement extended the trusted keys: %v", keys)
		}
		// The forger's checkpoint (made by AnnounceKey) does not verify.
		if _, bad, _ := after.CheckAll(ctx); bad.Problem == "" || bad.Checkpoint.VerifierKey == a.NewKey {
			t.Fatalf("a checkpoint signed by an unknown key passed: %+v", bad)
		}
	})
}
