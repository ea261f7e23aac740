package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/clocktest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/internal/webhook"
	"github.com/charter-registry/charter/internal/webhook/webhooktest"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"gorm.io/gorm"
)

var (
	start = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)
	admin = audit.Actor{UserID: 1, Label: "admin@example.com"}
)

// verifyOK is webhooktest.Verify's problem as text, "" when it verifies.
func verifyOK(secret string, header http.Header, body []byte, now time.Time) string {
	if err := webhooktest.Verify(secret, header, body, now); err != nil {
		return err.Error()
	}
	return ""
}

func newReceiver(t *testing.T) *webhooktest.Receiver { return webhooktest.Start(t) }

// quietSender is svc's sender with its log discarded.
func quietSender(svc *webhook.Service) *webhook.Sender {
	return svc.Sender(slog.New(slog.NewTextHandler(io.Discard, nil)), 30*time.Second)
}

// endpointFor registers an endpoint in the standard format at url for one
// event.
func endpointFor(t *testing.T, svc *webhook.Service, url, event string) *webhook.Created {
	t.Helper()
	ep, err := svc.Create(context.Background(), admin, webhook.Input{URL: url, Events: []string{event}, Format: webhook.Standard})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func mfaKey() []byte { return []byte(strings.Repeat("k", 32)) }

func newService(st *store.Store, clock *clocktest.Clock, loopback bool) *webhook.Service {
	return webhook.NewService(st.DB, clock.Now, mfaKey(), webhook.Settings{AllowLoopback: loopback, BaseURL: "https://charter.example"})
}

func publish(t *testing.T, db *gorm.DB, now time.Time, ev webhook.Event) {
	t.Helper()
	if err := db.Transaction(func(tx *gorm.DB) error { return webhook.Publish(tx, now, ev) }); err != nil {
		t.Fatal(err)
	}
}

func allEvents() []string {
	var out []string
	for _, e := range webhook.EventTypes() {
		out = append(out, e.Type)
	}
	return out
}

func TestEveryEventArrivesOnceAndVerifiesByTheStandard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		svc := newService(st, clock, true)
		rcv := newReceiver(t)
		all, err := svc.Create(ctx, admin, webhook.Input{URL: rcv.URL + "/all", Events: allEvents(), Format: webhook.Standard})
		if err != nil {
			t.Fatal(err)
		}
		chat, err := svc.Create(ctx, admin, webhook.Input{URL: rcv.URL + "/chat", Events: []string{webhook.AdvisoryPublished}, Format: webhook.Slack})
		if err != nil {
			t.Fatal(err)
		}
		off, err := svc.Create(ctx, admin, webhook.Input{URL: rcv.URL + "/off", Events: allEvents(), Format: webhook.Standard})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetActive(ctx, admin, off.Endpoint.ID, false); err != nil {
			t.Fatal(err)
		}
		for _, ev := range allEvents() {
			publish(t, st.DB, clock.Now(), webhook.Event{Type: ev, Summary: "Something <happened> & more", Data: map[string]string{"id": ev}})
		}
		// A change that rolls back delivers nothing.
		st.DB.Transaction(func(tx *gorm.DB) error {
			if err := webhook.Publish(tx, clock.Now(), webhook.Event{Type: webhook.AdvisoryPublished, Data: map[string]string{"id": "rolled back"}}); err != nil {
				t.Fatal(err)
			}
			return gorm.ErrInvalidTransaction
		})

		s := quietSender(svc)
		clock.Advance(2 * time.Second)
		delivered, failed, err := s.SendDue(ctx)
		want := len(allEvents()) + 1
		if err != nil || delivered != want || failed != 0 {
			t.Fatalf("delivered %d failed %d (want %d): %v", delivered, failed, want, err)
		}
		if again, _, _ := s.SendDue(ctx); again != 0 {
			t.Fatalf("delivered %d more on a second pass", again)
		}
		seen := map[string]int{}
		types := map[string]int{}
		for _, r := range rcv.Requests() {
			secret := all.Secret
			if strings.Contains(string(r.Body), `"blocks"`) {
				secret = chat.Secret
			}
			if problem := verifyOK(secret, r.Header, r.Body, clock.Now()); problem != "" {
				t.Fatalf("%s: %s", r.Body, problem)
			}
			// Standard Webhooks' own Go library agrees (its Verify checks the
			// timestamp against the wall clock; this test's clock is fixed).
			lib, err := standardwebhooks.NewWebhook(secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := lib.VerifyIgnoringTimestamp(r.Body, r.Header); err != nil {
				t.Fatalf("the Standard Webhooks library refuses %s: %v", r.Body, err)
			}
			// The wrong secret must not verify: the check can fail.
			if verifyOK(off.Secret, r.Header, r.Body, clock.Now()) == "" {
				t.Fatal("a request verified with another endpoint's secret")
			}
			if r.Header.Get("webhook-timestamp") != strconv.FormatInt(clock.Now().Unix(), 10) || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("headers: %v", r.Header)
			}
			seen[r.Header.Get("webhook-id")]++
			if secret == chat.Secret {
				continue
			}
			var body struct {
				Type      string            `json:"type"`
				Timestamp string            `json:"timestamp"`
				Data      map[string]string `json:"data"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Timestamp != "2026-05-04T09:30:00Z" || body.Data["id"] != body.Type {
				t.Fatalf("body: %s", r.Body)
			}
			types[body.Type]++
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("%s arrived %d times", id, n)
			}
		}
		if len(seen) != want || len(types) != len(allEvents()) {
			t.Fatalf("%d webhook-ids, %d event types: %v", len(seen), len(types), types)
		}
		if verifyOK(all.Secret, rcv.Requests()[0].Header, rcv.Requests()[0].Body, clock.Now().Add(6*time.Minute)) == "" {
			t.Fatal("a stale timestamp verified")
		}
	})
}

func TestSlackFormatIsAMessageSlackReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		svc := newService(st, clock, true)
		ep, err := svc.Create(ctx, admin, webhook.Input{URL: "https://hooks.slack.example/services/T0/B0/x", Events: []string{webhook.AdvisoryPublished}, Format: webhook.Slack})
		if err != nil {
			t.Fatal(err)
		}
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.AdvisoryPublished, Summary: "ACME-2026-001 <@channel> High & fixed",
			Link: "https://charter.example/trust/advisories/ACME-2026-001", Data: map[string]string{"id": "ACME-2026-001"}})
		ds, err := svc.Deliveries(ctx, ep.Endpoint.ID, 0, 0)
		if err != nil || len(ds) != 1 {
			t.Fatalf("%d deliveries: %v", len(ds), err)
		}
		var msg struct {
			Text   string `json:"text"`
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"text"`
				Elements []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"elements"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal([]byte(ds[0].Payload), &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Text != "Security advisory published: ACME-2026-001 <@channel> High & fixed" || len(msg.Blocks) != 2 {
			t.Fatalf("message: %s", ds[0].Payload)
		}
		section := msg.Blocks[0]
		if section.Type != "section" || section.Text == nil || section.Text.Type != "mrkdwn" ||
			section.Text.Text != "*Security advisory published*\nACME-2026-001 &lt;@channel&gt; High &amp; fixed\n<https://charter.example/trust/advisories/ACME-2026-001|Open in Charter>" {
			t.Fatalf("section: %s", ds[0].Payload)
		}
		if c := msg.Blocks[1]; c.Type != "context" || len(c.Elements) != 1 || !strings.Contains(c.Elements[0].Text, "`advisory.published`") {
			t.Fatalf("context: %s", ds[0].Payload)
		}
	})
}

func TestFailingEndpointRetriesWithGrowingBackoffThenFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		svc := newService(st, clock, true)
		rcv := newReceiver(t)
		rcv.Answer(http.StatusInternalServerError)
		ep := endpointFor(t, svc, rcv.URL, webhook.PacketRequested)
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.PacketRequested, Data: map[string]int{"id": 7}})
		s := quietSender(svc)
		last := func() webhook.Delivery {
			ds, err := svc.Deliveries(ctx, ep.Endpoint.ID, 0, 0)
			if err != nil || len(ds) != 1 {
				t.Fatalf("%d deliveries: %v", len(ds), err)
			}
			return ds[0]
		}
		var waits []time.Duration
		for attempt := 1; attempt <= webhook.MaxAttempts; attempt++ {
			if _, failed, err := s.SendDue(ctx); err != nil || failed != 1 {
				t.Fatalf("attempt %d: failed %d: %v", attempt, failed, err)
			}
			d := last()
			if d.Attempts != attempt || d.LastStatus != 500 || d.LastResponse != "receiver down for maintenance" || !strings.Contains(d.LastError, "500") {
				t.Fatalf("after attempt %d: %+v", attempt, d)
			}
			if attempt == webhook.MaxAttempts {
				if d.State != webhook.Failed {
					t.Fatalf("after the last attempt: %s", d.State)
				}
				break
			}
			wait := d.NextAttemptAt.Sub(clock.Now())
			waits = append(waits, wait)
			// Not a moment before the backoff has passed.
			clock.Advance(wait - time.Second)
			if _, failed, _ := s.SendDue(ctx); failed != 0 {
				t.Fatalf("retried %s early", time.Second)
			}
			clock.Advance(time.Second)
		}
		for i := 1; i < len(waits); i++ {
			if waits[i] < waits[i-1] || (waits[i] == waits[i-1] && waits[i] != time.Hour) {
				t.Fatalf("backoff does not grow: %v", waits)
			}
		}
		if waits[0] != time.Minute || waits[1] != 2*time.Minute {
			t.Fatalf("backoff: %v", waits)
		}
		got := rcv.Requests()
		if len(got) != webhook.MaxAttempts {
			t.Fatalf("%d requests, want %d", len(got), webhook.MaxAttempts)
		}
		for _, r := range got {
			if r.Header.Get("webhook-id") != got[0].Header.Get("webhook-id") || string(r.Body) != string(got[0].Body) {
				t.Fatal("a retry changed the webhook-id or the body")
			}
		}
		clock.Advance(24 * time.Hour)
		if _, failed, _ := s.SendDue(ctx); failed != 0 {
			t.Fatal("a failed delivery was attempted again")
		}

		// A manual retry makes one more attempt, with the same webhook-id.
		rcv.Answer(http.StatusOK)
		d := last()
		if _, err := svc.Retry(ctx, admin, ep.Endpoint.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Retry(ctx, admin, ep.Endpoint.ID, d.ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("retrying a pending delivery: %v", err)
		}
		if delivered, _, err := s.SendDue(ctx); err != nil || delivered != 1 {
			t.Fatalf("after the manual retry: delivered %d: %v", delivered, err)
		}
		if d := last(); d.State != webhook.Delivered || d.LastStatus != 200 || d.LastError != "" || d.DeliveredAt == nil {
			t.Fatalf("after the manual retry: %+v", d)
		}
		if got := rcv.Requests(); got[len(got)-1].Header.Get("webhook-id") != got[0].Header.Get("webhook-id") {
			t.Fatal("the manual retry sent another webhook-id")
		}
	})
}

// TestEndpointThatAnswersGoneIsDisabled: as the Standard Webhooks
// specification asks, an endpoint that answers 410 Gone gets nothing more:
// it is disabled (audited, by the system), its delivery and those waiting
// are cancelled, and later events are not written for it.
func TestEndpointThatAnswersGoneIsDisabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		svc := newService(st, clock, true)
		rcv := newReceiver(t)
		rcv.Answer(http.StatusGone)
		ep := endpointFor(t, svc, rcv.URL, webhook.DPASigned)
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.DPASigned, Data: map[string]int{"id": 1}})
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.DPASigned, Data: map[string]int{"id": 2}})
		s := quietSender(svc)
		if delivered, _, err := s.SendDue(ctx); err != nil || delivered != 0 {
			t.Fatalf("delivered %d: %v", delivered, err)
		}
		if n := len(rcv.Requests()); n != 1 {
			t.Fatalf("%d requests, want 1: the second delivery waits for a disabled endpoint", n)
		}
		got, err := svc.Get(ctx, ep.Endpoint.ID)
		if err != nil || got.Active {
			t.Fatalf("endpoint after 410 Gone: %+v %v", got, err)
		}
		ds, err := svc.Deliveries(ctx, ep.Endpoint.ID, 0, 0)
		if err != nil || len(ds) != 2 {
			t.Fatalf("%d deliveries: %v", len(ds), err)
		}
		for _, d := range ds {
			if d.State != webhook.Cancelled || !strings.Contains(d.LastError, "410 Gone") {
				t.Fatalf("delivery after 410 Gone: %+v", d)
			}
		}
		var by string
		if err := st.DB.Model(&audit.Event{}).Where("action = ? AND object_id = ?", "webhook.disabled", strconv.FormatInt(ep.Endpoint.ID, 10)).
			Pluck("actor", &by).Error; err != nil || by != "system:webhooks" {
			t.Fatalf("disabling audited by %q (%v)", by, err)
		}
		clock.Advance(time.Hour)
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.DPASigned, Data: map[string]int{"id": 3}})
		if ds, _ := svc.Deliveries(ctx, ep.Endpoint.ID, 0, 0); len(ds) != 2 {
			t.Fatalf("%d deliveries after an event for a disabled endpoint, want 2", len(ds))
		}
	})
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		svc := newService(st, clock, true)
		rcv := newReceiver(t)
		redirect := httptest.NewServer(http.RedirectHandler(rcv.URL, http.StatusTemporaryRedirect))
		t.Cleanup(redirect.Close)
		ep, err := svc.Create(ctx, admin, webhook.Input{URL: redirect.URL, Events: []string{webhook.DPASigned}, Format: webhook.Standard})
		if err != nil {
			t.Fatal(err)
		}
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.DPASigned})
		s := quietSender(svc)
		if _, failed, _ := s.SendDue(ctx); failed != 1 {
			t.Fatalf("a redirect counted as delivered")
		}
		if len(rcv.Requests()) != 0 {
			t.Fatal("the redirect was followed")
		}
		ds, _ := svc.Deliveries(ctx, ep.Endpoint.ID, 0, 0)
		if ds[0].LastStatus != http.StatusTemporaryRedirect {
			t.Fatalf("%+v", ds[0])
		}
	})
}

func TestEndpointAddressesRefuseInternalNetworks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		strict := newService(st, clock, false)
		for _, u := range []string{
			"http://hooks.example.com/x",        // not https
			"ftp://hooks.example.com/x",         // not https
			"https://127.0.0.1/x",               // loopback
			"https://localhost/x",               // loopback by name
			"https://[::1]/x",                   // loopback v6
			"https://10.0.0.5/x",                // private
			"https://192.168.1.10/x",            // private
			"https://172.16.0.1/x",              // private
			"https://169.254.169.254/latest",    // cloud metadata
			"https://[fe80::1]/x",               // link-local
			"https://[fd00::1]/x",               // unique local
			"https://100.64.0.1/x",              // carrier-grade NAT
			"https://0.0.0.0/x",                 // unspecified
			"https://[::ffff:10.0.0.1]/x",       // IPv4-mapped private
			"https://metadata/computeMetadata",  // a single-label name
			"https://vault.internal/x",          // an internal suffix
			"https://printer.local/x",           // mDNS
			"https://user:pw@hooks.example.com", // credentials in the address
			"not a url",
		} {
			_, err := strict.Create(ctx, admin, webhook.Input{URL: u, Events: []string{webhook.DPASigned}, Format: webhook.Standard})
			var ae *apperr.Error
			if !apperr.Is(err, apperr.Invalid) || !asApp(err, &ae) || ae.Fields["url"] == "" {
				t.Errorf("%s: %v, want a problem with url", u, err)
			}
		}
		for _, u := range []string{"https://hooks.example.com/charter", "https://93.184.215.14/hook", "https://[2606:4700::1111]/hook"} {
			if _, err := strict.Create(ctx, admin, webhook.Input{URL: u, Events: []string{webhook.DPASigned}, Format: webhook.Standard}); err != nil {
				t.Errorf("%s: %v", u, err)
			}
		}
		// Loopback, over http too, only when the setting allows it.
		loose := newService(st, clock, true)
		if _, err := loose.Create(ctx, admin, webhook.Input{URL: "http://127.0.0.1:9/x", Events: []string{webhook.DPASigned}, Format: webhook.Standard}); err != nil {
			t.Errorf("loopback allowed: %v", err)
		}
		if _, err := loose.Create(ctx, admin, webhook.Input{URL: "http://10.0.0.5/x", Events: []string{webhook.DPASigned}, Format: webhook.Standard}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("loopback allowed, a private address: %v", err)
		}
		for name, in := range map[string]webhook.Input{
			"events": {URL: "https://hooks.example.com", Events: []string{"advisory.deleted"}, Format: webhook.Standard},
			"format": {URL: "https://hooks.example.com", Events: []string{webhook.DPASigned}, Format: "xml"},
		} {
			var ae *apperr.Error
			if _, err := strict.Create(ctx, admin, in); !asApp(err, &ae) || ae.Fields[name] == "" {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

// TestSenderRefusesToConnectInward: an address that passed registration
// but reaches this machine when connecting (a name that resolves inward)
// is refused by the dialer, on the address connected to.
func TestSenderRefusesToConnectInward(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		rcv := newReceiver(t)
		// Registered while loopback was allowed, sent by a sender that
		// does not allow it: as a public name resolving to 127.0.0.1 is.
		ep, err := newService(st, clock, true).Create(ctx, admin, webhook.Input{URL: rcv.URL, Events: []string{webhook.DPASigned}, Format: webhook.Standard})
		if err != nil {
			t.Fatal(err)
		}
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.DPASigned})
		strict := newService(st, clock, false)
		if _, failed, _ := strict.Sender(slog.New(slog.NewTextHandler(io.Discard, nil)), 30*time.Second).SendDue(ctx); failed != 1 {
			t.Fatal("the strict sender did not fail")
		}
		ds, _ := strict.Deliveries(ctx, ep.Endpoint.ID, 0, 0)
		if len(rcv.Requests()) != 0 || !strings.Contains(ds[0].LastError, "not a public address") {
			t.Fatalf("received %d; last error %q", len(rcv.Requests()), ds[0].LastError)
		}
	})
}

func TestEndpointChangesAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		svc := newService(st, clock, true)
		c, err := svc.Create(ctx, admin, webhook.Input{URL: "https://hooks.example.com/a", Description: "Security channel", Events: []string{webhook.DPASigned, webhook.DPASigned, webhook.AdvisoryPublished}, Format: webhook.Standard})
		if err != nil {
			t.Fatal(err)
		}
		id := c.Endpoint.ID
		if c.Endpoint.Events != "advisory.published dpa.signed" || !strings.HasPrefix(c.Secret, "whsec_") || strings.Contains(c.Endpoint.SecretSealed, c.Secret[6:]) {
			t.Fatalf("created: %+v", c)
		}
		if _, err := svc.SendTest(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetActive(ctx, admin, id, false); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SendTest(ctx, admin, id); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a test to a disabled endpoint: %v", err)
		}
		if _, err := svc.SetActive(ctx, admin, id, true); err != nil {
			t.Fatal(err)
		}
		rotated, err := svc.RotateSecret(ctx, admin, id)
		if err != nil || rotated.Secret == c.Secret {
			t.Fatalf("rotated: %v", err)
		}
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.DPASigned})
		if _, err := svc.Delete(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetActive(ctx, admin, id, true); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("enabling a deleted endpoint: %v", err)
		}
		// The log is kept; what waited is cancelled.
		ds, _ := svc.Deliveries(ctx, id, 0, 0)
		if len(ds) != 2 || ds[0].State != webhook.Cancelled || ds[1].State != webhook.Cancelled {
			t.Fatalf("deliveries after delete: %+v", ds)
		}
		var events []audit.Event
		st.DB.Where("object_type = ?", "webhook").Order("seq").Find(&events)
		var actions []string
		for _, e := range events {
			actions = append(actions, e.Action)
			for _, secret := range []string{c.Secret[len("whsec_"):], rotated.Secret[len("whsec_"):], c.Endpoint.SecretSealed, "secret_sealed", "SecretSealed"} {
				if strings.Contains(e.AfterJSON+e.BeforeJSON, secret) {
					t.Fatalf("%s records a secret: %s", e.Action, e.AfterJSON)
				}
			}
		}
		want := "webhook.created webhook.test_sent webhook.disabled webhook.enabled webhook.secret_rotated webhook.deleted"
		if strings.Join(actions, " ") != want {
			t.Fatalf("audit: %v, want %s", actions, want)
		}
	})
}

func TestResealKeepsSecretsSigning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		rcv := newReceiver(t)
		c, err := newService(st, clock, true).Create(ctx, admin, webhook.Input{URL: rcv.URL, Events: []string{webhook.DPASigned}, Format: webhook.Standard})
		if err != nil {
			t.Fatal(err)
		}
		// A rotation within its overlap: both secrets are resealed.
		rotated, err := newService(st, clock, true).RotateSecret(ctx, admin, c.Endpoint.ID)
		if err != nil {
			t.Fatal(err)
		}
		newKey := []byte(strings.Repeat("n", 32))
		if err := st.DB.Transaction(func(tx *gorm.DB) error {
			n, err := newService(st, clock, true).Reseal(tx, newKey)
			if n != 1 {
				t.Errorf("resealed %d", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.DPASigned})
		underNewKey := webhook.NewService(st.DB, clock.Now, newKey, webhook.Settings{AllowLoopback: true})
		if delivered, _, err := underNewKey.Sender(slog.New(slog.NewTextHandler(io.Discard, nil)), 30*time.Second).SendDue(ctx); err != nil || delivered != 1 {
			t.Fatalf("delivered %d: %v", delivered, err)
		}
		r := rcv.Requests()[0]
		for _, secret := range []string{c.Secret, rotated.Secret} {
			if p := verifyOK(secret, r.Header, r.Body, clock.Now()); p != "" {
				t.Fatal(p)
			}
		}
	})
}

func asApp(err error, target **apperr.Error) bool {
	ae, ok := err.(*apperr.Error)
	if ok {
		*target = ae
	}
	return ok
}

// TestConcurrentSendersDeliverEachOnce: senders of several instances on one
// database share the deliveries through their claims; each arrives once.
func TestConcurrentSendersDeliverEachOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		svc := newService(st, clock, true)
		rcv := newReceiver(t)
		if _, err := svc.Create(ctx, admin, webhook.Input{URL: rcv.URL, Events: []string{webhook.PrivacyRequestReceived}, Format: webhook.Standard}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 30; i++ {
			publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.PrivacyRequestReceived, Data: map[string]int{"n": i}})
		}
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := quietSender(svc)
				for j := 0; j < 3; j++ {
					if _, _, err := s.SendDue(ctx); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		for _, r := range rcv.Requests() {
			seen[r.Header.Get("webhook-id")]++
		}
		if len(rcv.Requests()) != 30 || len(seen) != 30 {
			t.Fatalf("%d requests with %d webhook-ids, want 30 and 30", len(rcv.Requests()), len(seen))
		}
	})
}

// TestRotatedSecretSignsBesideTheOldForADay: after a rotation each
// delivery carries two signatures, so a receiver holding either secret
// verifies it; after SecretOverlap only the new secret's.
func TestRotatedSecretSignsBesideTheOldForADay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := clocktest.New(start)
		svc := newService(st, clock, true)
		rcv := newReceiver(t)
		old := endpointFor(t, svc, rcv.URL, webhook.DPASigned)
		rotated, err := svc.RotateSecret(ctx, admin, old.Endpoint.ID)
		if err != nil {
			t.Fatal(err)
		}
		s := quietSender(svc)
		deliver := func() webhooktest.Request {
			t.Helper()
			publish(t, st.DB, clock.Now(), webhook.Event{Type: webhook.DPASigned})
			if delivered, _, err := s.SendDue(ctx); err != nil || delivered != 1 {
				t.Fatalf("delivered %d: %v", delivered, err)
			}
			got := rcv.Requests()
			return got[len(got)-1]
		}
		clock.Advance(webhook.SecretOverlap - time.Minute)
		r := deliver()
		for _, secret := range []string{old.Secret, rotated.Secret} {
			if p := verifyOK(secret, r.Header, r.Body, clock.Now()); p != "" {
				t.Fatalf("within the overlap: %s", p)
			}
		}
		if n := len(strings.Fields(r.Header.Get("webhook-signature"))); n != 2 {
			t.Fatalf("%d signatures within the overlap", n)
		}
		clock.Advance(time.Minute)
		r = deliver()
		if verifyOK(rotated.Secret, r.Header, r.Body, clock.Now()) != "" || verifyOK(old.Secret, r.Header, r.Body, clock.Now()) == "" {
			t.Fatalf("after the overlap: %s", r.Header.Get("webhook-signature"))
		}
	})
}
