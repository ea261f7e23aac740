package webhook

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/keys"
	"gorm.io/gorm"
)

// Errors.
var (
	ErrNotFound         = apperr.New(apperr.NotFound, "no such webhook endpoint")
	ErrDeliveryNotFound = apperr.New(apperr.NotFound, "no such webhook delivery")
	ErrDeleted          = apperr.New(apperr.Conflict, "this webhook endpoint was deleted")
	ErrInactive         = apperr.New(apperr.Conflict, "this webhook endpoint is disabled: enable it first")
	ErrNotRetriable     = apperr.New(apperr.Conflict, "only a failed or cancelled delivery can be retried")
)

// Settings are the webhook settings.
type Settings struct {
	// AllowLoopback lets endpoints be on this machine (127.0.0.1, ::1,
	// localhost), over plain http too: for tests and a receiver on the
	// same host. Every other private or reserved address is refused.
	AllowLoopback bool
	// BaseURL is Charter's address, for the links in test events.
	BaseURL string
}

// Service keeps the webhook endpoints and reads their delivery logs.
type Service struct {
	db       *gorm.DB
	now      func() time.Time
	key      []byte // the MFA key, which seals signing secrets
	settings Settings
	check    *check.Validator
}

// NewService returns the webhook service on db; key is the MFA key, which
// encrypts the signing secrets at rest.
func NewService(db *gorm.DB, now func() time.Time, key []byte, settings Settings) *Service {
	return &Service{db: db, now: now, key: key, settings: settings, check: check.New()}
}

// Input is an endpoint's registration.
type Input struct {
	URL         string   `validate:"required,max=2000"`
	Description string   `validate:"max=200"`
	Events      []string `validate:"required"`
	Format      string   `validate:"required,oneof=standard slack"`
}

func (s *Service) validate(in *Input) error {
	in.URL, in.Description = strings.TrimSpace(in.URL), strings.TrimSpace(in.Description)
	errs := s.check.Struct(in)
	if !errs.Has("url") {
		if p := urlProblem(in.URL, s.settings.AllowLoopback); p != "" {
			errs.Add("url", p)
		}
	}
	for _, ev := range in.Events {
		if !knownEvent(ev) {
			errs.Add("events", "has "+strconv.Quote(ev)+", which is not an event type")
		}
	}
	if len(in.Events) == 0 && !errs.Has("events") {
		errs.Add("events", "choose at least one event")
	}
	return errs.Err()
}

// Created is a new endpoint and its signing secret, shown this once.
type Created struct {
	Endpoint Endpoint
	Secret   string
}

// Create registers an endpoint, active, with a new signing secret.
// Errors: apperr.Invalid.
func (s *Service) Create(ctx context.Context, by audit.Actor, in Input) (*Created, error) {
	if err := s.validate(&in); err != nil {
		return nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	sealed, err := keys.Seal(s.key, secret, sealLabel)
	if err != nil {
		return nil, err
	}
	events := slices.Clone(in.Events)
	slices.Sort(events)
	events = slices.Compact(events)
	now := s.now().UTC()
	ep := Endpoint{URL: in.URL, Description: in.Description, Events: strings.Join(events, " "), Format: in.Format,
		SecretSealed: sealed, Active: true, CreatedAt: now, UpdatedAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&ep).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "webhook.created", ObjectType: "webhook", ObjectID: strconv.FormatInt(ep.ID, 10), After: ep})
	})
	if err != nil {
		return nil, err
	}
	return &Created{Endpoint: ep, Secret: secret}, nil
}

// List returns every endpoint, deleted ones last.
func (s *Service) List(ctx context.Context) ([]Endpoint, error) {
	var out []Endpoint
	return out, s.db.WithContext(ctx).Order("deleted_at IS NOT NULL, id").Find(&out).Error
}

// Get returns an endpoint, deleted or not. Errors: ErrNotFound.
func (s *Service) Get(ctx context.Context, id int64) (*Endpoint, error) {
	var ep Endpoint
	if err := s.db.WithContext(ctx).First(&ep, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return &ep, nil
}

// change runs fn on the endpoint id inside one transaction and appends
// the audit event action with the endpoint before and after.
func (s *Service) change(ctx context.Context, by audit.Actor, id int64, action string, fn func(tx *gorm.DB, ep *Endpoint) error) (*Endpoint, error) {
	var ep Endpoint
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&ep, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if ep.Deleted() {
			return ErrDeleted
		}
		before := ep
		ep.UpdatedAt = s.now().UTC()
		if err := fn(tx, &ep); err != nil {
			return err
		}
		if err := tx.Save(&ep).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: ep.UpdatedAt, Action: action, ObjectType: "webhook", ObjectID: strconv.FormatInt(id, 10),
			Before: before, After: ep})
	})
	if err != nil {
		return nil, err
	}
	return &ep, nil
}

// cancelPending stops the deliveries still waiting for an endpoint that
// is being disabled or deleted; they stay in its log.
func cancelPending(tx *gorm.DB, id int64, why string) error {
	return tx.Model(&Delivery{}).Where("endpoint_id = ? AND state = ?", id, Pending).
		Updates(map[string]any{"state": Cancelled, "last_error": why}).Error
}

// SetActive enables or disables an endpoint; disabling it cancels its
// waiting deliveries. Errors: ErrNotFound, ErrDeleted.
func (s *Service) SetActive(ctx context.Context, by audit.Actor, id int64, active bool) (*Endpoint, error) {
	if active {
		return s.change(ctx, by, id, "webhook.enabled", func(_ *gorm.DB, ep *Endpoint) error {
			ep.Active = true
			return nil
		})
	}
	return s.change(ctx, by, id, "webhook.disabled", func(tx *gorm.DB, ep *Endpoint) error {
		ep.Active = false
		return cancelPending(tx, id, "the endpoint was disabled")
	})
}

// endpointSaidGone is why an endpoint that answered 410 Gone was disabled,
// in its deliveries' log.
const endpointSaidGone = "the endpoint answered 410 Gone: it was disabled"

// disableGone disables an endpoint that answered 410 Gone, as the Standard
// Webhooks specification asks, and cancels its waiting deliveries.
// Errors: ErrNotFound, ErrDeleted.
func (s *Service) disableGone(ctx context.Context, id int64) error {
	_, err := s.change(ctx, audit.System("system:webhooks"), id, "webhook.disabled", func(tx *gorm.DB, ep *Endpoint) error {
		ep.Active = false
		return cancelPending(tx, id, endpointSaidGone)
	})
	return err
}

// Delete deletes an endpoint: it receives nothing more, its waiting
// deliveries are cancelled, and its delivery log is kept. Errors:
// ErrNotFound, ErrDeleted.
func (s *Service) Delete(ctx context.Context, by audit.Actor, id int64) (*Endpoint, error) {
	return s.change(ctx, by, id, "webhook.deleted", func(tx *gorm.DB, ep *Endpoint) error {
		at := ep.UpdatedAt
		ep.Active, ep.DeletedAt = false, &at
		return cancelPending(tx, id, "the endpoint was deleted")
	})
}

// SecretOverlap is how long the previous secret still signs after a
// rotation (each delivery then carries two signatures), so that the
// receiver can switch to the new secret without refusing deliveries.
const SecretOverlap = 24 * time.Hour

// RotateSecret gives an endpoint a new signing secret, returned this once;
// the old one signs beside it for SecretOverlap. Errors: ErrNotFound,
// ErrDeleted.
func (s *Service) RotateSecret(ctx context.Context, by audit.Actor, id int64) (*Created, error) {
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	sealed, err := keys.Seal(s.key, secret, sealLabel)
	if err != nil {
		return nil, err
	}
	ep, err := s.change(ctx, by, id, "webhook.secret_rotated", func(_ *gorm.DB, ep *Endpoint) error {
		until := ep.UpdatedAt.Add(SecretOverlap)
		ep.PreviousSecretSealed, ep.PreviousSecretUntil, ep.SecretSealed = ep.SecretSealed, &until, sealed
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Created{Endpoint: *ep, Secret: secret}, nil
}

// SendTest queues a test event to one endpoint, whatever its events.
// Errors: ErrNotFound, ErrDeleted, ErrInactive.
func (s *Service) SendTest(ctx context.Context, by audit.Actor, id int64) (*Delivery, error) {
	var d Delivery
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ep Endpoint
		if err := tx.First(&ep, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if ep.Deleted() {
			return ErrDeleted
		}
		if !ep.Active {
			return ErrInactive
		}
		now := s.now().UTC()
		ev := Event{Type: Test, Summary: "A test event from Charter: this endpoint receives and verifies webhooks.",
			Link: strings.TrimRight(s.settings.BaseURL, "/") + "/app/webhooks/" + strconv.FormatInt(id, 10),
			Data: map[string]any{"endpoint_id": id}}
		if err := enqueue(tx, now, &ep, ev); err != nil {
			return err
		}
		if err := tx.Where("endpoint_id = ?", id).Order("id DESC").First(&d).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "webhook.test_sent", ObjectType: "webhook", ObjectID: strconv.FormatInt(id, 10),
			After: map[string]string{"webhook_id": d.WebhookID}})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Deliveries returns an endpoint's deliveries, newest first: limit of
// them (200 when not positive) after the first offset.
func (s *Service) Deliveries(ctx context.Context, endpointID int64, offset, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 200
	}
	var out []Delivery
	return out, s.db.WithContext(ctx).Where("endpoint_id = ?", endpointID).Order("id DESC").Offset(offset).Limit(limit).Find(&out).Error
}

// Counts returns the number of deliveries in each state, for /metrics.
func (s *Service) Counts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	err := s.db.WithContext(ctx).Model(&Delivery{}).Select("state, COUNT(*) AS n").Group("state").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, err
}

// Retry makes a failed or cancelled delivery due again now, with its
// webhook-id, for one more attempt. Errors: ErrDeliveryNotFound,
// ErrNotRetriable, ErrDeleted, ErrInactive.
func (s *Service) Retry(ctx context.Context, by audit.Actor, endpointID, deliveryID int64) (*Delivery, error) {
	var d Delivery
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("endpoint_id = ?", endpointID).First(&d, deliveryID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrDeliveryNotFound
		} else if err != nil {
			return err
		}
		var ep Endpoint
		if err := tx.First(&ep, endpointID).Error; err != nil {
			return err
		}
		switch {
		case ep.Deleted():
			return ErrDeleted
		case !ep.Active:
			return ErrInactive
		case d.State != Failed && d.State != Cancelled:
			return ErrNotRetriable
		}
		now := s.now().UTC()
		before := d.State
		d.State, d.NextAttemptAt = Pending, now
		if err := tx.Model(&Delivery{}).Where("id = ?", d.ID).Updates(map[string]any{"state": Pending, "next_attempt_at": now}).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "webhook.delivery_retried", ObjectType: "webhook", ObjectID: strconv.FormatInt(endpointID, 10),
			Before: map[string]string{"webhook_id": d.WebhookID, "state": before}, After: map[string]string{"webhook_id": d.WebhookID, "state": Pending}})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Reseal re-encrypts every endpoint's signing secret under newKey in tx,
// the transaction that rotates the MFA key (charter keys rotate-mfa).
func (s *Service) Reseal(tx *gorm.DB, newKey []byte) (int, error) {
	var eps []Endpoint
	if err := tx.Select("id", "secret_sealed", "previous_secret_sealed").Order("id").Find(&eps).Error; err != nil {
		return 0, err
	}
	reseal := func(id int64, sealed string) (string, error) {
		if sealed == "" {
			return "", nil
		}
		secret, err := keys.Open(s.key, sealed, sealLabel)
		if err != nil {
			return "", errors.New("webhook endpoint " + strconv.FormatInt(id, 10) + "'s secret does not open with the current MFA key")
		}
		return keys.Seal(newKey, secret, sealLabel)
	}
	for _, ep := range eps {
		current, err := reseal(ep.ID, ep.SecretSealed)
		if err != nil {
			return 0, err
		}
		previous, err := reseal(ep.ID, ep.PreviousSecretSealed)
		if err != nil {
			return 0, err
		}
		if err := tx.Model(&Endpoint{}).Where("id = ?", ep.ID).
			Updates(map[string]any{"secret_sealed": current, "previous_secret_sealed": previous}).Error; err != nil {
			return 0, err
		}
	}
	return len(eps), nil
}
