package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/keys"
	"github.com/charter-registry/charter/internal/notify"
	"gorm.io/gorm"
)

// Delivery policy.
const (
	// MaxAttempts: after this many failed attempts a delivery is failed
	// (about two hours of retries with notify.Backoff).
	MaxAttempts = 8
	// RequestTimeout bounds one attempt, from connecting to the end of
	// the response.
	RequestTimeout = 10 * time.Second
	// responseKept is how much of a response body the log keeps.
	responseKept = 1024
	claimBatch   = 20
)

// Sender delivers due webhook deliveries.
type Sender struct {
	svc    *Service
	db     *gorm.DB
	now    func() time.Time
	log    *slog.Logger
	key    []byte
	lease  time.Duration
	client *http.Client
}

// Sender returns a sender of this service's deliveries, whose claims hold
// for lease without renewal (as the outbox's: the same setting).
func (s *Service) Sender(log *slog.Logger, lease time.Duration) *Sender {
	transport := &http.Transport{
		// No proxy from the environment: the dialer's check must see the
		// endpoint's own address.
		Proxy:                 nil,
		DialContext:           dialContext(s.settings.AllowLoopback),
		TLSHandshakeTimeout:   RequestTimeout,
		ResponseHeaderTimeout: RequestTimeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       time.Minute,
	}
	return &Sender{svc: s, db: s.db, now: s.now, log: log, key: s.key, lease: lease, client: &http.Client{
		Transport: transport,
		Timeout:   RequestTimeout,
		// A redirect is an answer, not a new address to send to: it could
		// point anywhere, including inside.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (s *Sender) queue() notify.Queue[Delivery] {
	return notify.Queue[Delivery]{DB: s.db, Now: s.now, Lease: s.lease}
}

// SendDue attempts the deliveries due now and records each outcome. It
// returns how many were delivered and how many attempts failed.
func (s *Sender) SendDue(ctx context.Context) (delivered, failed int, err error) {
	due, err := s.queue().Claim(ctx, claimBatch)
	if err != nil {
		return 0, 0, fmt.Errorf("claiming webhook deliveries: %w", err)
	}
	for i := range due {
		d := &due[i]
		held, err := s.queue().Renew(ctx, d.ID, d.Attempts)
		if err != nil {
			return delivered, failed, fmt.Errorf("renewing the claim on %s: %w", d.WebhookID, err)
		}
		if !held {
			continue // another instance took it over while this one stalled
		}
		var status int
		var response string
		derr := s.queue().Hold(ctx, d.ID, d.Attempts, func() error {
			var err error
			status, response, err = s.attempt(ctx, d)
			return err
		}, func(err error) {
			s.log.Warn("lost the claim on a webhook in flight", "webhook_id", d.WebhookID, "error", err)
		})
		now := s.now().UTC()
		update := map[string]any{"last_status": status, "last_response": response}
		var gone *endpointGone
		switch {
		case derr == nil:
			delivered++
			update["state"], update["delivered_at"], update["last_error"] = Delivered, now, ""
		case errors.As(derr, &gone):
			update["state"], update["last_error"] = Cancelled, derr.Error()
		case status == http.StatusGone:
			// Standard Webhooks: 410 Gone asks the sender to stop; the
			// endpoint is disabled below (an admin can enable it again).
			failed++
			update["state"], update["last_error"] = Cancelled, endpointSaidGone
		default:
			failed++
			update["last_error"] = truncate(derr.Error(), 500)
			if d.Attempts >= MaxAttempts {
				update["state"] = Failed
			} else {
				update["next_attempt_at"] = now.Add(notify.Backoff(d.Attempts))
			}
			s.log.Warn("webhook not delivered", "webhook_id", d.WebhookID, "attempt", d.Attempts, "error", derr)
		}
		if err := s.queue().Finish(ctx, d.ID, d.Attempts, derr == nil, update); err != nil {
			return delivered, failed, fmt.Errorf("recording delivery of %s: %w", d.WebhookID, err)
		}
		if status == http.StatusGone && derr != nil {
			if err := s.svc.disableGone(ctx, d.EndpointID); err != nil && !errors.Is(err, ErrDeleted) {
				return delivered, failed, fmt.Errorf("disabling endpoint %d after 410 Gone: %w", d.EndpointID, err)
			}
			s.log.Warn("webhook endpoint answered 410 Gone: disabled", "endpoint_id", d.EndpointID, "webhook_id", d.WebhookID)
		}
	}
	return delivered, failed, nil
}

// endpointGone: the endpoint was disabled or deleted after the delivery
// was claimed.
type endpointGone struct{ why string }

func (e *endpointGone) Error() string { return e.why }

// attempt POSTs d to its endpoint, signed, and returns the response's
// status and the start of its body; a status other than 2xx is an error.
func (s *Sender) attempt(ctx context.Context, d *Delivery) (int, string, error) {
	var ep Endpoint
	if err := s.db.WithContext(ctx).First(&ep, d.EndpointID).Error; err != nil {
		return 0, "", err
	}
	if ep.Deleted() || !ep.Active {
		return 0, "", &endpointGone{why: "the endpoint was disabled or deleted"}
	}
	now := s.now()
	ts := now.Unix()
	body := []byte(d.Payload)
	signature, err := s.sign(ep.SecretSealed, d.WebhookID, ts, body)
	if err != nil {
		return 0, "", err
	}
	if ep.PreviousSecretSealed != "" && ep.PreviousSecretUntil != nil && now.Before(*ep.PreviousSecretUntil) {
		previous, err := s.sign(ep.PreviousSecretSealed, d.WebhookID, ts, body)
		if err != nil {
			return 0, "", err
		}
		signature += " " + previous
	}
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Charter-Webhooks/1")
	req.Header.Set("webhook-id", d.WebhookID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", signature)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	kept, _ := io.ReadAll(io.LimitReader(resp.Body, responseKept))
	// Read a little more so the connection can be reused; never all of it.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, printable(kept), fmt.Errorf("the endpoint answered %s", resp.Status)
	}
	return resp.StatusCode, printable(kept), nil
}

// sign is the signature of one delivery attempt under a sealed secret.
func (s *Sender) sign(sealed, id string, ts int64, body []byte) (string, error) {
	secret, err := keys.Open(s.key, sealed, sealLabel)
	if err != nil {
		return "", fmt.Errorf("the endpoint's signing secret does not open with the MFA key: %w", err)
	}
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return Sign(key, id, ts, body), nil
}

// truncate shortens s to at most n bytes of valid UTF-8.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// printable is a response body as the log keeps it: text a database
// column takes (PostgreSQL refuses NUL and invalid UTF-8).
func printable(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "")
}

// Run delivers due webhooks every interval until ctx ends.
func (s *Sender) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("webhook sender", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
