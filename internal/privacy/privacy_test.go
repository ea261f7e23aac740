package privacy_test

import (
	"bytes"
	"context"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/publicform"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/seed"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	ctx   context.Context
	st    *store.Store
	svc   *privacy.Service
	clock *clock
	by    audit.Actor
}

func setup(t *testing.T, st *store.Store) *fixture { return setupWith(t, st, privacy.Settings{}) }

// setupWith is setup with settings of the test's choosing; the base URL and
// the team's addresses are always those below.
func setupWith(t *testing.T, st *store.Store, settings privacy.Settings) *fixture {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	orgs := org.NewService(st.DB, c.now)
	data, _ := seed.Files.ReadFile("organization.yaml")
	profile, err := org.ParseProfile(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.Seed(ctx, audit.System("test"), profile); err != nil {
		t.Fatal(err)
	}
	fs := files.InDatabase(st.DB)
	settings.BaseURL = "https://charter.test"
	settings.TeamAddresses = func(context.Context) ([]string, error) { return []string{"ops@posthog.example"}, nil }
	svc := privacy.NewService(st.DB, c.now, fs, orgs, settings)
	return &fixture{ctx: ctx, st: st, svc: svc, clock: c, by: audit.System("test:editor")}
}

func fieldOf(err error) string {
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Invalid {
		return ""
	}
	for k := range e.Fields {
		return k
	}
	return ""
}

func TestDPAValidationNamesTheField(t *testing.T) {
	f := setup(t, storetest.SQLite(t))
	ok := privacy.DPAInput{Direction: "customer", Counterparty: "Acme", ContactEmail: "legal@acme.example"}
	cases := []struct {
		name  string
		edit  func(*privacy.DPAInput)
		field string
	}{
		{"direction", func(in *privacy.DPAInput) { in.Direction = "partner" }, "direction"},
		{"counterparty", func(in *privacy.DPAInput) { in.Counterparty = " " }, "counterparty"},
		{"customer needs a contact", func(in *privacy.DPAInput) { in.ContactEmail = "" }, "contact_email"},
		{"bad email", func(in *privacy.DPAInput) { in.ContactEmail = "legal at acme" }, "contact_email"},
		{"bad domain", func(in *privacy.DPAInput) { in.Domain = "acme" }, "domain"},
		{"bad date", func(in *privacy.DPAInput) { in.SignedOn = "12/03/2026" }, "signed_on"},
		{"signed needs a date", func(in *privacy.DPAInput) { in.Status = "signed" }, "signed_on"},
		{"effective before signed", func(in *privacy.DPAInput) { in.SignedOn, in.EffectiveOn = "2026-03-01", "2026-02-01" }, "effective_on"},
		{"unknown mechanism", func(in *privacy.DPAInput) { in.TransferMechanisms = []string{"bcr"} }, "transfer_mechanisms"},
		{"none with another", func(in *privacy.DPAInput) { in.TransferMechanisms = []string{"none", "eu_us_dpf"} }, "transfer_mechanisms"},
		{"SCCs need a module", func(in *privacy.DPAInput) { in.TransferMechanisms = []string{"eu_scc"} }, "scc_modules"},
		{"module without SCCs", func(in *privacy.DPAInput) { in.SCCModules = []string{"2"} }, "scc_modules"},
		{"module 5", func(in *privacy.DPAInput) { in.TransferMechanisms, in.SCCModules = []string{"eu_scc"}, []string{"5"} }, "scc_modules"},
		{"authorization", func(in *privacy.DPAInput) { in.SubprocessorAuthorization = "none" }, "subprocessor_authorization"},
		{"notice days", func(in *privacy.DPAInput) { in.NoticeDays = "120" }, "notice_days"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ok
			c.edit(&in)
			_, err := f.svc.CreateDPA(f.ctx, f.by, in)
			if got := fieldOf(err); got != c.field {
				t.Fatalf("field %q, want %q (err %v)", got, c.field, err)
			}
		})
	}
	var n int64
	f.st.DB.Model(&privacy.DPA{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d DPAs stored by refused input", n)
	}
	d, err := f.svc.CreateDPA(f.ctx, f.by, privacy.DPAInput{Direction: "customer", Counterparty: "Acme", ContactEmail: "Legal@Acme.example",
		TransferMechanisms: []string{"eu_scc,uk_addendum"}, SCCModules: []string{"2"}})
	if err != nil || d.Domain != "acme.example" || d.Status != privacy.Requested || d.NoticeDays != 30 || d.TransferMechanisms != "eu_scc,uk_addendum" {
		t.Fatalf("created %+v, %v", d, err)
	}
}

func TestDPAStatusMovesForwardWithHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		d, err := f.svc.CreateDPA(f.ctx, f.by, privacy.DPAInput{Direction: "customer", Counterparty: "Acme", ContactEmail: "legal@acme.example"})
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			in    privacy.StatusInput
			field string
		}{
			{privacy.StatusInput{Status: "requested"}, "status"},
			{privacy.StatusInput{Status: "sent"}, ""},
			{privacy.StatusInput{Status: "signed", Date: "2027-01-01"}, "date"},
			{privacy.StatusInput{Status: "signed", Date: "2026-03-09"}, ""},
			{privacy.StatusInput{Status: "sent"}, "status"},
			{privacy.StatusInput{Status: "terminated", Date: "2026-03-01"}, "date"},
			{privacy.StatusInput{Status: "terminated", Note: "contract ended"}, ""},
			{privacy.StatusInput{Status: "signed"}, "status"},
		}
		for i, s := range steps {
			_, err := f.svc.SetDPAStatus(f.ctx, f.by, d.ID, s.in)
			if got := fieldOf(err); got != s.field || (s.field == "" && err != nil) {
				t.Fatalf("step %d %+v: field %q want %q (%v)", i, s.in, got, s.field, err)
			}
		}
		got, _ := f.svc.DPA(f.ctx, d.ID)
		if got.Status != privacy.Terminated || got.SignedOn.Format(time.DateOnly) != "2026-03-09" || got.TerminatedOn.Format(time.DateOnly) != "2026-03-10" {
			t.Fatalf("final: %+v", got)
		}
		h, _ := f.svc.DPAHistory(f.ctx, d.ID)
		var path []string
		for _, c := range h {
			path = append(path, c.ToStatus)
		}
		if strings.Join(path, ">") != "requested>sent>signed>terminated" || h[3].Note != "contract ended" {
			t.Fatalf("history %v", h)
		}
	})
}

func TestDPAFileMustBeAPDFWithinTheLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		d, _ := f.svc.CreateDPA(f.ctx, f.by, privacy.DPAInput{Direction: "vendor", Counterparty: "AWS"})
		before := countEvents(st)
		big := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 20<<20)...)
		for name, c := range map[string]struct {
			file, body string
		}{
			"not a PDF":    {"dpa.pdf", "PK\x03\x04 this is a zip"},
			"PDF as .docx": {"dpa.docx", "%PDF-1.7\n"},
			"too large":    {"dpa.pdf", string(big)},
			"empty":        {"dpa.pdf", ""},
		} {
			_, err := f.svc.AttachFile(f.ctx, f.by, d.ID, c.file, strings.NewReader(c.body))
			if fieldOf(err) != "file" {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if n := countStoredFiles(st); n != 0 {
			t.Fatalf("%d files left behind", n)
		}
		if got, _ := f.svc.DPA(f.ctx, d.ID); got.FileSHA256 != "" || countEvents(st) != before {
			t.Fatal("a refused upload changed the register")
		}
		got, err := f.svc.AttachFile(f.ctx, f.by, d.ID, "signed.pdf", strings.NewReader("%PDF-1.7\nsigned"))
		if err != nil || len(got.FileSHA256) != 64 || got.FileName != "signed.pdf" {
			t.Fatalf("attach: %+v %v", got, err)
		}
		_, rc, err := f.svc.DPAFile(f.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
	})
}

func countEvents(st *store.Store) int64 {
	var n int64
	st.DB.Model(&audit.Event{}).Count(&n)
	return n
}

func countStoredFiles(st *store.Store) int64 {
	var n int64
	st.DB.Table("files").Count(&n)
	return n
}

var objectionLink = regexp.MustCompile(`/trust/objections/([A-Za-z0-9_-]{43})`)
var confirmLink = regexp.MustCompile(`/trust/subscribe/confirm/([A-Za-z0-9_-]{43})`)

func outbox(t *testing.T, st *store.Store, to string) []notify.Message {
	t.Helper()
	var ms []notify.Message
	if err := st.DB.Where("to_addr = ?", to).Order("id").Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestChangeNoticeLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		data, _ := seed.Files.ReadFile("privacy-demo.yaml")
		if ok, err := f.svc.SeedDemo(f.ctx, audit.System("seed"), data); !ok || err != nil {
			t.Fatalf("demo: %v %v", ok, err)
		}
		// A subscriber confirms through the emailed link.
		anon := audit.Actor{Label: "anonymous", IP: "198.51.100.7"}
		if err := f.svc.Subscribe(f.ctx, anon, "Reviewer@Customer.example"); err != nil {
			t.Fatal(err)
		}
		m := outbox(t, st, "reviewer@customer.example")
		token := confirmLink.FindStringSubmatch(m[0].Body)[1]
		if err := f.svc.Confirm(f.ctx, anon, token); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Confirm(f.ctx, anon, token); !apperr.Is(err, apperr.Gone) {
			t.Fatalf("second confirmation: %v", err)
		}
		p, err := f.svc.CreateSubprocessor(f.ctx, f.by, privacy.SubprocessorInput{Name: "Cloudflare", Purpose: "Content delivery and DDoS protection", Countries: "us, de", TransferMechanism: "eu_us_dpf", Website: "https://www.cloudflare.com"})
		if err != nil || p.Status != privacy.Proposed {
			t.Fatalf("create: %+v %v", p, err)
		}
		// Too soon, too late, and a valid date.
		for date, field := range map[string]string{"2026-03-20": "effective_on", "2026-07-01": "effective_on"} {
			if _, _, err := f.svc.Announce(f.ctx, f.by, privacy.NoticeInput{Change: "add", SubprocessorID: p.ID, EffectiveOn: date}); fieldOf(err) != field {
				t.Fatalf("%s: %v", date, err)
			}
		}
		n, sent, err := f.svc.Announce(f.ctx, f.by, privacy.NoticeInput{Change: "add", SubprocessorID: p.ID, EffectiveOn: "2026-04-09"})
		if err != nil || sent != 3 { // two signed customer DPAs and the subscriber
			t.Fatalf("announce: %+v sent %d %v", n, sent, err)
		}
		if _, _, err := f.svc.Announce(f.ctx, f.by, privacy.NoticeInput{Change: "add", SubprocessorID: p.ID, EffectiveOn: "2026-04-10"}); err == nil {
			t.Fatal("announced twice")
		}
		sub := outbox(t, st, "reviewer@customer.example")
		if len(sub) != 2 || !strings.Contains(sub[1].ListUnsubscribe, "/trust/unsubscribe/") || objectionLink.MatchString(sub[1].Body) {
			t.Fatalf("subscriber notice: %+v", sub)
		}
		cust := outbox(t, st, "privacy@globex.example")
		if len(cust) != 1 || !strings.Contains(cust[0].Body, "Cloudflare") {
			t.Fatalf("customer notice: %+v", cust)
		}
		objToken := objectionLink.FindStringSubmatch(cust[0].Body)[1]
		if _, err := f.svc.Object(f.ctx, anon, objToken, ""); fieldOf(err) != "reason" {
			t.Fatalf("empty reason: %v", err)
		}
		v, err := f.svc.Object(f.ctx, anon, objToken, "Our data must stay in the EU.")
		if err != nil || v.Existing == nil || v.Counterparty != "Globex Corporation" {
			t.Fatalf("object: %+v %v", v, err)
		}
		if _, err := f.svc.Object(f.ctx, anon, objToken, "again"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("second objection: %v", err)
		}
		// Nothing applies before the date; on the date it does, once.
		f.clock.advance(29 * 24 * time.Hour)
		if k, err := f.svc.ApplyDue(f.ctx, audit.System("job")); k != 0 || err != nil {
			t.Fatalf("early apply: %d %v", k, err)
		}
		f.clock.advance(24 * time.Hour)
		if _, err := f.svc.Object(f.ctx, anon, objToken, "late"); !apperr.Is(err, apperr.Gone) {
			t.Fatalf("objection after the date: %v", err)
		}
		if k, err := f.svc.ApplyDue(f.ctx, audit.System("job")); k != 1 || err != nil {
			t.Fatalf("apply: %d %v", k, err)
		}
		if k, _ := f.svc.ApplyDue(f.ctx, audit.System("job")); k != 0 {
			t.Fatal("applied twice")
		}
		got, _ := f.svc.Subprocessor(f.ctx, p.ID)
		if got.Status != privacy.Active || got.ActiveSince.Format(time.DateOnly) != "2026-04-09" {
			t.Fatalf("after apply: %+v", got)
		}
		d, err := f.svc.NoticeByID(f.ctx, n.ID)
		if err != nil || d.State != privacy.Applied || len(d.Objections) != 1 || d.Recipients != 3 {
			t.Fatalf("notice: %+v %v", d, err)
		}
	})
}

func TestPublicDPARequestOpensOneEntryPerDomain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		anon := audit.Actor{Label: "anonymous"}
		regions := []string{"EU (AWS, Germany)", "US (AWS, US-West)"}
		if _, err := f.svc.RequestDPA(f.ctx, anon, privacy.DPARequest{Company: "Acme", Email: "cto@acme.example", Region: "Mars"}, regions); fieldOf(err) != "region" {
			t.Fatalf("region: %v", err)
		}
		d, err := f.svc.RequestDPA(f.ctx, anon, privacy.DPARequest{Company: "Acme", Email: "cto@acme.example", Region: regions[0]}, regions)
		if err != nil || d.Status != privacy.Requested || d.Source != "public form" {
			t.Fatalf("%+v %v", d, err)
		}
		again, _ := f.svc.RequestDPA(f.ctx, anon, privacy.DPARequest{Company: "Acme Inc", Email: "legal@acme.example", Region: regions[0]}, regions)
		if again.ID != d.ID {
			t.Fatal("a second request from the domain opened another entry")
		}
		if ms := outbox(t, st, "ops@posthog.example"); len(ms) != 1 || !strings.Contains(ms[0].Body, "/app/privacy/dpas/") {
			t.Fatalf("team notification: %+v", ms)
		}
	})
}

func TestListDPAsFiltersAndSearches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		for _, in := range []privacy.DPAInput{
			{Direction: "customer", Counterparty: "Acme Corp", ContactEmail: "legal@acme.example"},
			{Direction: "customer", Counterparty: "100% Pure", ContactEmail: "dpo@pure.example", Status: "signed", SignedOn: "2026-01-05"},
			{Direction: "vendor", Counterparty: "Zendesk", Domain: "zendesk.com", Status: "signed", SignedOn: "2025-01-01"},
		} {
			if _, err := f.svc.CreateDPA(f.ctx, f.by, in); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			filter privacy.DPAFilter
			want   int64
		}{
			{privacy.DPAFilter{}, 3},
			{privacy.DPAFilter{Direction: "vendor"}, 1},
			{privacy.DPAFilter{Status: "signed"}, 2},
			{privacy.DPAFilter{Direction: "customer", Status: "signed"}, 1},
			{privacy.DPAFilter{Q: "ACME"}, 1},
			{privacy.DPAFilter{Q: "zendesk.com"}, 1},
			{privacy.DPAFilter{Q: "%"}, 1}, // a literal percent sign, not a wildcard
			{privacy.DPAFilter{Q: "nobody"}, 0},
		}
		for _, c := range cases {
			p, err := f.svc.ListDPAs(f.ctx, c.filter, 0, 2)
			if err != nil || p.Total != c.want || int64(len(p.DPAs)) != min(c.want, 2) {
				t.Errorf("%+v: %+v %v, want %d", c.filter, p, err, c.want)
			}
		}
		if _, err := f.svc.ListDPAs(f.ctx, privacy.DPAFilter{Status: "draft"}, 0, 10); fieldOf(err) != "status" {
			t.Errorf("bad status: %v", err)
		}
	})
}

// The free-mail rule is the service's, not only the public form's: a
// subscription or DPA request from a free-mail address is refused when the
// service is called directly, with the message the form shows, and nothing
// is stored or queued.
func TestFreeMailAddressesAreRefused(t *testing.T) {
	regions := []string{"EU (AWS, Germany)"}
	subscribe := func(f *fixture, email string) error {
		return f.svc.Subscribe(f.ctx, audit.Actor{Label: "anonymous"}, email)
	}
	requestDPA := func(f *fixture, email string) error {
		_, err := f.svc.RequestDPA(f.ctx, audit.Actor{Label: "anonymous"}, privacy.DPARequest{Company: "Acme", Email: email, Region: regions[0]}, regions)
		return err
	}
	configured := privacy.Settings{WorkEmail: publicform.NewWorkEmail([]string{"freemail.example"})}
	cases := []struct {
		name     string
		settings privacy.Settings
		call     func(*fixture, string) error
		email    string
		want     string // the message on "email"; empty when accepted
	}{
		{"subscribe: built-in list refuses gmail", privacy.Settings{}, subscribe, " Ana@GMail.com ", "must be your work email address; gmail.com is a free-mail provider"},
		{"DPA request: built-in list refuses gmail", privacy.Settings{}, requestDPA, "cto@gmail.com", "must be your work email address; gmail.com is a free-mail provider"},
		{"DPA request: no @ is not an address", privacy.Settings{}, requestDPA, "cto", notify.AddressProblem},
		{"subscribe: configured list refuses its domain", configured, subscribe, "ana@freemail.example", "must be your work email address; freemail.example is a free-mail provider"},
		{"DPA request: configured list refuses its domain", configured, requestDPA, "cto@freemail.example", "must be your work email address; freemail.example is a free-mail provider"},
		{"subscribe: configured list replaces the built-in one", configured, subscribe, "ana@gmail.com", ""},
		{"DPA request: configured list replaces the built-in one", configured, requestDPA, "cto@gmail.com", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				f := setupWith(t, st, c.settings)
				err := c.call(f, c.email)
				if c.want == "" {
					if err != nil {
						t.Fatalf("%s refused: %v", c.email, err)
					}
					return
				}
				if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || len(e.Fields) != 1 || e.Fields["email"] != c.want {
					t.Fatalf("%s: got %v, want Invalid on email only: %q", c.email, err, c.want)
				}
				for _, table := range []string{"subscribers", "dpas", "outbox", "share_links"} {
					var n int64
					if err := st.DB.Table(table).Count(&n).Error; err != nil || n != 0 {
						t.Fatalf("%s: %d rows (%v) after a refusal", table, n, err)
					}
				}
			})
		})
	}
}

// The one-of rule on a sub-processor's transfer mechanism is written out in
// its tag; it must name exactly the mechanisms the forms offer.
func TestTransferMechanismRuleListsEveryMechanism(t *testing.T) {
	f, _ := reflect.TypeOf(privacy.SubprocessorInput{}).FieldByName("TransferMechanism")
	var codes []string
	for _, m := range privacy.TransferMechanisms {
		codes = append(codes, m.Code)
	}
	if want := "oneof=" + strings.Join(codes, " "); f.Tag.Get("validate") != want {
		t.Fatalf("tag %q, want %q", f.Tag.Get("validate"), want)
	}
}

// The lists check what they are asked for: a status or a state that is not
// one is refused by name.
func TestListsRefuseUnknownStates(t *testing.T) {
	f := setup(t, storetest.SQLite(t))
	if _, err := f.svc.Subprocessors(f.ctx, "archived"); fieldOf(err) != "status" {
		t.Errorf("sub-processors: %v", err)
	}
	if _, err := f.svc.Notices(f.ctx, privacy.NoticeFilter{States: []string{privacy.Scheduled, "draft"}}); fieldOf(err) != "state" {
		t.Errorf("notices: %v", err)
	}
	if _, err := f.svc.Notices(f.ctx, privacy.NoticeFilter{States: []string{privacy.Scheduled, privacy.Applied, privacy.Withdrawn}}); err != nil {
		t.Errorf("notices in every state: %v", err)
	}
}
