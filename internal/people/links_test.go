package people_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

var linkPattern = regexp.MustCompile(`/ack/([A-Za-z0-9_-]{43})\n`)

func tokenIn(t *testing.T, m *notify.Message) string {
	t.Helper()
	match := linkPattern.FindStringSubmatch(m.Body)
	if match == nil {
		t.Fatalf("no link in %q", m.Body)
	}
	return match[1]
}

func TestAcknowledgementLinkLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "ana@example.com", "2025-06-01")
		m, err := f.people.IssueAckLink(f.ctx, f.hr, "ana@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if m.ToAddr != "ana@example.com" || m.State != notify.Pending || !strings.Contains(m.Body, "http://localhost:8080/ack/") || !strings.Contains(m.Body, "20 to go") {
			t.Fatalf("outbox message: %+v", m)
		}
		token := tokenIn(t, m)
		var stored int64
		st.DB.Table("share_links").Where("token_hash = ?", token).Count(&stored)
		if stored != 0 {
			t.Fatal("token stored in clear")
		}

		v, err := f.people.AckPage(f.ctx, token)
		if err != nil || len(v.Owed) != 20 || v.Done != 0 || v.Owed[0].Body == "" || v.Owed[0].Version != "1.0" {
			t.Fatalf("ack page: %+v %v", v, err)
		}
		from := audit.Actor{IP: "203.0.113.9", UserAgent: "Mobile Safari"}
		cases := []struct {
			slug, version string
			agreed        bool
			kind          apperr.Kind
		}{
			{"backup", "1.0", false, apperr.Invalid},
			{"backup", "0.9", true, apperr.Conflict},
			{"no-such", "1.0", true, apperr.Conflict},
		}
		for _, c := range cases {
			if _, err := f.people.AcknowledgeByLink(f.ctx, from, token, c.slug, c.version, c.agreed); !apperr.Is(err, c.kind) {
				t.Errorf("%+v: %v", c, err)
			}
		}
		ack, err := f.people.AcknowledgeByLink(f.ctx, from, token, "backup", "1.0", true)
		if err != nil || ack.Method != people.MethodLink || ack.ClientIP != "203.0.113.9" || ack.UserAgent != "Mobile Safari" {
			t.Fatalf("acknowledge: %+v %v", ack, err)
		}
		if _, err := f.people.AcknowledgeByLink(f.ctx, from, token, "backup", "1.0", true); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("twice: %v", err)
		}
		var ev audit.Event
		st.DB.Where("action = ?", "acknowledgement.recorded").Order("seq DESC").First(&ev)
		if ev.Actor != "employee:ana@example.com" || ev.ClientIP != "203.0.113.9" {
			t.Fatalf("audit: %+v", ev)
		}
		if v, _ := f.people.AckPage(f.ctx, token); len(v.Owed) != 19 || v.Done != 1 {
			t.Fatalf("after one: %d owed, %d done", len(v.Owed), v.Done)
		}

		// A new link replaces the old one.
		m2, err := f.people.IssueAckLink(f.ctx, f.hr, "ana@example.com")
		if err != nil || !strings.Contains(m2.Body, "19 to go") {
			t.Fatalf("re-issue: %v", err)
		}
		if _, err := f.people.AckPage(f.ctx, token); !apperr.Is(err, apperr.Gone) {
			t.Fatalf("replaced link: %v", err)
		}
		token2 := tokenIn(t, m2)
		// Another first character (a token that starts with "x" made "x"+rest the same token).
		other := "x"
		if token2[0] == 'x' {
			other = "y"
		}
		if _, err := f.people.AckPage(f.ctx, other+token2[1:]); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := f.people.AckPage(f.ctx, "junk"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("junk token: %v", err)
		}
		*f.clock = f.clock.AddDate(0, 0, 31)
		if _, err := f.people.AckPage(f.ctx, token2); !apperr.Is(err, apperr.Gone) {
			t.Fatalf("expired link: %v", err)
		}
		m3, _ := f.people.IssueAckLink(f.ctx, f.hr, "ana@example.com")
		token3 := tokenIn(t, m3)
		end := f.clock.Format("2006-01-02")
		if _, err := f.people.Update(f.ctx, f.hr, "ana@example.com", people.Patch{EndDate: &end}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.people.AckPage(f.ctx, token3); !apperr.Is(err, apperr.Gone) {
			t.Fatalf("offboarded employee's link: %v", err)
		}
		if _, err := f.people.IssueAckLink(f.ctx, f.hr, "ana@example.com"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("link for an offboarded employee: %v", err)
		}
	})
}

func TestSendAckLinksSkipsThoseWhoOweNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "a@example.com", "2025-01-01")
		f.hire(t, "b@example.com", "2025-01-01")
		f.hire(t, "c@example.com", "2025-01-01")
		f.ackAll(t, "b@example.com")
		end := "2025-12-31"
		f.people.Update(f.ctx, f.hr, "c@example.com", people.Patch{EndDate: &end})
		f.people.IssueAckLink(f.ctx, f.hr, "a@example.com")
		plan, err := f.people.PlanAckLinks(f.ctx)
		if err != nil || len(plan.Recipients) != 1 || plan.Recipients[0].Email != "a@example.com" || !plan.Recipients[0].LiveLink || plan.Replaced != 1 {
			t.Fatalf("plan %+v (%v), want a@ only, with a live link", plan, err)
		}
		if _, err := f.people.SendAckLinks(f.ctx, f.hr, 2); !errors.Is(err, people.ErrAckLinkPlanChanged) {
			t.Fatalf("sending to a number other than the plan's: %v", err)
		}
		outbox := notify.NewOutbox(st.DB)
		if msgs, _ := outbox.List(f.ctx, notify.Filter{}); len(msgs) != 1 {
			t.Fatalf("planning or a refused send queued mail: %d messages", len(msgs))
		}
		n, err := f.people.SendAckLinks(f.ctx, f.hr, 1)
		if err != nil || n != 1 {
			t.Fatalf("sent %d (%v), want 1", n, err)
		}
		msgs, _ := outbox.List(f.ctx, notify.Filter{})
		if len(msgs) != 2 || msgs[0].ToAddr != "a@example.com" || msgs[1].ToAddr != "a@example.com" {
			t.Fatalf("outbox: %+v", msgs)
		}
		if _, err := f.people.IssueAckLink(f.ctx, f.hr, "b@example.com"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("link for someone who owes nothing: %v", err)
		}
	})
}

func TestAcknowledgeAllByLinkIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "ana@example.com", "2025-06-01")
		m, err := f.people.IssueAckLink(f.ctx, f.hr, "ana@example.com")
		if err != nil {
			t.Fatal(err)
		}
		token := tokenIn(t, m)
		v, err := f.people.AckPage(f.ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		all := make([]people.AckChoice, len(v.Owed))
		for i, o := range v.Owed {
			all[i] = people.AckChoice{Slug: o.Slug, Version: o.Version}
			if o.LastAcknowledged != "" || o.Diff != nil || o.Changes != nil {
				t.Fatalf("%s: history for a policy never acknowledged: %+v", o.Slug, o)
			}
		}
		from := audit.Actor{IP: "203.0.113.9", UserAgent: "Mobile Safari"}
		count := func() (n int64) { st.DB.Table("acknowledgements").Count(&n); return n }
		for name, c := range map[string]struct {
			choices []people.AckChoice
			agreed  bool
			kind    apperr.Kind
		}{
			"statement not ticked": {all, false, apperr.Invalid},
			"nothing chosen":       {nil, true, apperr.Conflict},
			"one not owed":         {append(all[:3:3], people.AckChoice{Slug: "no-such", Version: "1.0"}), true, apperr.Conflict},
			"one version is stale": {append(all[:3:3], people.AckChoice{Slug: all[3].Slug, Version: "0.9"}), true, apperr.Conflict},
		} {
			if _, err := f.people.AcknowledgeAllByLink(f.ctx, from, token, c.choices, c.agreed); !apperr.Is(err, c.kind) {
				t.Errorf("%s: %v, want %v", name, err, c.kind)
			}
			if count() != 0 {
				t.Fatalf("%s: %d acknowledgements recorded", name, count())
			}
		}
		acks, err := f.people.AcknowledgeAllByLink(f.ctx, from, token, append(all, all[0]), true)
		if err != nil || len(acks) != 20 || count() != 20 {
			t.Fatalf("all: %d recorded (%v), %d stored", len(acks), err, count())
		}
		for i, a := range acks {
			if a.SHA256 != v.Owed[i].SHA256 || a.Method != people.MethodLink || a.UserAgent != "Mobile Safari" {
				t.Errorf("%s: %+v", v.Owed[i].Slug, a)
			}
		}
	})
}
