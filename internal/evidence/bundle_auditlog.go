package evidence

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strconv"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditlog"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// SetAuditLog makes every bundle carry a checkpoint of the audit log made
// at export time, and inclusion proofs of the audit events it contains.
func (s *Service) SetAuditLog(l *auditlog.Log) { s.auditLog = l }

// Names of the audit log's files in a bundle.
const (
	CheckpointName = "audit/checkpoint.txt"
	ProofsName     = "audit/inclusion-proofs.json"
)

// MaxBundleProofs bounds the inclusion proofs in one bundle (each is about
// a kilobyte of hashes); the events past it are proved on request with
// GET /api/v1/audit/proof/inclusion against the same checkpoint.
const MaxBundleProofs = 1000

// BlockSize is the size of the blocks whose hashes the manifest lists per
// file, so that a verifier can say where a changed file first differs.
const BlockSize = 1024

// blockSumLen is how many hex digits of each block's SHA-256 are kept:
// enough to locate a change; the file's full SHA-256 is what proves it.
const blockSumLen = 16

// BundleCheckpoint is the audit log checkpoint a bundle carries.
type BundleCheckpoint struct {
	File     string `json:"file"`
	TreeSize int64  `json:"tree_size"`
	RootHash string `json:"root_hash"`
	// Proofs is the file of inclusion proofs; ProofsOmitted counts the
	// period's events past MaxBundleProofs that have none in it.
	Proofs        string `json:"proofs"`
	ProofsOmitted int    `json:"proofs_omitted"`
}

// bundleProofs is the inclusion-proofs file.
type bundleProofs struct {
	TreeSize int64         `json:"tree_size"`
	RootHash string        `json:"root_hash"`
	LeafData string        `json:"leaf_data"`
	Proofs   []bundleProof `json:"proofs"`
}

type bundleProof struct {
	Seq       int64    `json:"seq"`
	LeafIndex int64    `json:"leaf_index"`
	EventHash string   `json:"event_hash"`
	LeafHash  string   `json:"leaf_hash"`
	AuditPath []string `json:"audit_path"`
}

// blockHasher passes writes through and hashes them in blocks.
type blockHasher struct {
	w      io.Writer
	h      hash.Hash
	filled int
	sums   []string
}

func newBlockHasher(w io.Writer) *blockHasher { return &blockHasher{w: w, h: sha256.New()} }

func (b *blockHasher) Write(p []byte) (int, error) {
	n, err := b.w.Write(p)
	for rest := p[:n]; len(rest) > 0; {
		take := min(BlockSize-b.filled, len(rest))
		b.h.Write(rest[:take])
		b.filled += take
		rest = rest[take:]
		if b.filled == BlockSize {
			b.flush()
		}
	}
	return n, err
}

func (b *blockHasher) flush() {
	b.sums = append(b.sums, hex.EncodeToString(b.h.Sum(nil))[:blockSumLen])
	b.h.Reset()
	b.filled = 0
}

// Sums returns the block sums, the last partial block included.
func (b *blockHasher) Sums() []string {
	if b.filled > 0 {
		b.flush()
	}
	return b.sums
}

func blockSums(data []byte) []string {
	b := newBlockHasher(io.Discard)
	_, _ = b.Write(data)
	return b.Sums()
}

// firstChange locates the first block of data that differs from the
// manifest's block sums of the file.
func firstChange(data []byte, f BundleFile, blockSize int) string {
	if blockSize <= 0 || len(f.Blocks) == 0 {
		return ""
	}
	got := blockSums(data)
	for i := range max(len(got), len(f.Blocks)) {
		if i >= len(got) || i >= len(f.Blocks) || got[i] != f.Blocks[i] {
			start := int64(i * blockSize)
			if int64(len(data)) == f.Size && i < len(f.Blocks) {
				block := data[start:min(start+int64(blockSize), int64(len(data)))]
				if at, was, ok := changedByte(block, f.Blocks[i]); ok {
					return fmt.Sprintf(": byte %d changed (it was 0x%02x, it is 0x%02x)", start+int64(at), was, block[at])
				}
			}
			end := min(start+int64(blockSize), max(int64(len(data)), f.Size)) - 1
			return fmt.Sprintf(": the first changed byte is at offset %d to %d (block %d of %d bytes; the file is %d bytes, the manifest says %d)",
				start, end, i, blockSize, len(data), f.Size)
		}
	}
	return fmt.Sprintf(": the file is %d bytes, the manifest says %d", len(data), f.Size)
}

// changedByte finds the one byte of block whose change explains the
// manifest's block sum, by trying every value at every offset: a block is
// at most BlockSize bytes, so that is at most 255 × 1024 hashes of a
// kilobyte, under a second. It reports false when no single byte
// explains it (more than one changed), and the block is then named.
func changedByte(block []byte, want string) (at int, was byte, ok bool) {
	trial := bytes.Clone(block)
	for i, orig := range block {
		for v := range 256 {
			if byte(v) == orig {
				continue
			}
			trial[i] = byte(v)
			sum := sha256.Sum256(trial)
			if hex.EncodeToString(sum[:])[:blockSumLen] == want {
				return i, byte(v), true
			}
		}
		trial[i] = orig
	}
	return 0, 0, false
}

// addAuditLog signs a checkpoint covering the export (its export.started
// event included) and adds it to the bundle with the inclusion proofs of
// the period's events it covers, at most MaxBundleProofs of them.
func (s *Service) addAuditLog(ctx context.Context, cp auditlog.Checkpoint, p Period, entry func(string) (io.Writer, error), m *BundleManifest) error {
	var events []audit.Event
	if err := s.st.DB.WithContext(ctx).Select("seq", "hash").
		Where("occurred_at >= ? AND occurred_at < ? AND seq <= ?", p.From, p.end(), cp.TreeSize).
		Order("seq").Limit(MaxBundleProofs + 1).Find(&events).Error; err != nil {
		return err
	}
	var inPeriod int64
	if err := s.st.DB.WithContext(ctx).Model(&audit.Event{}).
		Where("occurred_at >= ? AND occurred_at < ? AND seq <= ?", p.From, p.end(), cp.TreeSize).Count(&inPeriod).Error; err != nil {
		return err
	}
	if len(events) > MaxBundleProofs {
		events = events[:MaxBundleProofs]
	}
	seqs := make([]int64, len(events))
	for i, ev := range events {
		seqs[i] = ev.Seq
	}
	proofs, err := s.auditLog.InclusionProofs(ctx, seqs, cp.TreeSize)
	if err != nil {
		return err
	}
	out := bundleProofs{TreeSize: cp.TreeSize, RootHash: cp.RootHash, Proofs: make([]bundleProof, len(proofs)),
		LeafData: "the 32 bytes of the event's hash (the hex in audit_log.csv's hash column, decoded); leaf_hash = SHA-256(0x00 || leaf data)"}
	for i, pr := range proofs {
		path := make([]string, len(pr.Path))
		for j, h := range pr.Path {
			path[j] = auditlog.EncodeHash(h)
		}
		out.Proofs[i] = bundleProof{Seq: pr.Seq, LeafIndex: pr.LeafIndex, EventHash: events[i].Hash, LeafHash: auditlog.EncodeHash(pr.LeafHash), AuditPath: path}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := addFile(entry, m, CheckpointName, []byte(cp.Note)); err != nil {
		return err
	}
	if err := addFile(entry, m, ProofsName, data); err != nil {
		return err
	}
	m.Checkpoint = &BundleCheckpoint{File: CheckpointName, TreeSize: cp.TreeSize, RootHash: cp.RootHash, Proofs: ProofsName,
		ProofsOmitted: int(inPeriod) - len(proofs)}
	return nil
}

// verifyAuditLog checks the bundle's checkpoint with publicKey (the key
// that signed the manifest, under the checkpoint's origin) and every
// inclusion proof against the checkpoint's root, each proof's event hash
// against datasets/audit_log.csv.
func verifyAuditLog(files map[string][]byte, m *BundleManifest, publicKey ed25519.PublicKey) []Check {
	cp := m.Checkpoint
	signed, ok := files[cp.File]
	if !ok {
		return []Check{{Name: cp.File, Problem: "missing from the bundle"}}
	}
	origin, _, _ := bytes.Cut(signed, []byte("\n"))
	vkey, err := note.NewEd25519VerifierKey(string(origin), publicKey)
	if err != nil {
		return []Check{{Name: cp.File, Problem: "the checkpoint's origin is not a valid key name"}}
	}
	parsed, err := auditlog.OpenCheckpoint(signed, vkey)
	if err != nil {
		return []Check{{Name: cp.File + " (signature)", Problem: err.Error()}}
	}
	if parsed.TreeSize != cp.TreeSize || auditlog.EncodeHash(parsed.RootHash) != cp.RootHash {
		return []Check{{Name: cp.File + " (signature)", Problem: "the signed checkpoint differs from the manifest's"}}
	}
	checks := []Check{{Name: cp.File + " (signature)", OK: true}}

	proofsName := cp.Proofs + " (proofs)"
	var proofs bundleProofs
	if err := json.Unmarshal(files[cp.Proofs], &proofs); err != nil {
		return append(checks, Check{Name: proofsName, Problem: "missing or not valid JSON"})
	}
	if proofs.TreeSize != parsed.TreeSize || proofs.RootHash != cp.RootHash {
		return append(checks, Check{Name: proofsName, Problem: "the proofs are for another tree than the checkpoint's"})
	}
	hashes, err := auditHashes(files["datasets/audit_log.csv"])
	if err != nil {
		return append(checks, Check{Name: proofsName, Problem: err.Error()})
	}
	for _, pr := range proofs.Proofs {
		if problem := checkProof(pr, parsed, hashes); problem != "" {
			return append(checks, Check{Name: proofsName, Problem: fmt.Sprintf("seq %d: %s", pr.Seq, problem)})
		}
	}
	return append(checks, Check{Name: proofsName, OK: true})
}

func checkProof(pr bundleProof, cp auditlog.ParsedCheckpoint, csvHashes map[int64]string) string {
	if csvHashes[pr.Seq] != pr.EventHash {
		return "its event hash is not the hash of that seq in datasets/audit_log.csv"
	}
	leaf, err := auditlog.LeafHash(pr.EventHash)
	if err != nil {
		return err.Error()
	}
	if auditlog.EncodeHash(leaf) != pr.LeafHash {
		return "leaf_hash is not SHA-256(0x00 || event hash)"
	}
	path := make(tlog.RecordProof, len(pr.AuditPath))
	for i, s := range pr.AuditPath {
		if path[i], err = auditlog.DecodeHash(s); err != nil {
			return err.Error()
		}
	}
	if err := tlog.CheckRecord(path, cp.TreeSize, cp.RootHash, pr.Seq-1, leaf); err != nil {
		return "the inclusion proof does not lead to the checkpoint's root"
	}
	return ""
}

// auditHashes reads seq → hash from the bundle's audit_log.csv.
func auditHashes(data []byte) (map[int64]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("datasets/audit_log.csv: %w", err)
	}
	seqCol, hashCol := -1, -1
	for i, name := range header {
		switch name {
		case "seq":
			seqCol = i
		case "hash":
			hashCol = i
		}
	}
	if seqCol < 0 || hashCol < 0 {
		return nil, fmt.Errorf("datasets/audit_log.csv has no seq or hash column")
	}
	out := map[int64]string{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("datasets/audit_log.csv: %w", err)
		}
		seq, err := strconv.ParseInt(rec[seqCol], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("datasets/audit_log.csv: seq %q is not a number", rec[seqCol])
		}
		out[seq] = rec[hashCol]
	}
}
