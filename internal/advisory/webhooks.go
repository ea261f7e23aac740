package advisory

import (
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/webhook"
	"gorm.io/gorm"
)

// publishedWebhook tells the webhook endpoints of a published advisory,
// in tx, the publishing transaction; the advisory is public by then, so
// the event carries it whole.
func (s *Service) publishedWebhook(tx *gorm.DB, now time.Time, a *Advisory) error {
	return webhook.Publish(tx, now, webhook.Event{Type: webhook.AdvisoryPublished,
		Summary: a.PublicID + ": " + a.Title + " (" + a.Severity + ")",
		Link:    strings.TrimRight(s.settings.BaseURL, "/") + "/trust/advisories/" + a.PublicID, Data: a})
}
