package packet_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/publicform"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
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
	svc   *packet.Service
	docs  *document.Service
	files *files.Store
	clock *clock
	key   ed25519.PrivateKey
}

func setup(t *testing.T, st *store.Store, settings packet.Settings) *fixture {
	ctx := context.Background()
	// Not a whole second: real clocks are not.
	c := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 123456789, time.UTC)}
	by := audit.System("seed")
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.NewService(st.DB, c.now).Seed(ctx, by, templates); err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(st.DB, c.now)
	data, _ := seed.Files.ReadFile("organization.yaml")
	profile, _ := org.ParseProfile(data)
	if _, err := orgs.Seed(ctx, by, profile); err != nil {
		t.Fatal(err)
	}
	key, err := packet.LoadOrCreateKey(filepath.Join(t.TempDir(), packet.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	settings.BaseURL = "https://charter.test"
	settings.TeamAddresses = func(context.Context) ([]string, error) { return []string{"ops@posthog.example"}, nil }
	fs := files.InDatabase(st.DB)
	docs := document.NewService(st.DB, c.now, fs, document.Settings{BaseURL: "https://charter.test"})
	svc := packet.NewService(st.DB, c.now, orgs, docs, fs, key, settings)
	nda, _ := seed.Files.ReadFile("nda.md")
	if _, err := svc.SeedNDA(ctx, by, string(nda)); err != nil {
		t.Fatal(err)
	}
	return &fixture{ctx: ctx, st: st, svc: svc, docs: docs, files: fs, clock: c, key: key}
}

var confirmLink = regexp.MustCompile(`/trust/request/confirm/([A-Za-z0-9_-]{43})`)
var packetLink = regexp.MustCompile(`/p/([A-Za-z0-9_-]{43})`)

func lastMail(t *testing.T, st *store.Store, to string) string {
	t.Helper()
	var m notify.Message
	if err := st.DB.Where("to_addr = ?", to).Order("id DESC").Take(&m).Error; err != nil {
		t.Fatalf("no email to %s", to)
	}
	return m.Body
}

// request submits and confirms a request and returns it.
func (f *fixture) request(t *testing.T, email string, slugs ...string) *packet.Request {
	t.Helper()
	nda, err := f.svc.CurrentNDA(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	from := audit.Actor{Label: "anonymous", IP: "203.0.113.5", UserAgent: "Firefox"}
	r, err := f.svc.Submit(f.ctx, from, packet.RequestInput{Name: "Dana Reviewer", Email: email, Company: "Customer Ltd", Role: "Security analyst",
		Policies: slugs, Reason: "Vendor review", NDAVersion: nda.Version, AcceptNDA: true})
	if err != nil {
		t.Fatal(err)
	}
	token := confirmLink.FindStringSubmatch(lastMail(t, f.st, email))[1]
	got, _, err := f.svc.Confirm(f.ctx, from, token)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID {
		t.Fatal("confirmed another request")
	}
	return got
}

func TestRequestValidation(t *testing.T) {
	f := setup(t, storetest.SQLite(t), packet.Settings{})
	nda, _ := f.svc.CurrentNDA(f.ctx)
	ok := packet.RequestInput{Name: "Dana", Email: "dana@customer.example", Company: "Customer", NDAVersion: nda.Version, AcceptNDA: true}
	cases := []struct {
		edit  func(*packet.RequestInput)
		field string
	}{
		{func(in *packet.RequestInput) { in.Name = "" }, "name"},
		{func(in *packet.RequestInput) { in.Email = "dana" }, "email"},
		{func(in *packet.RequestInput) { in.Company = "" }, "company"},
		{func(in *packet.RequestInput) { in.AcceptNDA = false }, "accept_nda"},
		{func(in *packet.RequestInput) { in.NDAVersion = 99 }, "accept_nda"},
		{func(in *packet.RequestInput) { in.Policies = []string{"no-such-policy"} }, "policies"},
	}
	for _, c := range cases {
		in := ok
		c.edit(&in)
		_, err := f.svc.Submit(f.ctx, audit.Actor{}, in)
		if e, isApp := apperr.As(err); !isApp || e.Fields[c.field] == "" {
			t.Errorf("want an error on %s, got %v", c.field, err)
		}
	}
	var n int64
	f.st.DB.Model(&packet.Request{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d requests stored from refused input", n)
	}
}

// The decision's limits are checked before the request is looked up: at
// the edges of MaxExpiryDays and of the download limit the rule is the one
// the message states.
func TestDecisionLimits(t *testing.T) {
	f := setup(t, storetest.SQLite(t), packet.Settings{})
	limit := func(n int) *int { return &n }
	cases := []struct {
		d     packet.Decision
		field string // empty: within the limits (the missing request is reported)
	}{
		{packet.Decision{}, ""},
		{packet.Decision{ExpiryDays: packet.MaxExpiryDays, DownloadLimit: limit(1000)}, ""},
		{packet.Decision{ExpiryDays: 1, DownloadLimit: limit(1)}, ""},
		{packet.Decision{ExpiryDays: packet.MaxExpiryDays + 1}, "expiry_days"},
		{packet.Decision{ExpiryDays: -1}, "expiry_days"},
		{packet.Decision{DownloadLimit: limit(0)}, "download_limit"},
		{packet.Decision{DownloadLimit: limit(1001)}, "download_limit"},
	}
	for _, c := range cases {
		_, err := f.svc.Approve(f.ctx, audit.System("editor"), 999, c.d)
		if c.field == "" {
			if !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%+v: %v, want the request not found", c.d, err)
			}
			continue
		}
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || e.Fields[c.field] == "" {
			t.Errorf("%+v: %v, want an error on %s", c.d, err, c.field)
		}
	}
}

func TestPacketLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, packet.Settings{})
		r := f.request(t, "dana@customer.example", "backup", "encryption")
		if r.Status != packet.Pending {
			t.Fatalf("status %s", r.Status)
		}
		if !strings.Contains(lastMail(t, st, "ops@posthog.example"), "/app/packets/requests/") {
			t.Fatal("the team was not told")
		}
		editor := audit.System("editor@example.com")
		if _, err := f.svc.Approve(f.ctx, editor, r.ID, packet.Decision{Policies: []string{"password"}}); err == nil {
			t.Fatal("approved a policy that was not requested")
		}
		limit := 5
		p, err := f.svc.Approve(f.ctx, editor, r.ID, packet.Decision{ExpiryDays: 14, DownloadLimit: &limit})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Approve(f.ctx, editor, r.ID, packet.Decision{}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("approved twice: %v", err)
		}
		token := packetLink.FindStringSubmatch(lastMail(t, st, "dana@customer.example"))[1]
		from := audit.Actor{IP: "198.51.100.20", UserAgent: "Safari"}
		v, err := f.svc.Open(f.ctx, from, token)
		// The NDA accepted with the request holds for the packet.
		if err != nil || len(v.Policies) != 2 || len(v.Files) != 3 || v.NDA != nil {
			t.Fatalf("open: %+v %v", v, err)
		}
		// 20 concurrent downloads of one file, a limit of 5 per file:
		// exactly 5 succeed.
		var ok, gone atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				data, _, err := f.svc.Download(f.ctx, from, token, packet.PacketFileName)
				switch {
				case err == nil && strings.HasPrefix(string(data), "%PDF-"):
					ok.Add(1)
				case apperr.Is(err, apperr.Gone):
					gone.Add(1)
				default:
					t.Errorf("download: %v", err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 5 || gone.Load() != 15 {
			t.Fatalf("%d downloads succeeded and %d were refused, want 5 and 15", ok.Load(), gone.Load())
		}
		// The limit is per file: the page still opens and says what is
		// left, another file still downloads, and the refusal says which.
		v, err = f.svc.Open(f.ctx, from, token)
		if err != nil || v.Left(packet.PacketFileName) != 0 || v.Left(v.Policies[0].File()) != 5 {
			t.Fatalf("open after the limit: %v", err)
		}
		if _, _, err := f.svc.Download(f.ctx, from, token, v.Policies[0].File()); err != nil {
			t.Fatalf("another file: %v", err)
		}
		_, _, err = f.svc.Download(f.ctx, from, token, packet.PacketFileName)
		var unavailable *packet.Unavailable
		if !errors.As(err, &unavailable) || unavailable.Reason != packet.FileLimit || unavailable.Again.Email != "dana@customer.example" ||
			len(unavailable.Again.Policies) != 2 {
			t.Fatalf("past the limit: %#v", err)
		}
		d, err := f.svc.PacketByID(f.ctx, p.PublicID)
		if err != nil || d.Packet.Downloads != 6 || len(d.Accesses) < 22 {
			t.Fatalf("detail: downloads %d, %d accesses, %v", d.Packet.Downloads, len(d.Accesses), err)
		}
		// The issued PDF verifies; a copy with one byte changed does not.
		data, err := f.svc.VerifyHash(f.ctx, p.PublicID, d.Files[0].SHA256)
		if err != nil || !data.Issued || !strings.Contains(data.Recipient, "dana@customer.example") {
			t.Fatalf("verify: %+v %v", data, err)
		}
		if _, err := f.svc.Revoke(f.ctx, editor, p.PublicID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Open(f.ctx, from, token); !errors.As(err, &unavailable) || unavailable.Reason != packet.Withdrawn || !apperr.Is(err, apperr.Gone) {
			t.Fatalf("revoked link: %v", err)
		}
	})
}

func TestDownloadsAreIdenticalAndVerifiable(t *testing.T) {
	f := setup(t, storetest.SQLite(t), packet.Settings{AutoApproveDomains: []string{"trusted.example"}})
	r := f.request(t, "lee@trusted.example")
	if r.Status != packet.Approved {
		t.Fatalf("an allow-listed domain was not approved at once: %s", r.Status)
	}
	token := packetLink.FindStringSubmatch(lastMail(t, f.st, "lee@trusted.example"))[1]
	from := audit.Actor{IP: "198.51.100.20"}
	// Auto-approved: the NDA accepted with the request holds.
	if v, err := f.svc.Open(f.ctx, from, token); err != nil || v.NDA != nil {
		t.Fatalf("open: %v", err)
	}
	a, _, err := f.svc.Download(f.ctx, from, token, packet.PacketFileName)
	if err != nil {
		t.Fatal(err)
	}
	// Another instance, or this one after a restart, renders the file again
	// from the database, and must get the same bytes.
	key, _ := packet.LoadOrCreateKey(filepath.Join(t.TempDir(), packet.KeyFile))
	restarted := packet.NewService(f.st.DB, f.clock.now, org.NewService(f.st.DB, f.clock.now), f.docs, f.files, key, packet.Settings{BaseURL: "https://charter.test"})
	again, _, err := restarted.Download(f.ctx, from, token, packet.PacketFileName)
	if err != nil || !bytes.Equal(again, a) {
		t.Fatalf("rendered again after a restart: %v", err)
	}
	ver, err := f.svc.VerifyFile(f.ctx, a)
	if err != nil || !ver.Issued || ver.File != packet.PacketFileName {
		t.Fatalf("verify: %+v %v", ver, err)
	}
	changed := append([]byte(nil), a...)
	changed[len(changed)/2] ^= 1
	if ver, _ := f.svc.VerifyFile(f.ctx, changed); ver.Issued {
		t.Fatal("a modified file verified")
	}
	raw, err := f.svc.ManifestFile(f.ctx, from, token)
	if err != nil || !json.Valid(raw) {
		t.Fatalf("manifest: %s %v", raw, err)
	}
	// manifest.sig signs manifest.json's bytes as served: nothing is
	// re-serialised on either side.
	sig, err := f.svc.ManifestSignature(f.ctx, from, token)
	if err != nil || len(sig) != ed25519.SignatureSize {
		t.Fatalf("manifest.sig: %d bytes, %v", len(sig), err)
	}
	if !ed25519.Verify(f.svc.PublicKey(), raw, sig) {
		t.Fatal("the manifest's signature does not verify")
	}
	if ed25519.Verify(f.svc.PublicKey(), bytes.Replace(raw, []byte("lee@"), []byte("eve@"), 1), sig) {
		t.Fatal("a changed manifest verified")
	}
	if !strings.Contains(string(raw), sha256Hex(a)) {
		t.Fatal("the manifest does not list the downloaded file's SHA-256")
	}
	// A packet issued before manifest.sig: its manifest was signed as Go
	// encodes JSON by default (\u0026 for &). Its stored bytes are served
	// unchanged, so its signature still verifies over the download.
	var m packet.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m.Recipient.Company = "AT&T <Labs>"
	old, err := json.Marshal(m)
	if err != nil || !bytes.Contains(old, []byte(`AT\u0026T \u003cLabs\u003e`)) {
		t.Fatalf("the old encoding: %s %v", old, err)
	}
	if err := f.st.DB.Model(&packet.Packet{}).Where("public_id = ?", m.PacketID).
		Updates(map[string]any{"manifest": string(old), "signature": base64.StdEncoding.EncodeToString(ed25519.Sign(f.key, old))}).Error; err != nil {
		t.Fatal(err)
	}
	served, err := f.svc.ManifestFile(f.ctx, from, token)
	if err != nil || !bytes.Equal(served, old) {
		t.Fatalf("an old manifest is not served as stored: %s %v", served, err)
	}
	if sig, err := f.svc.ManifestSignature(f.ctx, from, token); err != nil || !ed25519.Verify(f.svc.PublicKey(), served, sig) {
		t.Fatalf("an old manifest's signature does not verify: %v", err)
	}
	f.clock.advance(31 * 24 * time.Hour)
	if _, _, err := f.svc.Download(f.ctx, from, token, packet.PacketFileName); !apperr.Is(err, apperr.Gone) {
		t.Fatalf("expired link: %v", err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// The free-mail rule is the service's, not only the public form's: Submit
// called directly refuses a free-mail address with the message the form
// shows, together with the other fields' problems, and stores and queues
// nothing.
func TestSubmitRefusesFreeMail(t *testing.T) {
	configured := packet.Settings{WorkEmail: publicform.NewWorkEmail([]string{"freemail.example"})}
	cases := []struct {
		name     string
		settings packet.Settings
		email    string
		want     string // the message on "email"; empty when accepted
	}{
		{"built-in list refuses gmail", packet.Settings{}, " Dana@GMail.com ", "must be your work email address; gmail.com is a free-mail provider"},
		{"built-in list refuses a subdomain", packet.Settings{}, "dana@mail.yahoo.com", "must be your work email address; mail.yahoo.com is a free-mail provider"},
		{"no @ is not an address", packet.Settings{}, "dana", notify.AddressProblem},
		{"configured list refuses its domain", configured, "dana@freemail.example", "must be your work email address; freemail.example is a free-mail provider"},
		{"configured list replaces the built-in one", configured, "dana@gmail.com", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				f := setup(t, st, c.settings)
				nda, err := f.svc.CurrentNDA(f.ctx)
				if err != nil {
					t.Fatal(err)
				}
				in := packet.RequestInput{Name: "Dana", Email: c.email, Company: "Customer Ltd", NDAVersion: nda.Version, AcceptNDA: true}
				if c.want != "" {
					in.Company = "" // missing too: reported with the address
				}
				_, err = f.svc.Submit(f.ctx, audit.Actor{Label: "anonymous"}, in)
				if c.want == "" {
					if err != nil {
						t.Fatalf("%s refused: %v", c.email, err)
					}
					return
				}
				if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || len(e.Fields) != 2 || e.Fields["email"] != c.want || e.Fields["company"] == "" {
					t.Fatalf("%s: got %v, want Invalid on email (%q) and company", c.email, err, c.want)
				}
				for _, table := range []string{"packet_requests", "nda_acceptances", "outbox"} {
					var n int64
					if err := st.DB.Table(table).Count(&n).Error; err != nil || n != 0 {
						t.Fatalf("%s: %d rows (%v) after a refusal", table, n, err)
					}
				}
			})
		})
	}
}

// addDocument registers an on-request trust document with one version.
func (f *fixture) addDocument(t *testing.T, title string, autoApprove bool) *document.Document {
	t.Helper()
	d, err := f.docs.Create(f.ctx, audit.System("editor@example.com"),
		document.Input{Title: title, Kind: "soc2_report", Access: "on_request", OwnerEmail: "compliance@example.com", AutoApprove: autoApprove},
		document.VersionInput{Version: "2026", IssuedOn: "2026-01-15", ValidUntil: "2027-01-15"},
		document.Upload{Name: "report.pdf", Body: bytes.NewReader(documenttest.PDF(t, title, 2))})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDocumentsAreFrozenStampedAndCountedPerFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, packet.Settings{AutoApproveDomains: []string{"trusted.example"}})
		report := f.addDocument(t, "SOC 2 Type II report", false)
		nda, _ := f.svc.CurrentNDA(f.ctx)
		from := audit.Actor{Label: "anonymous", IP: "203.0.113.5"}
		_, err := f.svc.Submit(f.ctx, from, packet.RequestInput{Name: "Dana Reviewer", Email: "dana@trusted.example", Company: "Customer Ltd",
			Policies: []string{"backup"}, Documents: []string{report.Slug}, NDAVersion: nda.Version, AcceptNDA: true})
		if err != nil {
			t.Fatal(err)
		}
		token := confirmLink.FindStringSubmatch(lastMail(t, st, "dana@trusted.example"))[1]
		r, p, err := f.svc.Confirm(f.ctx, from, token)
		if err != nil || p != nil || r.Status != packet.Pending {
			t.Fatalf("a document without auto-approval was approved at once: %v %v", r, err)
		}
		// A new version uploaded after the request: the approval freezes
		// the version in force then.
		if _, err := f.docs.AddVersion(f.ctx, audit.System("editor@example.com"), report.Slug, document.VersionInput{Version: "2026.1", IssuedOn: "2026-02-01"},
			document.Upload{Name: "r.pdf", Body: bytes.NewReader(documenttest.PDF(t, "SOC 2 Type II report", 3))}); err != nil {
			t.Fatal(err)
		}
		limit := 3
		p, err = f.svc.Approve(f.ctx, audit.System("editor@example.com"), r.ID, packet.Decision{DownloadLimit: &limit})
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.svc.PacketByID(f.ctx, p.PublicID)
		if err != nil || len(d.Documents) != 1 || d.Documents[0].Version != "2026.1" || d.Documents[0].SHA256 == d.Documents[0].StampedSHA256 {
			t.Fatalf("frozen document: %+v %v", d.Documents, err)
		}
		var m packet.Manifest
		if err := json.Unmarshal([]byte(d.Packet.Manifest), &m); err != nil || len(m.Documents) != 1 || m.Documents[0].StampedSHA256 != d.Documents[0].StampedSHA256 {
			t.Fatalf("manifest: %+v %v", m.Documents, err)
		}
		link := packetLink.FindStringSubmatch(lastMail(t, st, "dana@trusted.example"))[1]
		// 10 concurrent downloads of each of two files, 3 per file: 3 of
		// each succeed, and the counts are exact.
		files := []string{d.Documents[0].FileName, "policies/backup.pdf"}
		var ok [2]atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				data, _, err := f.svc.Download(f.ctx, from, link, files[i%2])
				switch {
				case err == nil && strings.HasPrefix(string(data), "%PDF-"):
					ok[i%2].Add(1)
				case errors.Is(err, packet.ErrFileLimit):
				default:
					t.Errorf("download: %v", err)
				}
			})
		}
		wg.Wait()
		if ok[0].Load() != 3 || ok[1].Load() != 3 {
			t.Fatalf("%d and %d downloads succeeded, want 3 each", ok[0].Load(), ok[1].Load())
		}
		v, err := f.svc.Open(f.ctx, from, link)
		if err != nil || v.Left(files[0]) != 0 || v.Left(files[1]) != 0 || v.Left(packet.PacketFileName) != 3 {
			t.Fatalf("what is left: %v", err)
		}
		// The stamped copy verifies and says which document it is.
		data, err := f.svc.VerifyHash(f.ctx, "", d.Documents[0].StampedSHA256)
		if err != nil || !data.Issued || data.Document != "SOC 2 Type II report, version 2026.1" {
			t.Fatalf("verify: %+v %v", data, err)
		}

		// The approver may leave the document out (an exact selection).
		_, err = f.svc.Submit(f.ctx, from, packet.RequestInput{Name: "Kim", Email: "kim@customer.example", Company: "Customer Ltd",
			Policies: []string{"backup"}, Documents: []string{report.Slug}, NDAVersion: nda.Version, AcceptNDA: true})
		if err != nil {
			t.Fatal(err)
		}
		r, _, err = f.svc.Confirm(f.ctx, from, confirmLink.FindStringSubmatch(lastMail(t, st, "kim@customer.example"))[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Approve(f.ctx, audit.System("editor@example.com"), r.ID, packet.Decision{Exact: true}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("approved nothing: %v", err)
		}
		p, err = f.svc.Approve(f.ctx, audit.System("editor@example.com"), r.ID, packet.Decision{Exact: true, Policies: []string{"backup"}})
		if err != nil {
			t.Fatal(err)
		}
		if d, err := f.svc.PacketByID(f.ctx, p.PublicID); err != nil || len(d.Documents) != 0 || len(d.Policies) != 1 {
			t.Fatalf("the document was not left out: %+v %v", d, err)
		}
	})
}
