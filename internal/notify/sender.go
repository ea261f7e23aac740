package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	mail "github.com/wneessen/go-mail"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SMTP is how the sender reaches the mail server.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS is "starttls" (required), "tls" (implicit, usually port 465) or
	// "none" (only for a relay on a trusted network).
	TLS string
}

// Delivery policy.
const (
	// MaxAttempts: after this many failed attempts a message is marked failed.
	MaxAttempts = 8
	// DefaultLease is how long a claimed message is reserved for the
	// instance sending it unless WithLease says otherwise. The sender
	// renews the lease of the message in flight, so a slow delivery keeps
	// it; if the instance dies, another sends it after the lease: the one
	// message in flight at the kill may then arrive twice, with the same
	// Message-ID, and the others of its batch wait out one lease at most.
	DefaultLease = 30 * time.Second
	claimBatch   = 20
)

// backoff is the wait after the n-th failed attempt: 1, 2, 4 … minutes,
// at most an hour.
func backoff(n int) time.Duration {
	d := time.Minute << (n - 1)
	if n > 7 || d > time.Hour {
		return time.Hour
	}
	return d
}

// DeliverFunc sends one message.
type DeliverFunc func(ctx context.Context, m *Message) error

// Sender delivers pending outbox rows.
type Sender struct {
	db      *gorm.DB
	now     func() time.Time
	log     *slog.Logger
	deliver DeliverFunc
	// attachments opens the files that messages carry; nil until
	// AttachFrom is called.
	attachments AttachmentOpener
	lease       time.Duration
}

// AttachmentOpener opens a file of the file store by its SHA-256.
type AttachmentOpener func(sha256 string) (io.ReadCloser, error)

// NewSender returns a sender delivering over SMTP.
func NewSender(db *gorm.DB, now func() time.Time, log *slog.Logger, cfg SMTP) *Sender {
	s := &Sender{db: db, now: now, log: log, lease: DefaultLease}
	s.deliver = smtpDeliver(cfg, s.openAttachment)
	return s
}

// AttachFrom makes the sender read attachments with open (the file
// store's); without it a message with an attachment fails and is retried.
func (s *Sender) AttachFrom(open AttachmentOpener) *Sender {
	s.attachments = open
	return s
}

// WithLease sets how long a claimed message stays reserved without
// renewal: after it, a dead sender's messages go out from another instance.
func (s *Sender) WithLease(lease time.Duration) *Sender {
	s.lease = lease
	return s
}

func (s *Sender) openAttachment(sum string) (io.ReadCloser, error) {
	if s.attachments == nil {
		return nil, errors.New("this sender has no file store to read attachments from")
	}
	return s.attachments(sum)
}

func smtpDeliver(cfg SMTP, open AttachmentOpener) DeliverFunc {
	return func(ctx context.Context, m *Message) error {
		opts := []mail.Option{mail.WithPort(cfg.Port), mail.WithTimeout(30 * time.Second)}
		switch cfg.TLS {
		case "tls":
			opts = append(opts, mail.WithSSL())
		case "none":
			opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		default:
			opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
		}
		if cfg.Username != "" {
			opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
		}
		client, err := mail.NewClient(cfg.Host, opts...)
		if err != nil {
			return err
		}
		msg := mail.NewMsg()
		if err := msg.From(cfg.From); err != nil {
			return fmt.Errorf("from address: %w", err)
		}
		if err := msg.To(m.ToAddr); err != nil {
			return fmt.Errorf("recipient: %w", err)
		}
		msg.Subject(m.Subject)
		msg.SetMessageIDWithValue(trimAngles(m.MessageID))
		msg.SetDateWithValue(m.CreatedAt)
		if m.ListUnsubscribe != "" {
			msg.SetGenHeader(mail.HeaderListUnsubscribe, "<"+m.ListUnsubscribe+">")
			msg.SetGenHeader(mail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
		}
		msg.SetBodyString(mail.TypeTextPlain, m.Body)
		if m.AttachmentSHA256 != "" {
			f, err := open(m.AttachmentSHA256)
			if err != nil {
				return fmt.Errorf("attachment %s: %w", m.AttachmentName, err)
			}
			defer f.Close()
			if err := msg.AttachReader(m.AttachmentName, f); err != nil {
				return fmt.Errorf("attachment %s: %w", m.AttachmentName, err)
			}
		}
		return client.DialAndSendWithContext(ctx, msg)
	}
}

func trimAngles(id string) string {
	if len(id) >= 2 && id[0] == '<' && id[len(id)-1] == '>' {
		return id[1 : len(id)-1]
	}
	return id
}

// claim reserves up to claimBatch due messages for this instance.
func (s *Sender) claim(ctx context.Context) ([]Message, error) {
	var due []Message
	now := s.now().UTC()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// SKIP LOCKED lets several instances claim different rows at once on
		// PostgreSQL; SQLite's driver drops the clause (writes are serial).
		err := tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
			Where("state = ? AND next_attempt_at <= ?", Pending, now).Order("id").Limit(claimBatch).Find(&due).Error
		if err != nil || len(due) == 0 {
			return err
		}
		ids := make([]int64, len(due))
		for i := range due {
			ids[i] = due[i].ID
			due[i].Attempts++
		}
		return tx.Model(&Message{}).Where("id IN ?", ids).
			Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "next_attempt_at": now.Add(s.lease)}).Error
	})
	return due, err
}

// SendDue delivers the messages that are due now and records each
// outcome. It returns how many were sent and how many attempts failed.
func (s *Sender) SendDue(ctx context.Context) (sent, failed int, err error) {
	due, err := s.claim(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("claiming outbox messages: %w", err)
	}
	for i := range due {
		m := &due[i]
		held, err := s.renew(ctx, m)
		if err != nil {
			return sent, failed, fmt.Errorf("renewing the claim on %s: %w", m.MessageID, err)
		}
		if !held {
			// This sender stalled past the lease on an earlier message
			// and another instance took this one over.
			continue
		}
		derr := s.deliverHoldingLease(ctx, m)
		now := s.now().UTC()
		update := map[string]any{}
		if derr == nil {
			sent++
			update["state"], update["sent_at"], update["last_error"] = Sent, now, ""
		} else {
			failed++
			update["last_error"] = truncate(derr.Error(), 500)
			if m.Attempts >= MaxAttempts {
				update["state"] = Failed
			} else {
				update["next_attempt_at"] = now.Add(backoff(m.Attempts))
			}
			s.log.Warn("email not delivered", "message_id", m.MessageID, "attempt", m.Attempts, "error", derr)
		}
		mine := s.db.WithContext(ctx).Model(&Message{}).Where("id = ? AND state = ?", m.ID, Pending)
		if derr != nil {
			// A failure is recorded only under this sender's own claim:
			// if another instance took the message over, its outcome counts.
			mine = mine.Where("attempts = ?", m.Attempts)
		}
		if err := mine.Updates(update).Error; err != nil {
			return sent, failed, fmt.Errorf("recording delivery of %s: %w", m.MessageID, err)
		}
	}
	return sent, failed, nil
}

// renew moves the lease of a message this sender claimed forward, and
// reports false when the claim was lost: the attempt count, raised by each
// claim, tells whether the row is still this sender's.
func (s *Sender) renew(ctx context.Context, m *Message) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Message{}).
		Where("id = ? AND state = ? AND attempts = ?", m.ID, Pending, m.Attempts).
		Update("next_attempt_at", s.now().UTC().Add(s.lease))
	return res.RowsAffected == 1, res.Error
}

// deliverHoldingLease delivers m while renewing its claim every third of
// the lease, so a slow mail server does not let another instance send it
// a second time.
func (s *Sender) deliverHoldingLease(ctx context.Context, m *Message) error {
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(s.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if held, err := s.renew(ctx, m); err != nil || !held {
					s.log.Warn("lost the claim on an email in flight", "message_id", m.MessageID, "error", err)
					return
				}
			}
		}
	}()
	defer func() { close(done); <-renewed }()
	return s.deliver(ctx, m)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Run delivers due messages every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("outbox sender", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
