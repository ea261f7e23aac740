package packettest

import (
	"context"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/packet"
	"gorm.io/gorm"
)

// Request requests every policy for email and confirms the address,
// reading the link from the outbox; it returns the pending request's ID,
// for tests that approve it their own way.
func Request(tb testing.TB, svc *packet.Service, db *gorm.DB, email string) int64 {
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
	return r.ID
}

// Accept reads the packet link from the newest approval email to email
// and accepts the NDA on it; it returns the link's path (/p/TOKEN).
func Accept(tb testing.TB, svc *packet.Service, db *gorm.DB, email string) string {
	tb.Helper()
	link := packetLink.FindString(lastBody(tb, db, email, "packet_approved"))
	if link == "" {
		tb.Fatalf("no packet link in the approval email to %s", email)
	}
	if err := svc.AcceptNDA(context.Background(), audit.Actor{Label: "anonymous", IP: "203.0.113.5"}, link[len("/p/"):], 1, true); err != nil {
		tb.Fatal(err)
	}
	return link
}
