package dsar

import (
	"time"

	"github.com/charter-registry/charter/internal/webhook"
	"gorm.io/gorm"
)

// receivedWebhook tells the webhook endpoints of a privacy request
// received (confirmed from the public form, or recorded by the team). It
// carries the reference, kind and deadline, never the requester's
// identity or details: endpoints are often a team chat.
func (s *Service) receivedWebhook(tx *gorm.DB, now time.Time, r *Request) error {
	link := s.link("/app/privacy-requests/" + r.Reference)
	return webhook.Publish(tx, now, webhook.Event{Type: webhook.PrivacyRequestReceived,
		Summary: "Privacy request " + r.Reference + " received (" + LawLabel(r.Law) + ", due " + r.Deadline().Format(time.DateOnly) + ")",
		Link:    link, Data: map[string]any{"reference": r.Reference, "law": r.Law, "type": r.RequestType, "channel": r.Channel,
			"received_at": r.ReceivedAt, "deadline": r.Deadline().Format(time.DateOnly), "url": link}})
}
