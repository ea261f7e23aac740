package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditlog"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
)

var changedByte = regexp.MustCompile(`: byte (\d+) changed \(it was 0x[0-9a-f]{2}, it is 0x[0-9a-f]{2}\)`)

func TestBundleCarriesACheckpointAndProofsThatVerifyOffline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		templates, _ := policy.LoadTemplates(policies.Files)
		if _, err := policy.NewService(st.DB, clock).Seed(ctx, audit.System("seed"), templates); err != nil {
			t.Fatal(err)
		}
		_, key, _ := ed25519.GenerateKey(nil)
		svc := evidence.NewService(st, clock, evidence.Rules{NewHireDays: 30, NewVersionDays: 30}, key)
		svc.SetAuditLog(auditlog.NewLog(st.DB, clock, key, "charter.test/audit-log"))
		period, _ := evidence.ParsePeriod("2026-01-01", "2026-12-31")
		var zipped bytes.Buffer
		m, err := svc.Bundle(ctx, audit.System("auditor@example.com"), auth.Auditor, period, "PostHog", &zipped)
		if err != nil {
			t.Fatal(err)
		}
		// The checkpoint covers the export's own started event.
		if m.Checkpoint == nil || m.Checkpoint.TreeSize != m.AuditHead.Seq || m.Checkpoint.ProofsOmitted != 0 {
			t.Fatalf("checkpoint: %+v, head %+v", m.Checkpoint, m.AuditHead)
		}
		pub := key.Public().(ed25519.PublicKey)
		checks, ok, err := evidence.VerifyBundle(zipped.Bytes(), pub)
		if err != nil || !ok {
			t.Fatalf("a fresh bundle does not verify: %v %+v", err, checks)
		}
		names := map[string]bool{}
		for _, c := range checks {
			names[c.Name] = c.OK
		}
		if !names["audit/checkpoint.txt (signature)"] || !names["audit/inclusion-proofs.json (proofs)"] {
			t.Fatalf("the checkpoint and proofs were not checked: %+v", checks)
		}
		var proofs struct {
			Proofs []json.RawMessage `json:"proofs"`
		}
		json.Unmarshal(unzip(t, zipped.Bytes())[evidence.ProofsName], &proofs)
		if int64(len(proofs.Proofs)) != m.AuditHead.Seq {
			t.Fatalf("%d proofs for %d events", len(proofs.Proofs), m.AuditHead.Seq)
		}

		// A byte changed in any file is named with its file and offset
		// (every kind of file; the other bundle test changes every file).
		// Verifying is offline, so one database is enough.
		pdfs := 0
		for _, f := range m.Files {
			if st.Dialect != store.SQLite {
				break
			}
			if strings.HasSuffix(f.Name, ".pdf") {
				if pdfs++; pdfs > 1 {
					continue
				}
			}
			changed := rewrite(t, zipped.Bytes(), f.Name)
			checks, ok, _ := evidence.VerifyBundle(changed, pub)
			if ok {
				t.Fatalf("%s changed, yet verified", f.Name)
			}
			var named *evidence.Check
			for i, c := range checks {
				if c.Name == f.Name && !c.OK {
					named = &checks[i]
				}
			}
			if named == nil {
				t.Fatalf("%s changed; checks %+v", f.Name, checks)
			}
			// One byte flipped is named exactly, with its old value.
			at := changedByte.FindStringSubmatch(named.Problem)
			flipped := f.Size / 2
			if at == nil {
				t.Fatalf("%s: no byte named in %q", f.Name, named.Problem)
			}
			if offset, _ := strconv.ParseInt(at[1], 10, 64); offset != flipped {
				t.Fatalf("%s: byte %d flipped, reported %q", f.Name, flipped, named.Problem)
			}
		}

		// A proof that does not lead to the root fails, even in a bundle
		// whose hashes and signature were redone with the key.
		forged := resign(t, zipped.Bytes(), key, evidence.ProofsName, func(b []byte) []byte {
			var doc map[string]any
			json.Unmarshal(b, &doc)
			p := doc["proofs"].([]any)[0].(map[string]any)
			path := p["audit_path"].([]any)
			path[0] = base64.StdEncoding.EncodeToString(make([]byte, 32))
			out, _ := json.Marshal(doc)
			return out
		})
		checks, ok, _ = evidence.VerifyBundle(forged, pub)
		if ok {
			t.Fatal("a bad inclusion proof verified")
		}
		for _, c := range checks {
			if !c.OK && (c.Name != "audit/inclusion-proofs.json (proofs)" || !strings.Contains(c.Problem, "does not lead to the checkpoint's root")) {
				t.Fatalf("bad proof: unexpected failure %+v", c)
			}
		}
		// A checkpoint signed by another key fails its signature.
		_, other, _ := ed25519.GenerateKey(nil)
		if checks, ok, _ := evidence.VerifyBundle(resign(t, zipped.Bytes(), other, "", nil), other.Public().(ed25519.PublicKey)); ok {
			t.Fatalf("a checkpoint signed by another key verified: %+v", checks)
		}
	})
}

func unzip(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

// resign rebuilds a bundle with victim changed by change (when given),
// the manifest's hashes and SHA256SUMS redone, and the manifest signed by
// key: what someone holding a key could make.
func resign(t *testing.T, data []byte, key ed25519.PrivateKey, victim string, change func([]byte) []byte) []byte {
	t.Helper()
	files := unzip(t, data)
	if change != nil {
		files[victim] = change(files[victim])
	}
	var m map[string]any
	if err := json.Unmarshal(files[evidence.ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	var sums strings.Builder
	for _, f := range m["files"].([]any) {
		f := f.(map[string]any)
		name := f["name"].(string)
		sum := sha256.Sum256(files[name])
		f["sha256"], f["size"] = hex.EncodeToString(sum[:]), len(files[name])
		delete(f, "blocks")
		fmt.Fprintf(&sums, "%s  %s\n", f["sha256"], name)
	}
	manifest, _ := json.MarshalIndent(m, "", "  ")
	sum := sha256.Sum256(manifest)
	fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), evidence.ManifestName)
	files[evidence.ManifestName] = manifest
	files[evidence.SumsName] = []byte(sums.String())
	files[evidence.SignatureName] = []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(key, manifest)) + "\n")
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for name, b := range files {
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	return out.Bytes()
}
