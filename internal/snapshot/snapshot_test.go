package snapshot_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app/apptest"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/snapshot"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

func record(t *testing.T, env *apptest.Env, change func(tx *gorm.DB) error) *snapshot.Snapshot {
	t.Helper()
	var snap *snapshot.Snapshot
	err := env.Store.DB.Transaction(func(tx *gorm.DB) error {
		if err := change(tx); err != nil {
			return err
		}
		var err error
		snap, err = env.Snapshots.Record(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func rename(name string) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		return tx.Model(&org.Organization{}).Where("id > 0").Update("name", name).Error
	}
}

func count(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Model(&snapshot.Snapshot{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRecordKeepsChangesOnly: a snapshot is stored only when the public
// content changed; each verifies with the instance key, and a changed
// content or signature does not.
func TestRecordKeepsChangesOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := apptest.New(t, st, apptest.Config(t))
		seeded := count(t, st.DB)
		if seeded == 0 {
			t.Fatal("the seed recorded no snapshot")
		}
		same := record(t, env, func(*gorm.DB) error { return nil })
		if count(t, st.DB) != seeded {
			t.Fatal("an unchanged promise recorded a snapshot")
		}
		changed := record(t, env, rename("Renamed Inc"))
		if count(t, st.DB) != seeded+1 || changed.SHA256 == same.SHA256 || changed.ID == same.ID {
			t.Fatalf("a change recorded no new snapshot: %d snapshots", count(t, st.DB))
		}
		pub := env.Snapshots.PublicKey()
		for _, s := range []*snapshot.Snapshot{same, changed} {
			if err := snapshot.Verify(pub, s); err != nil {
				t.Fatalf("snapshot %d: %v", s.ID, err)
			}
		}
		c, err := changed.Decode()
		if err != nil || c.Organization.Name != "Renamed Inc" || c.Schema != snapshot.ContentSchema || len(c.Policies) < 20 || c.Policies[0].Version != "1.0" ||
			c.StandardDPA == nil || len(c.Subprocessors) != 0 {
			t.Fatalf("content: %v %+v", err, c)
		}
		forged := *changed
		forged.Content = same.Content
		if snapshot.Verify(pub, &forged) == nil {
			t.Fatal("a snapshot with other content verified")
		}
		forged = *changed
		forged.SHA256, forged.Content = same.SHA256, same.Content
		if snapshot.Verify(pub, &forged) == nil {
			t.Fatal("another snapshot's content and hash verified under this signature")
		}
		other, _, _ := ed25519.GenerateKey(nil)
		if snapshot.Verify(other, changed) == nil {
			t.Fatal("a snapshot verified with another key")
		}
	})
}

// TestAsOfIsTheEndOfTheUTCDay: a date shows the newest snapshot taken
// before the next UTC day began; dates after today are refused.
func TestAsOfIsTheEndOfTheUTCDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := apptest.New(t, st, apptest.Config(t))
		ctx := context.Background()
		now := env.Clock.Now().UTC()
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		seeded, err := env.Snapshots.AsOf(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		// The last microsecond of the next day, then the first of the
		// day after.
		env.Clock.Advance(day.AddDate(0, 0, 2).Add(-time.Microsecond).Sub(now))
		late := record(t, env, rename("Late Inc"))
		env.Clock.Advance(time.Microsecond)
		early := record(t, env, rename("Early Inc"))
		for _, c := range []struct {
			day  time.Time
			want int64
		}{{day, seeded.ID}, {day.AddDate(0, 0, 1), late.ID}, {day.AddDate(0, 0, 2), early.ID}} {
			got, err := env.Snapshots.AsOf(ctx, c.day)
			if err != nil || got.ID != c.want {
				t.Errorf("as of %s: %v %v, want snapshot %d", c.day.Format(time.DateOnly), got, err, c.want)
			}
		}
		if _, err := env.Snapshots.AsOf(ctx, day.AddDate(0, 0, -1)); err != snapshot.ErrNone {
			t.Errorf("before the first snapshot: %v", err)
		}
		if _, err := env.Snapshots.AsOf(ctx, day.AddDate(0, 0, 3)); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a date after today: %v", err)
		}
	})
}

// TestSnapshotsAreKeptForever: the database refuses to change or delete
// a snapshot.
func TestSnapshotsAreKeptForever(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		apptest.New(t, st, apptest.Config(t))
		if err := st.DB.Model(&snapshot.Snapshot{}).Where("id > 0").Update("content", "{}").Error; err == nil {
			t.Error("a snapshot was changed")
		}
		if err := st.DB.Where("id > 0").Delete(&snapshot.Snapshot{}).Error; err == nil {
			t.Error("a snapshot was deleted")
		}
	})
}
