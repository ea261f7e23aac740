package privacy

import (
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/webhook"
	"gorm.io/gorm"
)

// The privacy registers' webhook events. They carry the register's
// identifiers and names, not contacts' addresses nor objection texts:
// endpoints are often a team chat, and the dashboard link has the rest.

// signedWebhook tells the webhook endpoints that d became signed.
func (s *Service) signedWebhook(tx *gorm.DB, now time.Time, d *DPA) error {
	link := s.link("/app/privacy/dpas/" + strconv.FormatInt(d.ID, 10))
	return webhook.Publish(tx, now, webhook.Event{Type: webhook.DPASigned, Summary: "DPA with " + d.Counterparty + " signed",
		Link: link, Data: map[string]any{"dpa_id": d.ID, "direction": d.Direction, "counterparty": d.Counterparty, "signed_on": d.SignedOn,
			"template_version": d.TemplateVersion, "data_region": d.DataRegion, "source": d.Source, "url": link}})
}

// announcedWebhook tells the webhook endpoints of an announced
// sub-processor change.
func (s *Service) announcedWebhook(tx *gorm.DB, now time.Time, n *Notice, subject *Subprocessor) error {
	link := s.link("/app/privacy/notices/" + strconv.FormatInt(n.ID, 10))
	return webhook.Publish(tx, now, webhook.Event{Type: webhook.SubprocessorChangeAnnounced,
		Summary: "Sub-processor change announced: " + n.Change + " " + subject.Name + ", effective " + n.EffectiveOn.Format(time.DateOnly),
		Link:    link, Data: map[string]any{"notice_id": n.ID, "change": n.Change, "subprocessor_id": n.SubprocessorID, "subprocessor": subject.Name,
			"summary": n.Summary, "effective_on": n.EffectiveOn.Format(time.DateOnly), "url": link}})
}

// objectionWebhook tells the webhook endpoints of a customer's objection.
func (s *Service) objectionWebhook(tx *gorm.DB, now time.Time, o *Objection) error {
	link := s.link("/app/privacy/notices/" + strconv.FormatInt(o.NoticeID, 10))
	return webhook.Publish(tx, now, webhook.Event{Type: webhook.ObjectionReceived,
		Summary: "A customer objected to sub-processor change " + strconv.FormatInt(o.NoticeID, 10),
		Link:    link, Data: map[string]any{"objection_id": o.ID, "notice_id": o.NoticeID, "dpa_id": o.DPAID, "url": link}})
}
