package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/publicform"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// withDefaultFormLimits puts back the shipped limits the harness relaxes.
func withDefaultFormLimits(c *config.Config) {
	d := config.Defaults()
	c.PublicFormsPerHour, c.PublicFormsPerFormPerHour = d.PublicFormsPerHour, d.PublicFormsPerFormPerHour
	c.PublicFormsPerAddressPerHour, c.PublicFormsPerAddressPerDay = d.PublicFormsPerAddressPerHour, d.PublicFormsPerAddressPerDay
}

// submitFrom posts a public form as a client at addr, with a CSRF token
// the server issued.
func (e *env) submitFrom(addr, path, csrf string, form url.Values) *httptest.ResponseRecorder {
	v := url.Values{"csrf": {csrf}}
	for k, vs := range form {
		v[k] = vs
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "charter_csrf", Value: csrf})
	req.RemoteAddr = addr + ":1234" // what echo's direct IP extractor reads
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// victimRows counts what the public forms stored for address.
func (e *env) victimRows(address string) (rows, emails int64) {
	e.t.Helper()
	for _, q := range []struct{ table, column string }{
		{"subscribers", "email"}, {"dpas", "contact_email"}, {"packet_requests", "email"},
		{"vulnerability_reports", "email"}, {"privacy_requests", "requester_email"},
	} {
		var n int64
		if err := e.st.DB.Table(q.table).Where(q.column+" = ?", address).Count(&n).Error; err != nil {
			e.t.Fatal(err)
		}
		rows += n
	}
	if err := e.st.DB.Table("outbox").Where("to_addr = ?", address).Count(&emails).Error; err != nil {
		e.t.Fatal(err)
	}
	return rows, emails
}

// The attack of issue 16: many anonymous submissions aimed at one
// address from many sources. Each form admits the per-address limit, and
// stores and emails no more; the rest are refused before anything is
// written.
func TestPublicFormsCannotFloodOneAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, withDefaultFormLimits)
		limit := config.Defaults().PublicFormsPerAddressPerHour
		csrf := e.browser().csrf()
		const victim = "victim@acme.example"
		// The victim has an account too, so that forgotten-password
		// requests for it send email.
		if _, err := e.users.Create(context.Background(), audit.System("test"), auth.NewUser{Email: victim, Role: auth.Viewer, Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		forms := []struct {
			name, path string
			form       url.Values
		}{
			{"subscribe", "/trust/subscribe", url.Values{"email": {victim}}},
			{"dpa_request", "/trust/dpa", url.Values{"company": {"Acme"}, "email": {victim}, "region": {"EU (AWS, Germany)"}}},
			{"packet_request", "/trust/request", url.Values{"name": {"Vic Tim"}, "email": {victim}, "company": {"Acme"}, "nda_version": {"1"}, "accept_nda": {"true"}}},
			{"security_report", "/trust/security", url.Values{"email": {victim}, "summary": {"XSS in search"}, "details": {"The q parameter is reflected."}}},
			{"privacy_request", "/trust/privacy-request", url.Values{"requester_name": {"Vic Tim"}, "requester_email": {" Victim@ACME.example"}, "law": {"gdpr"}, "type": {"access"}}},
			{"password_reset", "/login/forgot", url.Values{"email": {victim}}},
		}
		const submissions, sources = 200, 50
		for _, f := range forms {
			rowsBefore, emailsBefore := e.victimRows(victim)
			var mu sync.Mutex
			statuses := map[int]int{}
			var wg sync.WaitGroup
			for src := range sources {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range submissions / sources {
						rec := e.submitFrom(fmt.Sprintf("127.0.0.%d", src+1), f.path, csrf, f.form)
						if rec.Code == http.StatusTooManyRequests {
							wait, err := strconv.Atoi(rec.Header().Get("Retry-After"))
							if err != nil || wait < 1 || wait > 3600 {
								t.Errorf("%s: 429 with Retry-After %q", f.name, rec.Header().Get("Retry-After"))
							}
							if !strings.Contains(rec.Body.String(), "Please try again in") {
								t.Errorf("%s: 429 without a message: %s", f.name, rec.Body.String())
							}
						}
						mu.Lock()
						statuses[rec.Code]++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if statuses[http.StatusOK] != limit || statuses[http.StatusTooManyRequests] != submissions-limit {
				t.Fatalf("%s: statuses %v, want %d × 200 and the rest 429", f.name, statuses, limit)
			}
			rows, emails := e.victimRows(victim)
			if rows-rowsBefore > int64(limit) || emails-emailsBefore > int64(limit) {
				t.Fatalf("%s: %d rows stored and %d emails queued for %s, over the limit of %d", f.name, rows-rowsBefore, emails-emailsBefore, victim, limit)
			}
			// The next form starts with fresh hour and day windows.
			e.clock.Advance(25 * time.Hour)
		}
		if rows, emails := e.victimRows(victim); rows == 0 || emails == 0 {
			t.Fatalf("nothing stored (%d) or sent (%d): the forms did not work", rows, emails)
		}
		r := e.browser().get("/metrics")
		want := `charter_public_form_refusals_total{form="security_report",limit="recipient_hour"} ` + strconv.Itoa(submissions-limit)
		if !strings.Contains(r.body, want) {
			t.Fatalf("/metrics lacks %q", want)
		}
	})
}

func TestPublicFormLimitsPerNetwork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *config.Config) { c.PublicFormsPerHour = 3 })
		csrf := e.browser().csrf()
		// One IPv6 client rotating its address inside its /64.
		for i := range 3 {
			subscribe := url.Values{"email": {fmt.Sprintf("s%d@acme.example", i)}}
			if rec := e.submitFrom(fmt.Sprintf("[2001:db8:5:6::%d]", i+1), "/trust/subscribe", csrf, subscribe); rec.Code != http.StatusOK {
				t.Fatalf("submission %d: %d", i, rec.Code)
			}
		}
		rec := e.submitFrom("[2001:db8:5:6:ffff::9]", "/trust/subscribe", csrf, url.Values{"email": {"new@acme.example"}})
		if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "from your network") {
			t.Fatalf("fourth from the same /64: %d %s", rec.Code, rec.Body.String())
		}
		if wait := rec.Header().Get("Retry-After"); wait != "3600" {
			t.Fatalf("Retry-After %q, want the hour the oldest needs to leave the window", wait)
		}
		if rows, emails := e.victimRows("new@acme.example"); rows != 0 || emails != 0 {
			t.Fatalf("a refused submission stored %d rows and queued %d emails", rows, emails)
		}
		if rec := e.submitFrom("[2001:db8:5:7::1]", "/trust/subscribe", csrf, url.Values{"email": {"new@acme.example"}}); rec.Code != http.StatusOK {
			t.Fatalf("from the next /64: %d", rec.Code)
		}
		e.clock.Advance(time.Hour)
		if rec := e.submitFrom("[2001:db8:5:6::1]", "/trust/subscribe", csrf, url.Values{"email": {"other@acme.example"}}); rec.Code != http.StatusOK {
			t.Fatalf("an hour later: %d", rec.Code)
		}
	})
}

// A form refused for its content sent nothing, so it does not use up the
// address's few emails.
func TestInvalidSubmissionsDoNotCountAgainstTheAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, withDefaultFormLimits)
		csrf := e.browser().csrf()
		bad := url.Values{"requester_name": {""}, "requester_email": {"ana@acme.example"}, "law": {"gdpr"}, "type": {"access"}}
		for i := range 5 {
			if rec := e.submitFrom("192.0.2.10", "/trust/privacy-request", csrf, bad); rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("invalid submission %d: %d", i, rec.Code)
			}
		}
		good := url.Values{"requester_name": {"Ana"}, "requester_email": {"ana@acme.example"}, "law": {"gdpr"}, "type": {"access"}}
		for i := range config.Defaults().PublicFormsPerAddressPerHour {
			if rec := e.submitFrom("192.0.2.10", "/trust/privacy-request", csrf, good); rec.Code != http.StatusOK {
				t.Fatalf("valid submission %d after invalid ones: %d", i, rec.Code)
			}
		}
		if rec := e.submitFrom("192.0.2.11", "/trust/privacy-request", csrf, good); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("over the address's limit: %d", rec.Code)
		}
	})
}

// outboxLink returns the newest link with prefix emailed to address.
func (e *env) outboxLink(t *testing.T, address, prefix string) string {
	t.Helper()
	var bodies []string
	if err := e.st.DB.Table("outbox").Where("to_addr = ?", address).Order("id DESC").Pluck("body", &bodies).Error; err != nil || len(bodies) == 0 {
		t.Fatalf("no email to %s: %v", address, err)
	}
	return linkOf(t, bodies[0], prefix)
}

func TestUnconfirmedSubmissionsExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		v := e.browser()
		submit := func(kind, email string) {
			t.Helper()
			form := map[string]url.Values{
				"packet":  {"name": {"Ana"}, "email": {email}, "company": {"Acme"}, "nda_version": {"1"}, "accept_nda": {"true"}},
				"privacy": {"requester_name": {"Ana"}, "requester_email": {email}, "law": {"gdpr"}, "type": {"access"}},
				"notices": {"email": {email}},
			}[kind]
			path := map[string]string{"packet": "/trust/request", "privacy": "/trust/privacy-request", "notices": "/trust/subscribe"}[kind]
			if r := v.post(path, form); r.status != http.StatusOK {
				t.Fatalf("%s for %s: %d %s", kind, email, r.status, r.body)
			}
		}
		confirm := func(email, prefix, done string) {
			t.Helper()
			if r := v.postRaw(e.outboxLink(t, email, prefix), url.Values{}, nil); r.status != http.StatusOK || !strings.Contains(r.body, done) {
				t.Fatalf("confirming %s: %d", prefix, r.status)
			}
		}
		// Day 0: one of each left unconfirmed, one of each confirmed.
		for _, kind := range []string{"packet", "privacy", "notices"} {
			submit(kind, kind+"-stale@acme.example")
			submit(kind, kind+"-kept@acme.example")
		}
		confirm("packet-kept@acme.example", "/trust/request/confirm/", "Request confirmed")
		confirm("privacy-kept@acme.example", "/trust/privacy-request/confirm/", "Request received")
		confirm("notices-kept@acme.example", "/trust/subscribe/confirm/", "Subscription confirmed")
		submit("notices", "notices-again@acme.example")
		// Day 6: asking again sends a new link for the same subscription.
		e.clock.Advance(6 * 24 * time.Hour)
		submit("notices", "notices-again@acme.example")
		// Day 8, an hour before the job: recent, unconfirmed.
		e.clock.Advance(2*24*time.Hour - time.Hour)
		for _, kind := range []string{"packet", "privacy", "notices"} {
			submit(kind, kind+"-recent@acme.example")
		}
		e.clock.Advance(time.Hour)

		job := publicform.RetentionJob(e.st.DB, e.clock.Now, 7*24*time.Hour,
			publicform.Expirer{What: "policy request(s)", Delete: e.packets.DeleteUnconfirmed},
			publicform.Expirer{What: "privacy request(s)", Delete: e.dsar.DeleteUnconfirmed},
			publicform.Expirer{What: "subscription(s)", Delete: e.privacy.DeleteUnconfirmed})
		outcome, err := job.Do(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(outcome, "1 unconfirmed policy request(s) deleted, 1 unconfirmed privacy request(s) deleted, 1 unconfirmed subscription(s) deleted") {
			t.Fatalf("outcome %q", outcome)
		}
		for _, c := range []struct {
			email string
			rows  int64
		}{
			{"packet-stale@acme.example", 0}, {"privacy-stale@acme.example", 0}, {"notices-stale@acme.example", 0},
			{"packet-kept@acme.example", 1}, {"privacy-kept@acme.example", 1}, {"notices-kept@acme.example", 1},
			{"packet-recent@acme.example", 1}, {"privacy-recent@acme.example", 1}, {"notices-recent@acme.example", 1},
			{"notices-again@acme.example", 1},
		} {
			if rows, _ := e.victimRows(c.email); rows != c.rows {
				t.Errorf("%s: %d rows left, want %d", c.email, rows, c.rows)
			}
		}
		var acceptances int64
		e.st.DB.Table("nda_acceptances").Where("email = ?", "packet-stale@acme.example").Count(&acceptances)
		if acceptances != 0 {
			t.Errorf("the expired request's NDA acceptance is still there")
		}
		for _, action := range []string{"packet_request.expired", "privacy_request.expired", "subscriber.expired"} {
			var n int64
			e.st.DB.Model(&audit.Event{}).Where("action = ? AND actor = ?", action, "job:public-forms").Count(&n)
			if n != 1 {
				t.Errorf("%d %s events, want 1", n, action)
			}
		}
		if res, err := audit.Verify(ctx, e.st.DB); err != nil || res.Break != nil {
			t.Fatalf("audit trail: %v %v", err, res.Break)
		}
		var old, recent int64
		e.st.DB.Table("public_form_submissions").Where("submitted_at < ?", e.clock.Now().Add(-publicform.Day)).Count(&old)
		e.st.DB.Table("public_form_submissions").Count(&recent)
		if old != 0 || recent != 3 {
			t.Fatalf("counts: %d older than a day, %d in all; want 0 and the 3 recent", old, recent)
		}
		// A deleted request's reference is not handed out again.
		submit("privacy", "privacy-next@acme.example")
		var refs []string
		e.st.DB.Table("privacy_requests").Order("id").Pluck("reference", &refs)
		if len(refs) != 3 || refs[0] == refs[1] || refs[1] == refs[2] || refs[0] == refs[2] {
			t.Fatalf("references %v", refs)
		}
	})
}
