// Package webhook tells other teams' systems of Charter's events: an
// operator registers HTTPS endpoints, each for the events it wants, and
// every event is delivered to each of them as a signed HTTP POST
// (Standard Webhooks: webhook-id, webhook-timestamp and an HMAC-SHA256
// webhook-signature), in Charter's JSON or as a Slack-compatible message.
//
// A delivery is a row written by Publish in the transaction of the change
// that causes it, one per subscribed active endpoint, so that nothing is
// sent for a change that did not commit nor lost for one that did. The
// Sender delivers the rows with the outbox's mechanism (notify.Queue:
// claim under a lease, at least once, backoff, a last attempt then
// failed), and each row keeps its status, response and error: the
// delivery log.
package webhook

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Event types. Each names what happened, dot-separated as Standard
// Webhooks suggests; operators subscribe endpoints to them.
const (
	AdvisoryPublished           = "advisory.published"
	PacketRequested             = "packet.requested"
	PacketApproved              = "packet.approved"
	DPASigned                   = "dpa.signed"
	SubprocessorChangeAnnounced = "subprocessor.change_announced"
	ObjectionReceived           = "objection.received"
	PrivacyRequestReceived      = "privacy_request.received"
	ExceptionLapsing            = "exception.lapsing"
	// Test is the event of the "send a test event" action: sent to one
	// endpoint on request, never subscribed to.
	Test = "webhook.test"
)

// EventType describes one event type for the pages and the docs.
type EventType struct {
	Type  string
	Title string // as a Slack message's heading
}

// EventTypes lists the event types an endpoint can subscribe to.
func EventTypes() []EventType {
	return []EventType{
		{AdvisoryPublished, "Security advisory published"},
		{PacketRequested, "Policy packet requested"},
		{PacketApproved, "Policy packet approved"},
		{DPASigned, "DPA signed"},
		{SubprocessorChangeAnnounced, "Sub-processor change announced"},
		{ObjectionReceived, "Objection to a sub-processor change received"},
		{PrivacyRequestReceived, "Privacy request received"},
		{ExceptionLapsing, "Policy exception lapsing"},
	}
}

func title(eventType string) string {
	if eventType == Test {
		return "Test event"
	}
	for _, t := range EventTypes() {
		if t.Type == eventType {
			return t.Title
		}
	}
	return eventType
}

func knownEvent(eventType string) bool {
	return slices.ContainsFunc(EventTypes(), func(t EventType) bool { return t.Type == eventType })
}

// Body formats.
const (
	// Standard is Charter's JSON: {"type", "timestamp", "data"}, as
	// Standard Webhooks' payload structure.
	Standard = "standard"
	// Slack is a Slack-compatible message ({"text", "blocks"}), for an
	// incoming-webhook address of Slack or a chat that reads its format.
	Slack = "slack"
)

// Delivery states; Pending is the outbox's, which notify.Queue claims.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
	// Cancelled: the endpoint was disabled or deleted before delivery.
	Cancelled = "cancelled"
)

// Endpoint is a registered webhook address.
type Endpoint struct {
	ID          int64
	URL         string `gorm:"column:url"`
	Description string
	// Events are the subscribed event types, space-separated.
	Events string
	Format string
	// SecretSealed is the signing secret encrypted under the MFA key
	// (keys.Seal); never shown after its creation.
	SecretSealed string `json:"-"`
	// PreviousSecretSealed is the secret before the last rotation, which
	// signs beside the new one until PreviousSecretUntil.
	PreviousSecretSealed string `json:"-"`
	PreviousSecretUntil  *time.Time
	Active               bool
	CreatedAt            time.Time
	UpdatedAt            time.Time
	DeletedAt            *time.Time
}

// TableName is the table of endpoints.
func (Endpoint) TableName() string { return "webhook_endpoints" }

// EventList returns the subscribed event types.
func (e *Endpoint) EventList() []string { return strings.Fields(e.Events) }

// Subscribed reports whether the endpoint wants events of eventType.
func (e *Endpoint) Subscribed(eventType string) bool {
	return slices.Contains(e.EventList(), eventType)
}

// Deleted reports whether the endpoint was deleted (its log is kept).
func (e *Endpoint) Deleted() bool { return e.DeletedAt != nil }

// Delivery is one event to deliver to one endpoint, and the log of its
// attempts.
type Delivery struct {
	ID         int64
	EndpointID int64
	// WebhookID is the webhook-id header, the same on every attempt.
	WebhookID string
	EventType string
	// Payload is the body, made once at Publish so that every attempt
	// sends the same bytes.
	Payload       string
	State         string
	Attempts      int
	LastStatus    int    // the last response's HTTP status; 0 for none
	LastError     string // why the last attempt failed
	LastResponse  string // the start of the last response's body
	NextAttemptAt time.Time
	DeliveredAt   *time.Time
	CreatedAt     time.Time
}

// TableName is the table of deliveries.
func (Delivery) TableName() string { return "webhook_deliveries" }

// Event is what a change tells the endpoints subscribed to its Type.
type Event struct {
	Type string
	// Summary is one line for people: the Slack message's text.
	Summary string
	// Link is the record in the dashboard, if any.
	Link string
	// Data is the event's object, marshalled as the body's "data".
	Data any
}

// Publish writes a delivery of ev for every active endpoint subscribed to
// ev.Type, in tx: the transaction of the change.
func Publish(tx *gorm.DB, now time.Time, ev Event) error {
	var endpoints []Endpoint
	if err := tx.Where("active = ? AND deleted_at IS NULL", true).Order("id").Find(&endpoints).Error; err != nil {
		return err
	}
	for i := range endpoints {
		if endpoints[i].Subscribed(ev.Type) {
			if err := enqueue(tx, now, &endpoints[i], ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// enqueue writes one delivery of ev to ep.
func enqueue(tx *gorm.DB, now time.Time, ep *Endpoint, ev Event) error {
	body, err := render(ep.Format, now, ev)
	if err != nil {
		return err
	}
	id, err := newWebhookID()
	if err != nil {
		return err
	}
	now = now.UTC()
	return tx.Create(&Delivery{EndpointID: ep.ID, WebhookID: id, EventType: ev.Type, Payload: string(body), State: Pending,
		NextAttemptAt: now, CreatedAt: now}).Error
}

// newWebhookID is a webhook-id: "msg_" and 128 random bits.
func newWebhookID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "msg_" + hex.EncodeToString(b[:]), nil
}

// standardBody is Standard Webhooks' payload structure.
type standardBody struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// render makes the body of ev in format.
func render(format string, now time.Time, ev Event) ([]byte, error) {
	if format == Slack {
		return json.Marshal(slackMessage(now, ev))
	}
	data := ev.Data
	if data == nil {
		data = struct{}{}
	}
	return json.Marshal(standardBody{Type: ev.Type, Timestamp: now.UTC().Format(time.RFC3339), Data: data})
}
