package exception

import (
	"fmt"
	"time"

	"github.com/charter-registry/charter/internal/webhook"
	"gorm.io/gorm"
)

// lapsingWebhook tells the webhook endpoints, in tx, that an exception is
// lapsing: once per exception, when its reminder is claimed, or when it
// lapses if it never was (approved too close to its expiry). lapsed says
// which.
func (s *Service) lapsingWebhook(tx *gorm.DB, now time.Time, e *Exception, lapsed bool) error {
	on := e.ExpiresOn.Format(time.DateOnly)
	summary := fmt.Sprintf("The exception to the %s for %s lapses on %s", e.PolicyTitle, e.Scope, on)
	if lapsed {
		summary = fmt.Sprintf("The exception to the %s for %s has lapsed (%s)", e.PolicyTitle, e.Scope, on)
	}
	return webhook.Publish(tx, now, webhook.Event{Type: webhook.ExceptionLapsing, Summary: summary, Link: s.link(e),
		Data: map[string]any{"id": e.ID, "policy": e.PolicySlug, "policy_title": e.PolicyTitle, "section": e.Section, "scope": e.Scope,
			"expires_on": on, "lapsed": lapsed, "url": s.link(e)}})
}
