package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/charter-registry/charter/internal/apperr"
)

// chunkSize is the most of a file one row holds. Written and read a chunk
// at a time, a 25 MB report never needs more than a chunk or two in
// memory, and no row nears a driver's or a backup tool's limits.
const chunkSize = 1 << 20

// storedFile is a file's row; its content is in fileChunk rows.
type storedFile struct {
	SHA256      string `gorm:"column:sha256;primaryKey"`
	Kind        string
	ContentType string
	Size        int64
	Chunks      int
	CreatedAt   time.Time
}

func (storedFile) TableName() string { return "files" }

// fileChunk is the seq-th chunkSize bytes of a file.
type fileChunk struct {
	SHA256 string `gorm:"column:sha256;primaryKey"`
	Seq    int    `gorm:"primaryKey"`
	Data   []byte
}

func (fileChunk) TableName() string { return "file_chunks" }

// Database keeps files in the database Charter runs on: SQLite's BLOBs or
// PostgreSQL's bytea, in chunks.
type Database struct{ db *gorm.DB }

// InDatabase returns a store keeping its files in db.
func InDatabase(db *gorm.DB) *Store { return New(&Database{db: db}) }

// Has reports whether the file is stored.
func (d *Database) Has(ctx context.Context, sum string) (bool, error) {
	var n int64
	err := d.db.WithContext(ctx).Model(&storedFile{}).Where("sha256 = ?", sum).Count(&n).Error
	return n > 0, err
}

// Write stores f in one transaction, a chunk at a time, and checks what
// it read against f's SHA-256 and size before committing: the file row
// and its chunks appear together or not at all. When the row exists
// already (a concurrent upload of the same content committed first) it
// leaves everything as it is.
func (d *Database) Write(ctx context.Context, f File, kind string, content io.Reader) error {
	chunks := int((f.Size + chunkSize - 1) / chunkSize)
	return d.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&storedFile{SHA256: f.SHA256, Kind: kind, ContentType: f.ContentType, Size: f.Size, Chunks: chunks})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		h := sha256.New()
		buf := make([]byte, chunkSize)
		var total int64
		for seq := range chunks {
			n, err := io.ReadFull(content, buf)
			if err != nil && !(errors.Is(err, io.ErrUnexpectedEOF) && seq == chunks-1) {
				return fmt.Errorf("reading chunk %d: %w", seq, err)
			}
			h.Write(buf[:n])
			total += int64(n)
			if err := tx.Create(&fileChunk{SHA256: f.SHA256, Seq: seq, Data: buf[:n]}).Error; err != nil {
				return err
			}
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 || total != f.Size {
			return fmt.Errorf("content changed while stored: %d bytes with SHA-256 %s", total, got)
		}
		return nil
	})
}

// Open returns a reader that loads the file a chunk at a time.
func (d *Database) Open(ctx context.Context, sum string) (Content, error) {
	var f storedFile
	err := d.db.WithContext(ctx).Where("sha256 = ?", sum).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such file")
	}
	if err != nil {
		return nil, err
	}
	return &chunkReader{db: d.db.WithContext(ctx), file: f, loaded: -1}, nil
}

// chunkReader reads a stored file's chunks as they are reached. A file's
// rows never change once written, so reading them in several queries
// sees one content.
type chunkReader struct {
	db     *gorm.DB
	file   storedFile
	off    int64
	loaded int // the seq of chunk, -1 for none
	chunk  []byte
}

func (r *chunkReader) Size() int64 { return r.file.Size }

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.off >= r.file.Size {
		return 0, io.EOF
	}
	seq := int(r.off / chunkSize)
	if seq != r.loaded {
		var c fileChunk
		if err := r.db.Where("sha256 = ? AND seq = ?", r.file.SHA256, seq).Take(&c).Error; err != nil {
			return 0, fmt.Errorf("reading file %s, chunk %d: %w", r.file.SHA256, seq, err)
		}
		r.chunk, r.loaded = c.Data, seq
	}
	at := r.off - int64(seq)*chunkSize
	if at >= int64(len(r.chunk)) {
		return 0, fmt.Errorf("file %s: chunk %d is short", r.file.SHA256, seq)
	}
	n := copy(p, r.chunk[at:])
	r.off += int64(n)
	return n, nil
}

func (r *chunkReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.file.Size
	}
	if offset < 0 {
		return 0, errors.New("seek before the start of the file")
	}
	r.off = offset
	return offset, nil
}

func (r *chunkReader) Close() error {
	r.chunk = nil
	return nil
}
