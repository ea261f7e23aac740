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
	ctx := context.Background()
	from := audit.Actor{Label: "anonymous", IP: "203.0.113.5"}
	if _, err := svc.Submit(ctx, from, packet.RequestInput{Name: "Dana Reviewer", Email: email, Company: "Customer Ltd",
		NDAVersion: 1, AcceptNDA: true}); err != nil {
		tb.Fatal(err)
	}
	confirm := confirmLink.FindStringSubmatch(lastBody(tb, db, email, ""))
	if confirm == nil {
		tb.Fatalf("no confirmation link in the email to %s", email)
	}
	r, _, err := svc.Confirm(ctx, from, confirm[1])
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.Approve(ctx, audit.System("test"), r.ID, packet.Decision{ExpiryDays: 30}); err != nil {
		tb.Fatal(err)
	}
	link := packetLink.FindString(lastBody(tb, db, email, "packet_approved"))
	if link == "" {
		tb.Fatalf("no packet link in the approval email to %s", email)
	}
	if err := svc.AcceptNDA(ctx, from, link[len("/p/"):], 1, true); err != nil {
		tb.Fatal(err)
	}
	return link
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
