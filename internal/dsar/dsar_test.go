package dsar_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func setup(t *testing.T, st *store.Store) (*dsar.Service, *clock) {
	c := &clock{t: time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)}
	fs := files.InDatabase(st.DB)
	return dsar.NewService(st.DB, c.now, fs, dsar.Settings{BaseURL: "https://charter.test", Retention: 365 * 24 * time.Hour}), c
}

func TestPublicRequestToCompletion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc, c := setup(t, st)
		ctx := context.Background()
		anon := audit.Actor{Label: "anonymous", IP: "203.0.113.5"}
		if _, err := svc.Submit(ctx, anon, dsar.Input{Law: "gdpr", Type: "erase", RequesterName: "Ana", RequesterEmail: "ana@mail.example"}, "PostHog"); err == nil {
			t.Fatal("a bad type was accepted")
		}
		r, err := svc.Submit(ctx, anon, dsar.Input{Law: "gdpr", Type: "access", RequesterName: "Ana", RequesterEmail: "Ana@Mail.example", Details: "All my data"}, "PostHog")
		if err != nil || r.Status != "unconfirmed" {
			t.Fatalf("submit: %+v %v", r, err)
		}
		var m notify.Message
		st.DB.Where("to_addr = ?", "ana@mail.example").Take(&m)
		token := regexp.MustCompile(`/trust/privacy-request/confirm/([A-Za-z0-9_-]{43})`).FindStringSubmatch(m.Body)[1]
		if list, _ := svc.List(ctx, false); len(list) != 0 {
			t.Fatal("an unconfirmed request is listed")
		}
		c.set(time.Date(2026, 1, 31, 18, 0, 0, 0, time.UTC))
		got, err := svc.Confirm(ctx, anon, token, "PostHog", []string{"dpo@posthog.example"})
		if err != nil || got.Status != "received" || got.Deadline().Format(time.DateOnly) != "2026-02-28" {
			t.Fatalf("confirm: %+v %v", got, err)
		}
		var ack notify.Message
		st.DB.Where("kind = ?", "privacy_request_ack").Take(&ack)
		if !strings.Contains(ack.Body, got.Reference) || !strings.Contains(ack.Body, "28 February 2026") {
			t.Fatalf("acknowledgement: %s", ack.Body)
		}
		by := audit.System("dpo@posthog.example")
		if _, err := svc.Act(ctx, by, got.Reference, dsar.Action{Action: "complete", Outcome: "complied", SystemsSearched: "db"}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("completed before verification: %v", err)
		}
		if _, err := svc.Act(ctx, by, got.Reference, dsar.Action{Action: "verify", Method: "reply from the address on the account"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Act(ctx, by, got.Reference, dsar.Action{Action: "extend"}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("extension without a reason: %v", err)
		}
		ext, err := svc.Act(ctx, by, got.Reference, dsar.Action{Action: "extend", Reason: "complex: 14 systems"})
		if err != nil || ext.Deadline().Format(time.DateOnly) != "2026-04-30" {
			t.Fatalf("extend: %v %v", ext.Deadline(), err)
		}
		if _, err := svc.Act(ctx, by, got.Reference, dsar.Action{Action: "extend", Reason: "again"}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("second extension: %v", err)
		}
		c.set(time.Date(2026, 4, 25, 9, 0, 0, 0, time.UTC))
		if att, _ := svc.Attention(ctx); len(att) != 1 {
			t.Fatalf("due soon: %d", len(att))
		}
		done, err := svc.Act(ctx, by, got.Reference, dsar.Action{Action: "complete", Outcome: "complied", SystemsSearched: "app db, warehouse, support desk"})
		if err != nil || done.Status != "completed" {
			t.Fatalf("complete: %+v %v", done, err)
		}
		if _, err := svc.Act(ctx, by, got.Reference, dsar.Action{Action: "refuse", Reason: "x"}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("acted on a closed request: %v", err)
		}
		// A year after closing, the requester's details go; dates stay.
		c.set(time.Date(2027, 4, 26, 9, 0, 0, 0, time.UTC))
		if n, err := svc.Redact(ctx, audit.System("job")); err != nil || n != 1 {
			t.Fatalf("redact: %d %v", n, err)
		}
		red, _ := svc.Get(ctx, got.Reference)
		if red.RequesterEmail != "" || red.RequesterName != "" || red.ClosedAt == nil || red.Outcome != "complied" {
			t.Fatalf("after redaction: %+v", red)
		}
	})
}

// TestYearMetricsMatchAHandCount checks the published figures against a
// fixture counted by hand.
func TestYearMetricsMatchAHandCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc, c := setup(t, st)
		ctx := context.Background()
		by := audit.System("dpo")
		// type, received, closed after days (-1: open), outcome
		fixture := []struct {
			typ      string
			received string
			days     int
			action   string
		}{
			{"access", "2026-01-05", 10, "complied"},
			{"access", "2026-02-01", 20, "partly"},
			{"access", "2026-03-01", 31, "denied"},
			{"access", "2026-12-30", -1, ""},        // open
			{"access", "2025-12-30", 5, "complied"}, // last year: not counted
			{"deletion", "2026-04-01", 7, "complied"},
			{"deletion", "2026-04-02", 9, "complied"},
			{"deletion", "2026-05-01", 3, "denied"},
			{"deletion", "2026-05-02", 45, "complied"},
			{"objection", "2026-06-01", 1, "complied"},
		}
		for _, f := range fixture {
			received, _ := time.Parse(time.DateOnly, f.received)
			c.set(received.Add(12 * time.Hour))
			r, err := svc.Create(ctx, by, dsar.Input{ReceivedOn: f.received, Channel: "email", Law: "ccpa", Type: f.typ, RequesterEmail: "x@y.example"})
			if err != nil {
				t.Fatal(err)
			}
			if f.days < 0 {
				continue
			}
			svc.Act(ctx, by, r.Reference, dsar.Action{Action: "verify", Method: "email"})
			c.set(received.AddDate(0, 0, f.days).Add(12 * time.Hour))
			switch f.action {
			case "denied":
				_, err = svc.Act(ctx, by, r.Reference, dsar.Action{Action: "refuse", Reason: "could not verify"})
			default:
				_, err = svc.Act(ctx, by, r.Reference, dsar.Action{Action: "complete", Outcome: f.action, SystemsSearched: "all"})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		m, err := svc.YearMetrics(ctx, 2026)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			received, complied, denied int
			median                     float64
		}{
			"access":    {4, 2, 1, 20}, // closed after 10, 20, 31 days
			"deletion":  {4, 3, 1, 8},  // 3, 7, 9, 45 → (7+9)/2
			"objection": {1, 1, 0, 1},
		}
		for _, f := range m.Types {
			w, ok := want[f.Type]
			if !ok {
				if f.Received != 0 {
					t.Errorf("%s: %+v", f.Type, f)
				}
				continue
			}
			if f.Received != w.received || f.Complied != w.complied || f.Denied != w.denied || f.MedianDays == nil || *f.MedianDays != w.median {
				t.Errorf("%s: %+v (median %v), want %+v", f.Type, f, f.MedianDays, w)
			}
		}
	})
}

// TestVocabulariesPassTheRules: every channel, law and type the forms
// offer passes Input's rules, and the rules name each bad field.
func TestVocabulariesPassTheRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc, _ := setup(t, st)
		ctx := context.Background()
		by := audit.System("dpo")
		for _, ch := range dsar.Channels {
			for _, law := range dsar.Laws {
				for _, typ := range dsar.Types {
					if _, err := svc.Create(ctx, by, dsar.Input{Channel: ch, Law: law, Type: typ, RequesterEmail: "x@y.example"}); err != nil {
						t.Fatalf("%s %s %s: %v", ch, law, typ, err)
					}
				}
			}
		}
		_, err := svc.Create(ctx, by, dsar.Input{ReceivedOn: "31/01/2026", Channel: "fax", Law: "hipaa", Type: "erase", RequesterName: strings.Repeat("a", 201),
			RequesterEmail: "not-an-email", Details: strings.Repeat("d", 4001), CustomerDPAID: 99})
		e, _ := apperr.As(err)
		want := map[string]string{"received_on": "must be a date as YYYY-MM-DD", "channel": "must be one of email, form, customer",
			"law": "must be one of gdpr, uk_gdpr, ccpa", "type": "must be one of access, deletion, correction, portability, objection, restriction",
			"requester_name": "must be at most 200 characters", "requester_email": "must be an email address we can answer",
			"details": "must be at most 4000 characters", "customer_dpa_id": "is not a customer DPA in the register"}
		if e == nil || len(e.Fields) != len(want) {
			t.Fatalf("fields: %v", err)
		}
		for f, msg := range want {
			if e.Fields[f] != msg {
				t.Errorf("%s: %q, want %q", f, e.Fields[f], msg)
			}
		}
		// The public form needs a name and cannot backdate.
		_, err = svc.Submit(ctx, audit.Actor{Label: "anonymous"}, dsar.Input{ReceivedOn: "nonsense", Law: "gdpr", Type: "access", RequesterEmail: "a@b.example"}, "PostHog")
		if e, _ := apperr.As(err); e == nil || len(e.Fields) != 1 || e.Fields["requester_name"] != "is required" {
			t.Fatalf("public form: %v", err)
		}
	})
}
