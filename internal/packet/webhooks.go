package packet

import (
	"fmt"
	"time"

	"github.com/charter-registry/charter/internal/webhook"
	"gorm.io/gorm"
)

// The webhook events of the packet flow carry the request's or packet's
// identifiers and the requester's company, not the requester's name or
// address: endpoints are often a team chat, and the dashboard link has
// the rest for those who may read it.

// requestedWebhook tells the webhook endpoints of a confirmed request.
func (s *Service) requestedWebhook(tx *gorm.DB, now time.Time, r *Request) error {
	link := s.link(fmt.Sprintf("/app/packets/requests/%d", r.ID))
	return webhook.Publish(tx, now, webhook.Event{Type: webhook.PacketRequested, Summary: r.Company + " asked for the policy packet",
		Link: link, Data: map[string]any{"request_id": r.ID, "company": r.Company, "confirmed_at": r.ConfirmedAt, "url": link}})
}

// approvedWebhook tells the webhook endpoints of a packet issued for an
// approved request.
func (s *Service) approvedWebhook(tx *gorm.DB, now time.Time, r *Request, p *Packet, auto bool) error {
	link := s.link("/app/packets/" + p.PublicID)
	how := "approved"
	if auto {
		how = "approved automatically"
	}
	return webhook.Publish(tx, now, webhook.Event{Type: webhook.PacketApproved, Summary: "Policy packet " + p.PublicID + " for " + r.Company + " " + how,
		Link: link, Data: map[string]any{"packet_id": p.PublicID, "request_id": r.ID, "company": r.Company, "auto_approved": auto,
			"issued_at": p.IssuedAt, "expires_at": p.ExpiresAt, "url": link}})
}
