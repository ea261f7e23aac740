package notify_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/emersion/go-smtp"
	"gorm.io/gorm"
)

// mailbox is an in-process SMTP server that keeps what it receives and
// refuses recipients at bounce.example.
type mailbox struct {
	mu       sync.Mutex
	received []string // raw messages
	to       []string
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{m: m}, nil }

type session struct {
	m  *mailbox
	to string
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error {
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasSuffix(to, "@bounce.example") {
		return &smtp.SMTPError{Code: 550, Message: "no such mailbox"}
	}
	s.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.m.mu.Lock()
	s.m.received = append(s.m.received, string(b))
	s.m.to = append(s.m.to, s.to)
	s.m.mu.Unlock()
	return err
}

func startMailbox(t *testing.T) (*mailbox, notify.SMTP) {
	mb := &mailbox{}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	port, _ := strconv.Atoi(strings.Split(l.Addr().String(), ":")[1])
	return mb, notify.SMTP{Host: "127.0.0.1", Port: port, From: "charter@example.com", TLS: "none"}
}

func enqueue(t *testing.T, db *gorm.DB, now time.Time, to string) *notify.Message {
	var m *notify.Message
	err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		m, err = notify.Enqueue(tx, now, "charter.test", notify.Email{Kind: "test", To: to, Subject: "Hello", Body: "Line one.\nLine two.\n"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSenderDeliversRetriesAndGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mb, cfg := startMailbox(t)
		clock := time.Now().UTC()
		now := func() time.Time { return clock }
		s := notify.NewSender(st.DB, now, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)

		good := enqueue(t, st.DB, clock, "ana@example.com")
		bad := enqueue(t, st.DB, clock, "gone@bounce.example")
		sent, failed, err := s.SendDue(ctx)
		if err != nil || sent != 1 || failed != 1 {
			t.Fatalf("first pass: sent %d failed %d: %v", sent, failed, err)
		}
		if len(mb.received) != 1 || mb.to[0] != "ana@example.com" || !strings.Contains(mb.received[0], "Message-ID: "+good.MessageID) ||
			!strings.Contains(mb.received[0], "Subject: Hello") || !strings.Contains(mb.received[0], "Line two.") {
			t.Fatalf("received: %q", mb.received)
		}
		var g, b notify.Message
		st.DB.First(&g, good.ID)
		st.DB.First(&b, bad.ID)
		if g.State != notify.Sent || g.SentAt == nil || g.Attempts != 1 {
			t.Fatalf("delivered message: %+v", g)
		}
		if b.State != notify.Pending || b.Attempts != 1 || !strings.Contains(b.LastError, "550") || !b.NextAttemptAt.After(clock) {
			t.Fatalf("bounced message: %+v", b)
		}
		// Nothing is due until the backoff has passed; nothing is sent twice.
		if sent, failed, _ := s.SendDue(ctx); sent+failed != 0 {
			t.Fatalf("second pass: sent %d failed %d", sent, failed)
		}
		for i := 2; i <= notify.MaxAttempts; i++ {
			clock = clock.Add(2 * time.Hour)
			s.SendDue(ctx)
		}
		st.DB.First(&b, bad.ID)
		if b.State != notify.Failed || b.Attempts != notify.MaxAttempts {
			t.Fatalf("after %d attempts: %+v", notify.MaxAttempts, b)
		}
		if len(mb.received) != 1 {
			t.Fatalf("%d messages delivered, want 1", len(mb.received))
		}
	})
}

func TestConcurrentSendersDeliverEachMessageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		mb, cfg := startMailbox(t)
		clock := time.Now().UTC()
		for i := 0; i < 30; i++ {
			enqueue(t, st.DB, clock, "p"+strconv.Itoa(i)+"@example.com")
		}
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := notify.NewSender(st.DB, func() time.Time { return clock }, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
				for j := 0; j < 3; j++ {
					if _, _, err := s.SendDue(context.Background()); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		for _, to := range mb.to {
			seen[to]++
		}
		if len(mb.received) != 30 || len(seen) != 30 {
			t.Fatalf("%d deliveries to %d addresses, want 30 and 30", len(mb.received), len(seen))
		}
	})
}
