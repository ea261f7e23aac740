// Package packettest issues a packet the way a customer and the team would,
// for tests and benchmarks that need one to download.
package packettest

import (
	"context"
	"regexp"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/packet"
	"gorm.io/gorm"
)

var (
	confirmLink = regexp.MustCompile(`/trust/request/confirm/([A-Za-z0-9_-]{43})`)
	packetLink  = regexp.MustCompile(`/p/[A-Za-z0-9_-]{43}`)
)

// Issue requests every policy for email, confirms the address, approves
// the request for 30 days and accepts the NDA on the link, reading the
// links from the outbox; it returns the link's path (/p/TOKEN).
func Issue(tb testing.TB, svc *packet.Service, db *gorm.DB, email string) string {
	tb.Helper()
	id := Request(tb, svc, db, email)
	if _, err := svc.Approve(context.Background(), audit.System("test"), id, packet.Decision{ExpiryDays: 30}); err != nil {
		tb.Fatal(err)
	}
	return Accept(tb, svc, db, email)
}

// lastBody is the body of the newest email to addr (of kind, when given).
func lastBody(tb testing.TB, db *gorm.DB, addr, kind string) string {
	q := db.Where("to_addr = ?", addr)
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	var m notify.Message
	if err := q.Order("id DESC").Take(&m).Error; err != nil {
		tb.Fatalf("no email to %s: %v", addr, err)
	}
	return m.Body
}
