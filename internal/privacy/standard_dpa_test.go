package privacy_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// dpaFixture is a privacy service with a signing key, the seeded standard
// DPA and two editors.
type dpaFixture struct {
	*fixture
	key      ed25519.PrivateKey
	ana, bob audit.Actor
}

func setupDPA(t *testing.T, st *store.Store) *dpaFixture {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := setupWith(t, st, privacy.Settings{SigningKey: key})
	if seeded, err := f.svc.SeedStandardDPA(f.ctx, audit.System("system:seed")); err != nil || !seeded {
		t.Fatalf("seeded %v: %v", seeded, err)
	}
	users := auth.NewService(st.DB, f.clock.now)
	d := &dpaFixture{fixture: f, key: key}
	for _, who := range []struct {
		email string
		actor *audit.Actor
	}{{"ana@posthog.example", &d.ana}, {"bob@posthog.example", &d.bob}} {
		u, err := users.Create(f.ctx, audit.System("test"), auth.NewUser{Email: who.email, Role: auth.Editor, Password: "a long unusual passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		*who.actor = audit.Actor{UserID: u.ID, Label: who.email}
	}
	return d
}

func kindOf(err error) apperr.Kind {
	return apperr.KindOf(err)
}

func TestStandardDPAVersionsAreApprovedByAnotherAndFrozenOnPublication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setupDPA(t, st)
		v1, err := f.svc.CurrentStandardDPA(f.ctx)
		if err != nil || v1.Number != 1 || v1.SHA256 != privacy.HashDPAText(v1.Body) || !strings.Contains(v1.Body, "PostHog (\"Processor\")") ||
			strings.Contains(v1.Body, "{{") {
			t.Fatalf("seeded version: %+v, %v", v1, err)
		}
		if again, err := f.svc.SeedStandardDPA(f.ctx, audit.System("system:seed")); err != nil || again {
			t.Fatalf("seeding twice: %v %v", again, err)
		}

		text := v1.Body + "\n## 14. Changes\n\nThis version adds a section.\n"
		if _, err := f.svc.DraftStandardDPA(f.ctx, f.ana, privacy.StandardDPADraft{Body: "too short", ChangeSummary: ""}); fieldOf(err) == "" {
			t.Fatalf("a short draft: %v", err)
		}
		v2, err := f.svc.DraftStandardDPA(f.ctx, f.ana, privacy.StandardDPADraft{Body: text, ChangeSummary: "Adds section 14."})
		if err != nil || v2.Number != 2 || v2.Status != privacy.DPADraft {
			t.Fatalf("draft: %+v, %v", v2, err)
		}
		if _, err := f.svc.DraftStandardDPA(f.ctx, f.bob, privacy.StandardDPADraft{Body: text, ChangeSummary: "Another."}); err != privacy.ErrStandardDPAOpen {
			t.Fatalf("a second open draft: %v", err)
		}
		if _, err := f.svc.PublishStandardDPA(f.ctx, f.bob, 2); err != privacy.ErrStandardDPANotApprove {
			t.Fatalf("publishing a draft: %v", err)
		}
		if _, err := f.svc.ApproveStandardDPA(f.ctx, f.ana, 2); err != privacy.ErrStandardDPASelf || kindOf(err) != apperr.Forbidden {
			t.Fatalf("self-approval: %v", err)
		}
		if _, err := f.svc.ApproveStandardDPA(f.ctx, audit.System("system"), 2); err != privacy.ErrStandardDPASystem {
			t.Fatalf("approval by the system: %v", err)
		}
		// Bob edits it: now neither may approve, since both wrote it.
		if _, err := f.svc.EditStandardDPA(f.ctx, f.bob, 2, privacy.StandardDPADraft{Body: text + "\nEdited.\n", ChangeSummary: "Adds section 14."}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ApproveStandardDPA(f.ctx, f.bob, 2); err != privacy.ErrStandardDPASelf {
			t.Fatalf("approval by the last editor: %v", err)
		}
		if _, err := f.svc.EditStandardDPA(f.ctx, f.ana, 2, privacy.StandardDPADraft{Body: text, ChangeSummary: "Adds section 14."}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ApproveStandardDPA(f.ctx, f.bob, 2); err != nil {
			t.Fatalf("approval by another editor: %v", err)
		}
		published, err := f.svc.PublishStandardDPA(f.ctx, f.bob, 2)
		if err != nil || published.Status != privacy.DPAPublished || published.SHA256 != privacy.HashDPAText(published.Body) {
			t.Fatalf("publish: %+v, %v", published, err)
		}
		old, _ := f.svc.StandardDPA(f.ctx, 1)
		if old.Status != privacy.DPASuperseded || old.SupersededAt == nil {
			t.Fatalf("version 1 after version 2: %+v", old)
		}
		if cur, _ := f.svc.CurrentStandardDPA(f.ctx); cur.Number != 2 {
			t.Fatalf("current is %d", cur.Number)
		}
		for _, v := range []int{1, 2} {
			if _, err := f.svc.EditStandardDPA(f.ctx, f.ana, v, privacy.StandardDPADraft{Body: text + "x", ChangeSummary: "Sneaky."}); err != privacy.ErrStandardDPAImmutable {
				t.Fatalf("editing published version %d: %v", v, err)
			}
		}
		// The database refuses too.
		if err := st.DB.Exec("UPDATE standard_dpa_versions SET body = 'changed' WHERE number = 1").Error; err == nil {
			t.Fatal("a published text was changed in the database")
		}
		if _, err := f.svc.StandardDPA(f.ctx, 9); err != privacy.ErrStandardDPANotFound {
			t.Fatalf("unknown version: %v", err)
		}
	})
}

var signatureLink = regexp.MustCompile(`/trust/dpa/sign/confirm/([A-Za-z0-9_-]+)`)

// lastToken is the confirmation token of the newest email to addr.
func lastToken(t *testing.T, st *store.Store, addr string) string {
	t.Helper()
	var m notify.Message
	if err := st.DB.Where("to_addr = ? AND kind = ?", addr, "dpa_signature_confirmation").Order("id DESC").Take(&m).Error; err != nil {
		t.Fatal(err)
	}
	match := signatureLink.FindStringSubmatch(m.Body)
	if match == nil {
		t.Fatalf("no link in %q", m.Body)
	}
	return match[1]
}

func signatureInput() privacy.SignatureInput {
	return privacy.SignatureInput{Version: "1", SignerName: "Dana Reyes", SignerTitle: "General Counsel", Company: "Initech",
		Email: "Dana@Initech.example", DataRegion: "EU (AWS, Germany)",
		TransferMechanism: "EU Standard Contractual Clauses (SCCs) for transfers from the UK, EU or EEA to the US-West environment",
		SCCModule:         "2", Authority: true}
}

func TestSigningTheStandardDPA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setupDPA(t, st)
		visitor := audit.Actor{Label: "public", IP: "203.0.113.9", UserAgent: "test"}
		cases := []struct {
			name  string
			edit  func(*privacy.SignatureInput)
			field string
		}{
			{"free mail", func(in *privacy.SignatureInput) { in.Email = "dana@gmail.com" }, "email"},
			{"no name", func(in *privacy.SignatureInput) { in.SignerName = " " }, "signer_name"},
			{"no title", func(in *privacy.SignatureInput) { in.SignerTitle = "" }, "signer_title"},
			{"no company", func(in *privacy.SignatureInput) { in.Company = "" }, "company"},
			{"no authority", func(in *privacy.SignatureInput) { in.Authority = false }, "authority"},
			{"unknown region", func(in *privacy.SignatureInput) { in.DataRegion = "Mars" }, "data_region"},
			{"unknown mechanism", func(in *privacy.SignatureInput) { in.TransferMechanism = "a handshake" }, "transfer_mechanism"},
			{"module 1", func(in *privacy.SignatureInput) { in.SCCModule = "1" }, "scc_module"},
			{"unknown version", func(in *privacy.SignatureInput) { in.Version = "7" }, "version"},
			{"not a version", func(in *privacy.SignatureInput) { in.Version = "v1" }, "version"},
		}
		for _, c := range cases {
			in := signatureInput()
			c.edit(&in)
			if _, err := f.svc.RequestSignature(f.ctx, visitor, in); fieldOf(err) != c.field {
				t.Errorf("%s: field %q, want %q (%v)", c.name, fieldOf(err), c.field, err)
			}
		}
		sig, err := f.svc.RequestSignature(f.ctx, visitor, signatureInput())
		if err != nil || sig.Status != privacy.SignatureUnconfirmed || sig.Domain != "initech.example" || sig.SignerEmail != "dana@initech.example" {
			t.Fatalf("request: %+v, %v", sig, err)
		}
		var dpas int64
		st.DB.Model(&privacy.DPA{}).Count(&dpas)
		if dpas != 0 {
			t.Fatal("an unconfirmed signature made a register entry")
		}
		token := lastToken(t, st, "dana@initech.example")
		if _, _, err := f.svc.ConfirmSignature(f.ctx, visitor, "not-a-token"); kindOf(err) != apperr.NotFound {
			t.Fatalf("unknown link: %v", err)
		}
		f.clock.advance(3600e9)
		signed, d, err := f.svc.ConfirmSignature(f.ctx, audit.Actor{Label: "public", IP: "203.0.113.10"}, token)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != privacy.Signed || d.TemplateVersion != "1" || d.Counterparty != "Initech" || d.TheirSignatory != "Dana Reyes, General Counsel" ||
			d.SignedOn == nil || d.FileSHA256 == "" || d.TransferMechanisms != "eu_scc" || d.SCCModules != "2" || d.Source != "online signature" ||
			d.DataRegion != "EU (AWS, Germany)" {
			t.Fatalf("register entry: %+v", d)
		}
		if signed.Status != privacy.SignatureSigned || signed.SignedIP != "203.0.113.10" || signed.DPAID == nil || *signed.DPAID != d.ID {
			t.Fatalf("signature: %+v", signed)
		}
		// The PDF in the file store is the one whose SHA-256 was signed.
		_, file, err := f.svc.DPAFile(f.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		pdf, _ := io.ReadAll(file)
		file.Close()
		sum := sha256.Sum256(pdf)
		if hex.EncodeToString(sum[:]) != signed.PDFSHA256 || d.FileSHA256 != signed.PDFSHA256 {
			t.Fatalf("file %x, signature row %s", sum, signed.PDFSHA256)
		}
		sigBytes, _ := base64.StdEncoding.DecodeString(signed.PDFSignature)
		if !ed25519.Verify(f.key.Public().(ed25519.PublicKey), []byte(signed.PDFSHA256), sigBytes) {
			t.Fatal("the PDF's SHA-256 is not signed by the company's key")
		}
		ver, err := f.svc.VerifyCountersigned(f.ctx, strings.ToUpper(signed.PDFSHA256))
		if err != nil || !ver.Signed || ver.Customer != "Initech" || ver.Version != 1 || !strings.Contains(ver.Signer, "Dana Reyes") {
			t.Fatalf("verify: %+v, %v", ver, err)
		}
		if ver, _ := f.svc.VerifyCountersigned(f.ctx, strings.Repeat("0", 64)); ver.Signed {
			t.Fatal("an unknown file verified")
		}
		// The signer's email carries the PDF.
		var m notify.Message
		if err := st.DB.Where("to_addr = ? AND kind = ?", "dana@initech.example", "dpa_signed").Take(&m).Error; err != nil {
			t.Fatal(err)
		}
		if m.AttachmentSHA256 != signed.PDFSHA256 || !strings.HasSuffix(m.AttachmentName, ".pdf") || !strings.Contains(m.Body, signed.PDFSHA256) || !strings.Contains(m.Body, signed.PDFSignature) {
			t.Fatalf("email: %+v", m)
		}
		// The link is used up; a second signature of the same version by the
		// same company is refused, on the form and by a second link.
		if _, _, err := f.svc.ConfirmSignature(f.ctx, visitor, token); kindOf(err) != apperr.Gone {
			t.Fatalf("used link: %v", err)
		}
		again := signatureInput()
		again.Email, again.SignerName = "lee@initech.example", "Lee Park"
		if _, err := f.svc.RequestSignature(f.ctx, visitor, again); kindOf(err) != apperr.Conflict {
			t.Fatalf("second signature: %v", err)
		}
		var actions []string
		st.DB.Model(&audit.Event{}).Where("object_type IN ?", []string{"dpa_signature", "dpa"}).Order("seq").Pluck("action", &actions)
		if strings.Join(actions, " ") != "dpa_signature.requested dpa.created dpa_signature.signed dpa_signature.countersigned" {
			t.Fatalf("audit: %v", actions)
		}
	})
}

// TestConcurrentSignaturesOfOneCompanyMakeOneEntry: two people of one
// company confirm their signatures of one version at once; one entry is
// made, the other is refused.
func TestConcurrentSignaturesOfOneCompanyMakeOneEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setupDPA(t, st)
		visitor := audit.Actor{Label: "public", IP: "203.0.113.9"}
		var tokens []string
		for _, who := range []string{"dana@initech.example", "lee@initech.example", "kim@initech.example"} {
			in := signatureInput()
			in.Email = who
			if _, err := f.svc.RequestSignature(f.ctx, visitor, in); err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, lastToken(t, st, who))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(tokens))
		for i, token := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = f.svc.ConfirmSignature(context.Background(), visitor, token)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case kindOf(err) != apperr.Conflict:
				t.Errorf("unexpected error: %v", err)
			}
		}
		var entries int64
		st.DB.Model(&privacy.DPA{}).Where("domain = ?", "initech.example").Count(&entries)
		if ok != 1 || entries != 1 {
			t.Fatalf("%d signatures counted, %d register entries; want 1 and 1", ok, entries)
		}
	})
}

// TestCountersignedPDFIsDeterministic: the same signature renders the
// same bytes, so a copy can be re-rendered and compared; another signer
// gives other bytes.
func TestCountersignedPDFIsDeterministic(t *testing.T) {
	d := privacy.Countersigned{Company: "PostHog", Version: 1, TextSHA256: strings.Repeat("a", 64), Body: privacy.DefaultStandardDPA,
		Customer: "Initech", SignerName: "Dana Reyes", SignerTitle: "General Counsel", SignerEmail: "dana@initech.example",
		SignerIP: "203.0.113.9", SignedAt: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), SCCModule: "Module 2: controller to processor",
		VerifyURL: "https://charter.test/trust/verify"}
	a, err := privacy.RenderCountersigned(d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := privacy.RenderCountersigned(d)
	d.SignerName = "Lee Park"
	c, _ := privacy.RenderCountersigned(d)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) || !bytes.HasPrefix(a, []byte("%PDF-")) {
		t.Fatal("the countersigned PDF does not depend on its facts alone")
	}
}

// TestUnconfirmedSignaturesExpire: a signature nobody confirmed is deleted
// after the retention, with its link and an audit event; a signed one and
// a recent one stay.
func TestUnconfirmedSignaturesExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setupDPA(t, st)
		visitor := audit.Actor{Label: "public", IP: "203.0.113.9"}
		ask := func(email string) string {
			in := signatureInput()
			in.Email = email
			if _, err := f.svc.RequestSignature(f.ctx, visitor, in); err != nil {
				t.Fatal(err)
			}
			return lastToken(t, st, email)
		}
		ask("stale@initech.example")
		signed := ask("dana@globex.example")
		if _, _, err := f.svc.ConfirmSignature(f.ctx, visitor, signed); err != nil {
			t.Fatal(err)
		}
		f.clock.advance(8 * 24 * time.Hour)
		ask("recent@hooli.example")
		n, err := f.svc.DeleteUnconfirmedSignatures(f.ctx, audit.System("job:public-forms"), f.clock.now().Add(-7*24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("deleted %d: %v", n, err)
		}
		var left []string
		st.DB.Model(&privacy.DPASignature{}).Order("id").Pluck("signer_email", &left)
		if strings.Join(left, " ") != "dana@globex.example recent@hooli.example" {
			t.Fatalf("left: %v", left)
		}
		var links, events int64
		st.DB.Table("share_links").Where("purpose = ?", privacy.SignatureLinkPurpose).Count(&links)
		st.DB.Model(&audit.Event{}).Where("action = ?", "dpa_signature.expired").Count(&events)
		if links != 2 || events != 1 {
			t.Fatalf("%d links, %d expiry events", links, events)
		}
	})
}

// TestCountersignedPDFBytesUnchanged: countersigned DPAs are re-rendered
// and compared, so the shared Markdown renderer must keep giving the same
// bytes. The hash was recorded before the one-pass PDF work (issue 22,
// item 3).
func TestCountersignedPDFBytesUnchanged(t *testing.T) {
	d := privacy.Countersigned{Company: "PostHog", Version: 1, TextSHA256: strings.Repeat("a", 64), Body: privacy.DefaultStandardDPA,
		Customer: "Initech", SignerName: "Dana Reyes", SignerTitle: "General Counsel", SignerEmail: "dana@initech.example",
		SignerIP: "203.0.113.9", SignedAt: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), SCCModule: "Module 2: controller to processor",
		VerifyURL: "https://charter.test/trust/verify"}
	out, err := privacy.RenderCountersigned(d)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(out)
	if got, want := hex.EncodeToString(sum[:]), "fee8c651b754c8cae0b3ce66101f88e6d2f497afb3c5110f56acb1b0c7c73670"; got != want {
		t.Fatalf("SHA-256 %s, want %s", got, want)
	}
}
