// Package notifytest is an in-process SMTP server for tests: it keeps what
// it receives and refuses recipients at bounce.example.
package notifytest

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/charter-registry/charter/internal/notify"
	"github.com/emersion/go-smtp"
)

// Mailbox keeps the messages the server received.
type Mailbox struct {
	mu  sync.Mutex
	raw []string
	to  []string
}

// Raw returns the messages received, as sent on the wire.
func (m *Mailbox) Raw() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.raw...)
}

// To returns the recipient of each message received.
func (m *Mailbox) To() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.to...)
}

// For returns the messages received for addr.
func (m *Mailbox) For(addr string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for i, to := range m.to {
		if to == addr {
			out = append(out, m.raw[i])
		}
	}
	return out
}

// NewSession implements smtp.Backend.
func (m *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{m: m}, nil }

type session struct {
	m  *Mailbox
	to string
}

func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
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
	s.m.raw = append(s.m.raw, string(b))
	s.m.to = append(s.m.to, s.to)
	s.m.mu.Unlock()
	return err
}

// Start runs a mailbox on a loopback port until the test ends and returns
// the SMTP settings that reach it.
func Start(t testing.TB) (*Mailbox, notify.SMTP) {
	mb := &Mailbox{}
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
