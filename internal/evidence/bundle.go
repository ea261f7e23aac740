package evidence

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditlog"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/packet"
	"gorm.io/gorm"
)

// BundleManifest describes an evidence bundle; manifest.sig signs its
// bytes exactly as stored in the zip.
type BundleManifest struct {
	GeneratedAt time.Time      `json:"generated_at"`
	Actor       string         `json:"actor"`
	Parameters  map[string]any `json:"parameters"`
	AuditHead   AuditHead      `json:"audit_head"`
	PublicKey   string         `json:"public_key"` // base64 Ed25519, for reference: check it against the published key
	// Checkpoint is the audit log's signed checkpoint made at export time.
	Checkpoint *BundleCheckpoint `json:"checkpoint,omitempty"`
	// BlockSize is the size of the blocks each file's Blocks hash.
	BlockSize int          `json:"block_size,omitempty"`
	Files     []BundleFile `json:"files"`
}

// AuditHead is the audit trail's newest event when the bundle was made.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// BundleFile is one file of the bundle.
type BundleFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Rows   *int64 `json:"rows,omitempty"` // CSV datasets
	// Blocks are the first 16 hex digits of the SHA-256 of each
	// BlockSize-byte block, so that a changed byte can be located.
	Blocks []string `json:"blocks,omitempty"`
}

// Bundle file names.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
	SumsName      = "SHA256SUMS"
	ReadmeName    = "README.txt"
)

// Bundle writes the evidence bundle for the period to w: every dataset,
// the policy versions in force during the period as PDFs, the manifest,
// its signature, SHA256SUMS and a README. Everything comes from one
// snapshot, the audit trail's head included.
//
// role is whom the bundle is for: its audit_log withholds what that role may
// not see (Options.Role), and the manifest records it.
func (s *Service) Bundle(ctx context.Context, by audit.Actor, role auth.Role, p Period, company string, w io.Writer) (*BundleManifest, error) {
	key := s.key
	now := s.now().UTC().Truncate(time.Second)
	params := map[string]any{"from": p.From.Format(time.DateOnly), "to": p.To.Format(time.DateOnly), "role": string(role)}
	if err := s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return audit.Append(tx, by, audit.Entry{At: now, Action: "export.started", ObjectType: "bundle", ObjectID: "evidence.zip", After: params})
	}); err != nil {
		return nil, err
	}
	var checkpoint *auditlog.Checkpoint
	if s.auditLog != nil {
		// Signed after export.started, so the bundle's checkpoint covers
		// the export itself.
		cp, _, err := s.auditLog.Checkpoint(ctx, "export")
		if err != nil {
			return nil, err
		}
		checkpoint = &cp
	}
	m := &BundleManifest{GeneratedAt: now, Actor: by.Label, Parameters: params, PublicKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))}
	zw := zip.NewWriter(w)
	// Fixed entry times keep the zip's own bytes independent of the clock
	// except for the manifest's generated_at.
	blocks := map[string]*blockHasher{}
	entry := func(name string) (io.Writer, error) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return nil, err
		}
		blocks[name] = newBlockHasher(w)
		return blocks[name], nil
	}
	err := s.st.Snapshot(ctx, func(tx *gorm.DB) error {
		var head audit.Event
		if err := tx.Select("seq", "hash").Order("seq DESC").Limit(1).Take(&head).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		m.AuditHead = AuditHead{Seq: head.Seq, Hash: head.Hash}
		for i := range datasets {
			d := &datasets[i]
			name := "datasets/" + d.Name + ".csv"
			ew, err := entry(name)
			if err != nil {
				return err
			}
			res, err := d.write(tx, s.st.Dialect, p, s.rules, Options{Role: role}, ew)
			if err != nil {
				return err
			}
			rows := res.Rows
			m.Files = append(m.Files, BundleFile{Name: name, SHA256: res.SHA256, Size: res.Bytes, Rows: &rows})
		}
		return s.policyPDFs(tx, p, by, company, now, entry, m)
	})
	if err != nil {
		return nil, err
	}
	if checkpoint != nil {
		if err := s.addAuditLog(ctx, *checkpoint, p, entry, m); err != nil {
			return nil, err
		}
	}
	readme := []byte(readmeText(company, m))
	if err := addFile(entry, m, ReadmeName, readme); err != nil {
		return nil, err
	}
	m.BlockSize = BlockSize
	for i := range m.Files {
		m.Files[i].Blocks = blocks[m.Files[i].Name].Sums()
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	var sums bytes.Buffer
	for _, f := range m.Files {
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Name)
	}
	fmt.Fprintf(&sums, "%s  %s\n", hexSHA(manifest), ManifestName)
	for _, f := range []struct {
		name string
		data []byte
	}{{ManifestName, manifest}, {SumsName, sums.Bytes()}, {SignatureName, []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(key, manifest)) + "\n")}} {
		ew, err := entry(f.name)
		if err != nil {
			return nil, err
		}
		if _, err := ew.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	params["files"], params["manifest_sha256"], params["audit_head_seq"] = len(m.Files), hexSHA(manifest), m.AuditHead.Seq
	return m, s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return audit.Append(tx, by, audit.Entry{At: s.now(), Action: "export.completed", ObjectType: "bundle", ObjectID: "evidence.zip", After: params})
	})
}

func hexSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func addFile(entry func(string) (io.Writer, error), m *BundleManifest, name string, data []byte) error {
	ew, err := entry(name)
	if err != nil {
		return err
	}
	if _, err := ew.Write(data); err != nil {
		return err
	}
	m.Files = append(m.Files, BundleFile{Name: name, SHA256: hexSHA(data), Size: int64(len(data))})
	return nil
}

// policyPDFs adds every policy version in force at some time in the
// period, watermarked for the person exporting.
func (s *Service) policyPDFs(tx *gorm.DB, p Period, by audit.Actor, company string, now time.Time, entry func(string) (io.Writer, error), m *BundleManifest) error {
	var rows []struct {
		Slug        string
		Title       string
		Major       int
		Minor       int
		SHA256      string `gorm:"column:sha256"`
		Body        string
		PublishedAt time.Time
	}
	err := tx.Table("policy_versions v").Select("p.slug, p.title, v.major, v.minor, v.sha256, v.body, v.published_at").
		Joins("JOIN policies p ON p.id = v.policy_id").
		Where("v.status IN ('published', 'superseded') AND v.published_at < ? AND (v.superseded_at IS NULL OR v.superseded_at >= ?)", p.end(), p.From).
		Order("p.slug, v.major, v.minor").Scan(&rows).Error
	if err != nil {
		return err
	}
	for _, r := range rows {
		version := fmt.Sprintf("%d.%d", r.Major, r.Minor)
		doc := packet.Document{Company: company, PacketID: "evidence " + p.From.Format(time.DateOnly) + " to " + p.To.Format(time.DateOnly),
			Recipient: packet.Recipient{Name: by.Label, Email: by.Label, Company: "auditor's copy"}, IssuedAt: now, ExpiresAt: now,
			Policies: []packet.DocumentPolicy{{Slug: r.Slug, Title: r.Title, Version: version, EffectiveOn: r.PublishedAt, SHA256: r.SHA256, Body: r.Body}}}
		pdf, err := packet.RenderPDF(doc)
		if err != nil {
			return err
		}
		if err := addFile(entry, m, "policies/"+r.Slug+"-"+version+".pdf", pdf); err != nil {
			return err
		}
	}
	return nil
}

func readmeText(company string, m *BundleManifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Evidence bundle of %s\n", company)
	fmt.Fprintf(&b, "Period: %v to %v. Generated %s by %s.\n\n", m.Parameters["from"], m.Parameters["to"], m.GeneratedAt.Format(time.RFC3339), m.Actor)
	b.WriteString(`What is here
  datasets/*.csv   one CSV per dataset, as RFC 4180 defines it: UTF-8 without
                   a byte-order mark, comma-separated, every record ending
                   with CRLF, the first record the header row (the columns
                   below, in order). Times in ISO 8601 UTC. Cells that would
                   start with = + - @ tab CR or NUL are prefixed with ' so
                   that a spreadsheet shows them as text.
  policies/*.pdf   every policy version in force at some time in the period.
  manifest.json    the parameters, every file's SHA-256 (and row count for
                   CSVs), and the audit trail's newest event (seq and hash)
                   when the bundle was made.
  audit/checkpoint.txt
                   the audit log's checkpoint signed at export time (a C2SP
                   signed note: origin, tree size, base64 RFC 9162 root).
  audit/inclusion-proofs.json
                   an RFC 9162 inclusion proof, against that checkpoint, of
                   each audit event in audit_log.csv (up to 1000).
  manifest.sig     an Ed25519 signature (base64) of manifest.json's bytes.
  SHA256SUMS       the SHA-256 of every file, for sha256sum -c.

Datasets
`)
	for _, d := range datasets {
		fmt.Fprintf(&b, "  %-22s %s\n  %-22s Records in the period by %s.\n  %-22s Columns: %s\n", d.Name+".csv", d.Description, "", d.FiltersOn, "", strings.Join(d.Columns, ", "))
	}
	b.WriteString(`
How to verify
  1. sha256sum -c SHA256SUMS            (every file, the manifest included)
  2. charter verify-bundle FILE.zip     (hashes, signature, checkpoint and
                                         inclusion proofs, offline)
     The public key is in manifest.json; compare it with the one the company
     publishes at /trust/verify or prints with "charter keys show".
  3. Keep audit/checkpoint.txt: later, "charter audit verify-consistency
     checkpoint.txt" (run by the operator) proves that the audit trail
     still extends it, and "charter audit verify" recomputes the chain.
  4. datasets/audit_log.csv was made for the role in manifest.json
     (parameters.role). An event's data is there only for a role that may
     read its register, the client IP and request ID only for admins; the
     "withheld" column names what was blanked. Every seq, prev_hash and hash
     is kept: each row's prev_hash must be the hash of the row before it in
     seq, and no hash may appear twice. Recomputing a hash needs all of the
     row's fields; ask the operator to run "charter audit verify".
`)
	return b.String()
}

// Check is the verification of one bundle file.
type Check struct {
	Name    string
	OK      bool
	Problem string
}

// VerifyBundle checks a bundle offline: every file against SHA256SUMS and
// the manifest, and the manifest's signature against publicKey. It
// returns one check per file; ok is false when any failed.
func VerifyBundle(data []byte, publicKey ed25519.PublicKey) (checks []Check, ok bool, err error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, false, fmt.Errorf("not a zip file: %w", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, false, err
		}
		b, err := io.ReadAll(io.LimitReader(rc, 1<<30))
		rc.Close()
		if err != nil {
			// A corrupted entry fails its CRC check here: name it.
			checks = append(checks, Check{Name: f.Name, Problem: "unreadable: " + err.Error()})
			continue
		}
		files[path.Clean(f.Name)] = b
	}
	manifest, hasManifest := files[ManifestName]
	var m BundleManifest
	if !hasManifest || json.Unmarshal(manifest, &m) != nil {
		return append(checks, Check{Name: ManifestName, Problem: "missing or not valid JSON"}), false, nil
	}
	sig, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(files[SignatureName])))
	if ed25519.Verify(publicKey, manifest, sig) {
		checks = append(checks, Check{Name: ManifestName, OK: true})
	} else {
		checks = append(checks, Check{Name: ManifestName, Problem: "the signature does not match the manifest and this public key"})
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(files[SumsName]))
	for sc.Scan() {
		if sum, name, found := strings.Cut(sc.Text(), "  "); found {
			sums[name] = sum
		}
	}
	listed := map[string]bool{ManifestName: true, SumsName: true, SignatureName: true}
	for _, f := range m.Files {
		listed[f.Name] = true
		c := Check{Name: f.Name}
		b, present := files[f.Name]
		switch {
		case !present:
			c.Problem = "missing from the bundle"
		case hexSHA(b) != f.SHA256:
			c.Problem = "its SHA-256 differs from the manifest's" + firstChange(b, f, m.BlockSize)
		case sums[f.Name] != f.SHA256:
			c.Problem = "SHA256SUMS and the manifest disagree"
		default:
			c.OK = true
		}
		checks = append(checks, c)
	}
	if m.Checkpoint != nil {
		checks = append(checks, verifyAuditLog(files, &m, publicKey)...)
	}
	if sums[ManifestName] != hexSHA(manifest) {
		checks = append(checks, Check{Name: SumsName, Problem: "does not list the manifest's SHA-256"})
	}
	var extra []string
	for name := range files {
		if !listed[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		checks = append(checks, Check{Name: name, Problem: "not listed in the manifest"})
	}
	ok = true
	for _, c := range checks {
		ok = ok && c.OK
	}
	return checks, ok, nil
}
