// Package notify is Charter's outbox: every email is a row written in the
// same transaction as the change that causes it, so that a message is
// never sent for a change that did not commit, nor lost for one that did.
// A sender delivers pending rows; with no SMTP configured they wait, and
// the team reads them at /app/outbox.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Message states.
const (
	Pending = "pending"
	Sent    = "sent"
	Failed  = "failed"
)

// Message is one email in the outbox.
type Message struct {
	ID        int64
	MessageID string // the Message-ID header: unique, so a row is sent at most once
	Kind      string // what caused it, e.g. "ack_link"
	ToAddr    string
	Subject   string
	Body      string
	// ListUnsubscribe is a one-click unsubscribe URL (RFC 8058), if any.
	ListUnsubscribe string
	State           string
	Attempts        int
	LastError       string
	NextAttemptAt   time.Time
	SentAt          *time.Time
	CreatedAt       time.Time

	// AttachmentSHA256 and AttachmentName name a file of the file store
	// sent with the email ("" for none): the row keeps the reference, not
	// the bytes, so the outbox stays small.
	AttachmentSHA256 string `gorm:"column:attachment_sha256"`
	AttachmentName   string
}

// TableName is the outbox table.
func (Message) TableName() string { return "outbox" }

// Email is what a caller asks to send.
type Email struct {
	Kind    string
	To      string
	Subject string
	Body    string
	// ListUnsubscribe, when set, is sent as List-Unsubscribe with
	// List-Unsubscribe-Post, so mail clients offer one-click unsubscribe.
	ListUnsubscribe string
	// Attachment, when its SHA256 is set, is a file of the file store sent
	// with the email.
	Attachment Attachment
}

// Attachment is a file of the file store (internal/files), by its SHA-256,
// and the name the recipient sees.
type Attachment struct {
	SHA256 string
	Name   string
}

// Enqueue writes the email in tx, the caller's transaction.
func Enqueue(tx *gorm.DB, now time.Time, domain string, e Email) (*Message, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	m := Message{MessageID: "<" + hex.EncodeToString(b[:]) + "@" + domain + ">", Kind: e.Kind, ToAddr: e.To,
		Subject: e.Subject, Body: e.Body, ListUnsubscribe: e.ListUnsubscribe, State: Pending, NextAttemptAt: now, CreatedAt: now,
		AttachmentSHA256: e.Attachment.SHA256, AttachmentName: e.Attachment.Name}
	return &m, tx.Create(&m).Error
}

// Outbox reads the outbox.
type Outbox struct{ db *gorm.DB }

// NewOutbox returns an Outbox on db.
func NewOutbox(db *gorm.DB) *Outbox { return &Outbox{db: db} }

// Filter selects messages.
type Filter struct {
	State string // "" for all
	To    string // part of the address
	Limit int
}

// List returns messages, newest first.
func (o *Outbox) List(ctx context.Context, f Filter) ([]Message, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q := o.db.WithContext(ctx).Order("id DESC").Limit(f.Limit)
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.To != "" {
		q = q.Where("to_addr LIKE ? ESCAPE '\\'", "%"+store.EscapeLike(strings.ToLower(f.To))+"%")
	}
	var out []Message
	return out, q.Find(&out).Error
}

// Counts returns the number of messages in each state.
func (o *Outbox) Counts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	err := o.db.WithContext(ctx).Model(&Message{}).Select("state, COUNT(*) AS n").Group("state").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, err
}
