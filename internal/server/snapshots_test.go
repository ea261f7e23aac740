package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/snapshot"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// servedSnapshot is /trust/as-of/DATE.json.
type servedSnapshot struct {
	Date           string    `json:"date"`
	ID             int64     `json:"id"`
	TakenAt        time.Time `json:"taken_at"`
	SHA256         string    `json:"sha256"`
	Signature      string    `json:"signature"`
	SignedMessage  string    `json:"signed_message"`
	KeyFingerprint string    `json:"key_fingerprint"`
	Content        string    `json:"content"`
}

func (e *env) asOf(t *testing.T, day string) servedSnapshot {
	t.Helper()
	r := e.browser().get("/trust/as-of/" + day + ".json")
	if r.status != http.StatusOK {
		t.Fatalf("/trust/as-of/%s.json: %d %s", day, r.status, r.body)
	}
	var s servedSnapshot
	if err := json.Unmarshal([]byte(r.body), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// publishedKey reads the key served at /trust/signing-key.pem.
func (e *env) publishedKey(t *testing.T) ed25519.PublicKey {
	t.Helper()
	r := e.browser().get("/trust/signing-key.pem")
	block, _ := pem.Decode([]byte(r.body))
	if r.status != http.StatusOK || block == nil {
		t.Fatalf("signing key: %d %q", r.status, r.body)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub.(ed25519.PublicKey)
}

// checkSigned verifies a served snapshot as docs/verify.md says anyone
// can: the content hashes to sha256, the signed message is the three
// documented lines, and the signature verifies with the published key.
func checkSigned(t *testing.T, pub ed25519.PublicKey, s servedSnapshot) {
	t.Helper()
	sum := sha256.Sum256([]byte(s.Content))
	if hex.EncodeToString(sum[:]) != s.SHA256 {
		t.Fatalf("the content does not hash to %s", s.SHA256)
	}
	want := "charter-promise-snapshot-v1\n" + s.TakenAt.UTC().Format(time.RFC3339Nano) + "\n" + s.SHA256 + "\n"
	if s.SignedMessage != want {
		t.Fatalf("signed message %q, want %q", s.SignedMessage, want)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || !ed25519.Verify(pub, []byte(want), sig) {
		t.Fatalf("the signature does not verify with the published key: %v", err)
	}
	if ed25519.Verify(pub, []byte(strings.Replace(want, s.SHA256[:8], "00000000", 1)), sig) {
		t.Fatal("the signature verifies over another hash")
	}
}

func subprocessorNames(t *testing.T, s servedSnapshot) []string {
	t.Helper()
	var c snapshot.Content
	if err := json.Unmarshal([]byte(s.Content), &c); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range c.Subprocessors {
		names = append(names, p.Name)
	}
	return names
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestPromiseSnapshotsAsOf: a sub-processor change shows in the snapshot
// of the day it takes effect and not in the day before's; every served
// snapshot verifies with the published key, its hash is in the audit
// trail under a signed checkpoint, and the change notice cites the
// snapshot of its announcement.
func TestPromiseSnapshotsAsOf(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		e.seedPrivacy()
		day := func(offset int) string { return e.clock.Now().AddDate(0, 0, offset).Format(time.DateOnly) }
		announced := day(0)

		code, body := e.api("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Cloudflare", "purpose": "CDN", "countries": "US, DE", "transfer_mechanism": "eu_us_dpf"})
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, body)
		}
		eff := day(45)
		if code, body := e.api("editor", http.MethodPost, "/api/v1/subprocessor-notices", map[string]any{"change": "add", "subprocessor_id": body["id"], "effective_on": eff}); code != http.StatusCreated {
			t.Fatalf("announce: %d %v", code, body)
		}
		atAnnouncement := e.asOf(t, announced)
		if !strings.Contains(atAnnouncement.Content, `"upcoming_changes":[{"change":"add","subprocessor":"Cloudflare"`) {
			t.Fatalf("the announced change is not in the day's snapshot: %s", atAnnouncement.Content)
		}
		// The notice emails cite the snapshot that records the announcement.
		var notices []notify.Message
		if err := st.DB.Where("kind = ?", "subprocessor_notice").Find(&notices).Error; err != nil || len(notices) == 0 {
			t.Fatalf("no notice queued: %v", err)
		}
		exact := fmt.Sprintf("/trust/snapshots/%d.json", atAnnouncement.ID)
		for _, m := range notices {
			if !strings.Contains(m.Body, "http://charter.test/trust/as-of/"+announced) || !strings.Contains(m.Body, "http://charter.test"+exact) ||
				!strings.Contains(m.Body, atAnnouncement.SHA256) {
				t.Fatalf("the notice to %s does not cite the snapshot %s:\n%s", m.ToAddr, atAnnouncement.SHA256, m.Body)
			}
		}
		// The cited snapshot stays at its own address after a later
		// change the same day.
		if code, _ := e.api("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Fastly", "purpose": "CDN", "countries": "US", "transfer_mechanism": "eu_us_dpf"}); code != http.StatusCreated {
			t.Fatalf("create: %d", code)
		}
		if r := e.browser().get(exact); r.status != http.StatusOK || !strings.Contains(r.body, `"sha256":"`+atAnnouncement.SHA256+`"`) {
			t.Fatalf("%s: %d %s", exact, r.status, r.body)
		}
		for _, bad := range []string{"/trust/snapshots/" + strconv.FormatInt(atAnnouncement.ID, 10), "/trust/snapshots/x.json", "/trust/snapshots/0.json", "/trust/snapshots/99999.json"} {
			if r := e.browser().get(bad); r.status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", bad, r.status)
			}
		}

		e.clock.Advance(45 * 24 * time.Hour)
		jobs.NewScheduler(e.st.DB, e.clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)), e.privacy.ApplyDueJob()).Tick(ctx)

		before, after := e.asOf(t, day(-1)), e.asOf(t, eff)
		if names := subprocessorNames(t, before); contains(names, "Cloudflare") || len(names) == 0 {
			t.Fatalf("the day before the change lists %v", names)
		}
		if names := subprocessorNames(t, after); !contains(names, "Cloudflare") {
			t.Fatalf("the day of the change lists %v", names)
		}
		if r := e.browser().get("/trust/as-of/" + day(-1)); r.status != http.StatusOK || strings.Contains(r.body, "<td>Cloudflare</td>") || !strings.Contains(r.body, before.SHA256) {
			t.Fatalf("page of the day before: %d", r.status)
		}
		if r := e.browser().get("/trust/as-of/" + eff); r.status != http.StatusOK || !strings.Contains(r.body, "<td>Cloudflare</td>") || !strings.Contains(r.body, after.SHA256) {
			t.Fatalf("page of the day of the change: %d", r.status)
		}

		pub := e.publishedKey(t)
		cp, _, err := e.auditLog.Checkpoint(ctx, "command")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []servedSnapshot{atAnnouncement, before, after} {
			checkSigned(t, pub, s)
			var ev audit.Event
			if err := st.DB.Where("action = ? AND after_json LIKE ?", snapshot.Recorded, "%"+s.SHA256+"%").Take(&ev).Error; err != nil {
				t.Fatalf("snapshot %s is not in the audit trail: %v", s.SHA256, err)
			}
			if ev.Seq > cp.TreeSize {
				t.Fatalf("snapshot event %d is beyond the checkpoint's tree of %d", ev.Seq, cp.TreeSize)
			}
			proof, err := e.auditLog.Inclusion(ctx, ev.Seq, cp.TreeSize)
			if err != nil || base64.StdEncoding.EncodeToString(proof.RootHash[:]) != cp.RootHash || proof.EventHash != ev.Hash {
				t.Fatalf("no inclusion proof of snapshot event %d in the checkpoint: %v", ev.Seq, err)
			}
		}
	})
}

// TestPromiseSnapshotDates: a date before the first snapshot is a 404, a
// malformed or future date a 422, and an unchanged promise records no new
// snapshot.
func TestPromiseSnapshotDates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		first := e.clock.Now().AddDate(0, 0, -1).Format(time.DateOnly)
		for path, want := range map[string]int{
			"/trust/as-of/" + first:           http.StatusNotFound,
			"/trust/as-of/" + first + ".json": http.StatusNotFound,
			"/trust/as-of/2026-13-01":         http.StatusUnprocessableEntity,
			"/trust/as-of/yesterday.json":     http.StatusUnprocessableEntity,
			"/trust/as-of/" + e.clock.Now().AddDate(0, 0, 2).Format(time.DateOnly): http.StatusUnprocessableEntity,
		} {
			if r := e.browser().get(path); r.status != want {
				t.Errorf("%s: %d, want %d", path, r.status, want)
			}
		}
		if r := e.browser().get("/trust/as-of/" + first); !strings.Contains(r.body, "No snapshot of the public promises was taken on or before that date") {
			t.Errorf("the 404 does not say why: %s", r.body)
		}
		var n int64
		count := func() int64 {
			st.DB.Model(&snapshot.Snapshot{}).Count(&n)
			return n
		}
		seeded := count()
		if seeded == 0 {
			t.Fatal("the seed recorded no snapshot")
		}
		// An edit that changes nothing public (a proposed sub-processor
		// is not on the list) records none.
		if code, _ := e.api("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Fastly", "purpose": "CDN", "countries": "US", "transfer_mechanism": "eu_us_dpf"}); code != http.StatusCreated {
			t.Fatalf("create: %d", code)
		}
		if count() != seeded {
			t.Fatalf("%d snapshots after a change to nothing public, want %d", n, seeded)
		}
		// An internal answer is not public either; a public one, once
		// approved, is on /trust/answers and in the day's promises.
		approvedAnswer(t, e, map[string]any{"question": "Who holds the keys?", "answer": "Two engineers.", "access": "internal", "owner_email": "security@example.com"})
		if count() != seeded {
			t.Fatalf("%d snapshots after an internal answer, want %d", n, seeded)
		}
		approvedAnswer(t, e, map[string]any{"question": "Do you encrypt data at rest?", "answer": "Yes, AES-256.", "access": "public", "owner_email": "security@example.com"})
		if count() != seeded+1 {
			t.Fatalf("%d snapshots after a public answer, want %d", n, seeded+1)
		}
		today := e.browser().get("/trust/as-of/" + e.clock.Now().Format(time.DateOnly) + ".json").body
		if !strings.Contains(today, "Do you encrypt data at rest?") || strings.Contains(today, "Who holds the keys?") {
			t.Fatalf("the day's promises do not hold the public answer alone: %s", today)
		}
		seeded++
		code, list := e.api("viewer", http.MethodGet, "/api/v1/snapshots", nil)
		if code != http.StatusOK || int64(len(list["items"].([]any))) != seeded {
			t.Fatalf("list: %d %v", code, list)
		}
		item := list["items"].([]any)[0].(map[string]any)
		code, one := e.api("auditor", http.MethodGet, item["url"].(string), nil)
		if code != http.StatusOK || one["sha256"] != item["sha256"] {
			t.Fatalf("one: %d %v", code, one)
		}
		if r := e.browser().login("viewer").get("/app/snapshots"); r.status != http.StatusOK || !strings.Contains(r.body, item["sha256"].(string)) {
			t.Fatalf("dashboard list: %d", r.status)
		}
	})
}

// TestSnapshotsDashboardIsPaged: snapshots are kept forever, so the
// dashboard's list comes in pages of 200, newest first.
func TestSnapshotsDashboardIsPaged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		var before int64
		if err := st.DB.Model(&snapshot.Snapshot{}).Count(&before).Error; err != nil {
			t.Fatal(err)
		}
		at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		var oldest string
		for i := range 205 {
			sum := sha256.Sum256([]byte(strconv.Itoa(i)))
			row := snapshot.Snapshot{TakenAt: at.Add(time.Duration(i) * time.Hour), SHA256: hex.EncodeToString(sum[:]), Content: "{}", Signature: "-", KeyFingerprint: "-"}
			if err := st.DB.Create(&row).Error; err != nil {
				t.Fatal(err)
			}
			if i == 0 && before == 0 {
				oldest = row.SHA256
			}
		}
		total := int(before) + 205
		br := e.browser().login("viewer")
		rows := func(body string) int { return strings.Count(body, `<code class="hash">`) / 2 }
		first := br.get("/app/snapshots")
		if first.status != http.StatusOK || rows(first.body) != 200 || !strings.Contains(first.body, `href="/app/snapshots?page=2"`) || strings.Contains(first.body, "Newer") {
			t.Fatalf("page 1: %d, %d rows", first.status, rows(first.body))
		}
		second := br.get("/app/snapshots?page=2")
		if second.status != http.StatusOK || rows(second.body) != total-200 || !strings.Contains(second.body, `href="/app/snapshots?page=1"`) || strings.Contains(second.body, "Older") {
			t.Fatalf("page 2: %d, %d rows, want %d", second.status, rows(second.body), total-200)
		}
		if oldest != "" && !strings.Contains(second.body, oldest) {
			t.Fatal("the oldest snapshot is not on the last page")
		}
		for _, bad := range []string{"0", "x", "3"} {
			if r := br.get("/app/snapshots?page=" + bad); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "page") {
				t.Errorf("page=%s: %d", bad, r.status)
			}
		}
	})
}
