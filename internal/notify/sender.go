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

// queue is the outbox's share of the delivery mechanism.
func (s *Sender) queue() Queue[Message] {
	return Queue[Message]{DB: s.db, Now: s.now, Lease: s.lease}
}

// claim reserves up to claimBatch due messages for this instance.
func (s *Sender) claim(ctx context.Context) ([]Message, error) {
	return s.queue().Claim(ctx, claimBatch)
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
				update["next_attempt_at"] = now.Add(Backoff(m.Attempts))
			}
			s.log.Warn("email not delivered", "message_id", m.MessageID, "attempt", m.Attempts, "error", derr)
		}
		if err := s.queue().Finish(ctx, m.ID, m.Attempts, derr == nil, update); err != nil {
			return sent, failed, fmt.Errorf("recording delivery of %s: %w", m.MessageID, err)
		}
	}
	return sent, failed, nil
}

// renew moves the lease of a message this sender claimed forward, and
// reports false when the claim was lost.
func (s *Sender) renew(ctx context.Context, m *Message) (bool, error) {
	return s.queue().Renew(ctx, m.ID, m.Attempts)
}

// deliverHoldingLease delivers m while renewing its claim, so a slow mail
// server does not let another instance send it a second time.
func (s *Sender) deliverHoldingLease(ctx context.Context, m *Message) error {
	return s.queue().Hold(ctx, m.ID, m.Attempts, func() error { return s.deliver(ctx, m) }, func(err error) {
		s.log.Warn("lost the claim on an email in flight", "message_id", m.MessageID, "error", err)
	})
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
