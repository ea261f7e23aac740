package auditlog

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// extendBatchSize bounds the events hashed into the tree per transaction.
const extendBatchSize = 2048

// LeafHash is the RFC 9162 leaf hash of an event whose chain hash is
// eventHash (hex): SHA-256(0x00 || the 32 bytes of the chain hash).
func LeafHash(eventHash string) (tlog.Hash, error) {
	data, err := hex.DecodeString(eventHash)
	if err != nil || len(data) != 32 {
		return tlog.Hash{}, fmt.Errorf("auditlog: %q is not a 32-byte hex chain hash", eventHash)
	}
	return tlog.RecordHash(data), nil
}

// EncodeHash writes a hash in base64, as checkpoints and proofs do.
func EncodeHash(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// DecodeHash reads a base64 hash as checkpoints and proofs write it.
func DecodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("auditlog: %q is not a base64 SHA-256 hash", s)
	}
	copy(h[:], b)
	return h, nil
}

// hashReader reads stored tree hashes, from the hashes written in this
// extension first and then from the table.
type hashReader struct {
	tx      *gorm.DB
	pending map[int64]tlog.Hash
}

func (r *hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for _, idx := range indexes {
		if _, ok := r.pending[idx]; !ok {
			missing = append(missing, idx)
		}
	}
	stored := map[int64]string{}
	if len(missing) > 0 {
		var rows []treeHash
		if err := r.tx.Where("idx IN ?", missing).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("auditlog: reading tree hashes: %w", err)
		}
		for _, row := range rows {
			stored[row.Idx] = row.Hash
		}
	}
	for i, idx := range indexes {
		if h, ok := r.pending[idx]; ok {
			out[i] = h
			continue
		}
		s, ok := stored[idx]
		if !ok {
			return nil, fmt.Errorf("auditlog: tree hash %d is missing", idx)
		}
		h, err := hex.DecodeString(s)
		if err != nil || len(h) != len(out[i]) {
			return nil, fmt.Errorf("auditlog: tree hash %d is not a hex SHA-256", idx)
		}
		copy(out[i][:], h)
	}
	return out, nil
}

// storedSize returns the number of events whose hashes the tree table
// holds. The table holds tlog's stored hashes for records [0, n) exactly,
// so n is the one whose StoredHashCount is the number of rows.
func storedSize(tx *gorm.DB) (int64, error) {
	var maxIdx *int64
	if err := tx.Model(&treeHash{}).Select("MAX(idx)").Scan(&maxIdx).Error; err != nil {
		return 0, fmt.Errorf("auditlog: reading the tree's size: %w", err)
	}
	if maxIdx == nil {
		return 0, nil
	}
	count := *maxIdx + 1
	// StoredHashCount grows with n and exceeds n, so n < count.
	lo, hi := int64(0), count
	for lo < hi {
		mid := lo + (hi-lo)/2
		if tlog.StoredHashCount(mid) < count {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if tlog.StoredHashCount(lo) != count {
		return 0, fmt.Errorf("auditlog: the tree table holds %d hashes, which is no whole tree", count)
	}
	return lo, nil
}

// extend hashes events into the tree table inside tx, at most limit of
// them (all when limit < 0), and returns the tree's size after.
func extend(tx *gorm.DB, limit int) (int64, error) {
	size, err := storedSize(tx)
	if err != nil {
		return 0, err
	}
	r := &hashReader{tx: tx, pending: map[int64]tlog.Hash{}}
	added := 0
	for limit < 0 || added < limit {
		n := extendBatchSize
		if limit >= 0 && limit-added < n {
			n = limit - added
		}
		events, err := readEvents(tx, size, n)
		if err != nil {
			return 0, err
		}
		if len(events) == 0 {
			break
		}
		rows := make([]treeHash, 0, 2*len(events))
		for _, ev := range events {
			if ev.Seq != size+1 {
				return 0, fmt.Errorf("auditlog: audit event %d is missing (found seq %d)", size+1, ev.Seq)
			}
			leaf, err := LeafHash(ev.Hash)
			if err != nil {
				return 0, err
			}
			hashes, err := tlog.StoredHashesForRecordHash(size, leaf, r)
			if err != nil {
				return 0, err
			}
			first := tlog.StoredHashCount(size)
			for i, h := range hashes {
				r.pending[first+int64(i)] = h
				rows = append(rows, treeHash{Idx: first + int64(i), Hash: hex.EncodeToString(h[:])})
			}
			size++
		}
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return 0, fmt.Errorf("auditlog: storing tree hashes: %w", err)
		}
		added += len(events)
		// What the next batch needs of these is in the table now.
		clear(r.pending)
		if len(events) < n {
			break
		}
	}
	return size, nil
}

// extendBatch hashes at most one batch of new events into the tree in a
// transaction of its own and reports how many it added.
func (l *Log) extendBatch(ctx context.Context) (int, error) {
	added := 0
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockTree(tx); err != nil {
			return err
		}
		before, err := storedSize(tx)
		if err != nil {
			return err
		}
		after, err := extend(tx, extendBatchSize)
		added = int(after - before)
		return err
	})
	return added, err
}

// InclusionProof is the RFC 9162 inclusion proof (audit path) of one
// event in the tree of a given size.
type InclusionProof struct {
	Seq       int64
	LeafIndex int64
	TreeSize  int64
	// EventHash is the event's chain hash (hex), the leaf's data.
	EventHash string
	LeafHash  tlog.Hash
	RootHash  tlog.Hash
	// Path is the audit path, from the leaf's sibling up to the root's
	// child, as RFC 9162 section 2.1.3.1 orders it.
	Path []tlog.Hash
}

// ConsistencyProof is the RFC 9162 consistency proof between two sizes.
type ConsistencyProof struct {
	From, To         int64
	FromRoot, ToRoot tlog.Hash
	Path             []tlog.Hash
}

// treeLimit checks a requested size against the newest checkpoint: proofs
// are served only for trees a signed checkpoint covers.
func treeLimit(tx *gorm.DB, field string, size int64) error {
	var latest Checkpoint
	err := tx.Order("tree_size DESC").Limit(1).Take(&latest).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNoCheckpoint
	}
	if err != nil {
		return err
	}
	if size > latest.TreeSize {
		return apperr.Field(field, fmt.Sprintf("must be at most %d, the size of the newest checkpoint", latest.TreeSize))
	}
	return nil
}

// Inclusion proves that the event seq is in the tree of size size.
// Errors: apperr.Invalid naming seq or size, ErrNoCheckpoint.
func (l *Log) Inclusion(ctx context.Context, seq, size int64) (InclusionProof, error) {
	var p InclusionProof
	switch {
	case size < 1:
		return p, apperr.Field("size", "must be at least 1")
	case seq < 1:
		return p, apperr.Field("seq", "must be at least 1")
	case seq > size:
		return p, apperr.Field("seq", "must be at most size: the tree of that size does not hold this event")
	}
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := treeLimit(tx, "size", size); err != nil {
			return err
		}
		r := &hashReader{tx: tx}
		path, err := tlog.ProveRecord(size, seq-1, r)
		if err != nil {
			return err
		}
		leaf, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, seq-1)})
		if err != nil {
			return err
		}
		root, err := tlog.TreeHash(size, r)
		if err != nil {
			return err
		}
		var ev audit.Event
		if err := tx.Select("hash").Where("seq = ?", seq).Take(&ev).Error; err != nil {
			return fmt.Errorf("auditlog: reading event %d: %w", seq, err)
		}
		p = InclusionProof{Seq: seq, LeafIndex: seq - 1, TreeSize: size, EventHash: ev.Hash, LeafHash: leaf[0], RootHash: root, Path: path}
		return nil
	})
	return p, err
}

// Consistency proves that the tree of size to extends the tree of size
// from. Errors: apperr.Invalid naming from or to, ErrNoCheckpoint.
func (l *Log) Consistency(ctx context.Context, from, to int64) (ConsistencyProof, error) {
	var p ConsistencyProof
	switch {
	case from < 1:
		return p, apperr.Field("from", "must be at least 1")
	case to < 1:
		return p, apperr.Field("to", "must be at least 1")
	case from > to:
		return p, apperr.Field("from", "must be at most to")
	}
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := treeLimit(tx, "to", to); err != nil {
			return err
		}
		r := &hashReader{tx: tx}
		path, err := tlog.ProveTree(to, from, r)
		if err != nil {
			return err
		}
		fromRoot, err := tlog.TreeHash(from, r)
		if err != nil {
			return err
		}
		toRoot, err := tlog.TreeHash(to, r)
		if err != nil {
			return err
		}
		p = ConsistencyProof{From: from, To: to, FromRoot: fromRoot, ToRoot: toRoot, Path: path}
		return nil
	})
	return p, err
}

// RootFromEvents recomputes the root of the tree of size size from the
// audit events themselves, not from the tree table, so that a rewritten
// trail shows even when the stored tree was left alone. It streams the
// events and keeps only O(log size) hashes.
func RootFromEvents(ctx context.Context, db *gorm.DB, size int64) (tlog.Hash, error) {
	roots, err := RootsFromEvents(ctx, db, []int64{size})
	if err != nil {
		return tlog.Hash{}, err
	}
	return roots[0], nil
}

// RootsFromEvents is RootFromEvents for several sizes (ascending, each at
// least 1) in one pass over the events.
func RootsFromEvents(ctx context.Context, db *gorm.DB, sizes []int64) ([]tlog.Hash, error) {
	roots := make([]tlog.Hash, 0, len(sizes))
	if len(sizes) == 0 {
		return roots, nil
	}
	var stack []tlog.Hash // roots of the complete subtrees so far, largest first
	var heights []int
	var done int64
	last := sizes[len(sizes)-1]
	for len(roots) < len(sizes) {
		if sizes[len(roots)] < 1 {
			return nil, errors.New("auditlog: an empty tree has no root here")
		}
		n := int64(extendBatchSize)
		if last-done < n {
			n = last - done
		}
		events, err := readEvents(db.WithContext(ctx), done, int(n))
		if err != nil {
			return nil, err
		}
		if len(events) == 0 {
			return nil, fmt.Errorf("auditlog: the trail has %d events, fewer than %d", done, last)
		}
		for _, ev := range events {
			if ev.Seq != done+1 {
				return nil, fmt.Errorf("auditlog: audit event %d is missing", done+1)
			}
			h, err := LeafHash(ev.Hash)
			if err != nil {
				return nil, err
			}
			height := 0
			for len(stack) > 0 && heights[len(heights)-1] == height {
				h = tlog.NodeHash(stack[len(stack)-1], h)
				stack, heights = stack[:len(stack)-1], heights[:len(heights)-1]
				height++
			}
			stack, heights = append(stack, h), append(heights, height)
			done++
			for len(roots) < len(sizes) && sizes[len(roots)] == done {
				// The root of an incomplete tree joins the complete
				// subtrees from the right (RFC 9162 section 2.1.1).
				root := stack[len(stack)-1]
				for i := len(stack) - 2; i >= 0; i-- {
					root = tlog.NodeHash(stack[i], root)
				}
				roots = append(roots, root)
			}
		}
	}
	return roots, nil
}

// InclusionProofs proves each of seqs in the tree of size size, in one
// transaction. Errors: as Inclusion.
func (l *Log) InclusionProofs(ctx context.Context, seqs []int64, size int64) ([]InclusionProof, error) {
	proofs := make([]InclusionProof, 0, len(seqs))
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := treeLimit(tx, "size", size); err != nil {
			return err
		}
		r := &hashReader{tx: tx}
		root, err := tlog.TreeHash(size, r)
		if err != nil {
			return err
		}
		for _, seq := range seqs {
			if seq < 1 || seq > size {
				return apperr.Field("seq", fmt.Sprintf("%d is not in the tree of size %d", seq, size))
			}
			path, err := tlog.ProveRecord(size, seq-1, r)
			if err != nil {
				return err
			}
			leaf, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, seq-1)})
			if err != nil {
				return err
			}
			proofs = append(proofs, InclusionProof{Seq: seq, LeafIndex: seq - 1, TreeSize: size, LeafHash: leaf[0], RootHash: root, Path: path})
		}
		return nil
	})
	return proofs, err
}
