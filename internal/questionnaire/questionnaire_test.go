package questionnaire_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app/apptest"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/questionnaire"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

type fixture struct {
	ctx     context.Context
	env     *apptest.Env
	author  audit.Actor
	checker audit.Actor
}

func setup(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	env := apptest.New(t, st, apptest.Config(t))
	env.Clock.Advance(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).Sub(env.Clock.Now()))
	f := &fixture{ctx: context.Background(), env: env}
	f.author, f.checker = f.actor(t, "editor"), f.actor(t, "editor2")
	return f
}

func (f *fixture) actor(t *testing.T, name string) audit.Actor {
	t.Helper()
	u, err := f.env.Users.ByEmail(f.ctx, f.env.Emails[name])
	if err != nil {
		t.Fatal(err)
	}
	return audit.Actor{UserID: u.ID, Label: u.Email}
}

// approved adds an answer and has another editor approve it.
func (f *fixture) approved(t *testing.T, in questionnaire.Input) *questionnaire.Answer {
	t.Helper()
	if in.OwnerEmail == "" {
		in.OwnerEmail = "security@example.com"
	}
	a, err := f.env.Answers.Create(f.ctx, f.author, in)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = f.env.Answers.Approve(f.ctx, f.checker, a.ID); err != nil {
		t.Fatal(err)
	}
	return a
}

// publish drafts, approves and publishes a new version of slug.
func (f *fixture) publish(t *testing.T, slug, body string, material bool) *policy.Version {
	t.Helper()
	v, err := f.env.Policies.CreateDraft(f.ctx, f.author, slug, policy.Draft{Body: body, ChangeSummary: "Rewritten", Material: &material})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Policies.Approve(f.ctx, f.checker, slug, v.Number()); err != nil {
		t.Fatal(err)
	}
	if v, err = f.env.Policies.Publish(f.ctx, f.checker, slug, v.Number()); err != nil {
		t.Fatal(err)
	}
	return v
}

func fieldOf(t *testing.T, err error, field string) string {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.Invalid || ae.Fields[field] == "" {
		t.Fatalf("error %v, want Invalid naming %s", err, field)
	}
	return ae.Fields[field]
}

func TestApprovalNeedsAnotherEditor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		a, err := f.env.Answers.Create(f.ctx, f.author, questionnaire.Input{Question: "Do you encrypt data at rest?", Answer: "Yes, AES-256.",
			Access: "public", OwnerEmail: "Security@Example.com", Evidence: []questionnaire.EvidenceInput{{Policy: "encryption", Section: "Data at rest"}}})
		if err != nil {
			t.Fatal(err)
		}
		if a.State != questionnaire.Draft || a.OwnerEmail != "security@example.com" || a.Links[0].CheckedVersion != "1.0" {
			t.Fatalf("created %+v", a)
		}
		if _, err := f.env.Answers.Approve(f.ctx, f.author, a.ID); err != questionnaire.ErrSelfApproval {
			t.Fatalf("self-approval: %v", err)
		}
		got, err := f.env.Answers.Approve(f.ctx, f.checker, a.ID)
		if err != nil || got.State != questionnaire.Approved || got.ApprovedBy != f.checker.Label {
			t.Fatalf("approve: %+v, %v", got, err)
		}
		// An edit makes it a draft again, to be approved anew.
		in := questionnaire.Input{Question: a.Question, Answer: "Yes, AES-256 with keys in a KMS.", Access: "public", OwnerEmail: a.OwnerEmail}
		if got, err = f.env.Answers.Update(f.ctx, f.checker, a.ID, in); err != nil || got.State != questionnaire.Draft || got.ApprovedAt != nil {
			t.Fatalf("update: %+v, %v", got, err)
		}
	})
}

func TestInputErrorsNameTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		cases := []struct {
			name, field string
			in          questionnaire.Input
		}{
			{"no question", "question", questionnaire.Input{Answer: "Yes", Access: "public", OwnerEmail: "a@example.com"}},
			{"bad access", "access", questionnaire.Input{Question: "Q?", Answer: "Yes", Access: "secret", OwnerEmail: "a@example.com"}},
			{"unknown policy", "evidence", questionnaire.Input{Question: "Q?", Answer: "Yes", Access: "public", OwnerEmail: "a@example.com",
				Evidence: []questionnaire.EvidenceInput{{Policy: "no-such-policy"}}}},
			{"unknown document", "evidence", questionnaire.Input{Question: "Q?", Answer: "Yes", Access: "public", OwnerEmail: "a@example.com",
				Evidence: []questionnaire.EvidenceInput{{Document: "no-such-document"}}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.env.Answers.Create(f.ctx, f.author, c.in)
				fieldOf(t, err, c.field)
			})
		}
		if list, err := f.env.Answers.List(f.ctx, questionnaire.Filter{}); err != nil || len(list) != 0 {
			t.Fatalf("refused answers were written: %d, %v", len(list), err)
		}
	})
}

func TestFlaggedForReviewAfterMajorVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		cited := f.approved(t, questionnaire.Input{Question: "Are backups tested?", Answer: "Monthly restore tests.", Access: "on_request",
			Evidence: []questionnaire.EvidenceInput{{Policy: "backup", Section: "Testing"}}})
		other := f.approved(t, questionnaire.Input{Question: "Do you encrypt data at rest?", Answer: "Yes.", Access: "public",
			Evidence: []questionnaire.EvidenceInput{{Policy: "encryption"}}})

		f.publish(t, "backup", "# Backup\n\nHourly snapshots.", false) // 1.1: a minor version flags nothing
		if a, _ := f.env.Answers.Get(f.ctx, cited.ID); a.NeedsReview {
			t.Fatal("flagged after a minor version")
		}
		f.publish(t, "backup", "# Backup\n\nHourly snapshots, restored monthly.", true) // 2.0
		a, err := f.env.Answers.Get(f.ctx, cited.ID)
		if err != nil || !a.NeedsReview || !strings.Contains(a.ReviewReason, "Backup Policy is now at version 2.0") {
			t.Fatalf("after 2.0: %+v, %v", a, err)
		}
		if b, _ := f.env.Answers.Get(f.ctx, other.ID); b.NeedsReview {
			t.Fatal("an answer citing another policy was flagged")
		}
		var events int64
		st.DB.Model(&audit.Event{}).Where("action = ? AND object_id = ?", "answer.flagged", strconv.FormatInt(a.ID, 10)).Count(&events)
		if events != 1 {
			t.Fatalf("%d answer.flagged events", events)
		}
		// A flagged answer goes into no packet until reviewed.
		if _, err := f.env.Answers.Shareable(f.ctx, "answers", []int64{a.ID}); err == nil {
			t.Fatal("a flagged answer is shareable")
		}
		reviewed, err := f.env.Answers.Review(f.ctx, f.author, a.ID)
		if err != nil || reviewed.NeedsReview || reviewed.Links[0].CheckedVersion != "2.0" || reviewed.State != questionnaire.Approved {
			t.Fatalf("reviewed: %+v, %v", reviewed, err)
		}
		if _, err := f.env.Answers.Review(f.ctx, f.author, a.ID); err != questionnaire.ErrNoReview {
			t.Fatalf("second review: %v", err)
		}
	})
}

func TestSearchIsCaseInsensitiveAndLiteral(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.approved(t, questionnaire.Input{Question: "What is your uptime SLA?", Answer: "99.9% monthly.", Access: "public"})
		f.approved(t, questionnaire.Input{Question: "Do you encrypt data at rest?", Answer: "Yes, AES_256.", Access: "internal"})
		cases := []struct {
			q, access string
			want      int
		}{{"ENCRYPT", "", 1}, {"99.9%", "", 1}, {"%", "", 1}, {"aes_256", "", 1}, {"aes%256", "", 0}, {"uptime monthly", "", 1},
			{"", "internal", 1}, {"uptime", "internal", 0}}
		for _, c := range cases {
			got, err := f.env.Answers.List(f.ctx, questionnaire.Filter{Query: c.q, Access: c.access})
			if err != nil || len(got) != c.want {
				t.Errorf("%q/%q: %d answers, %v; want %d", c.q, c.access, len(got), err, c.want)
			}
		}
	})
}

func TestFillFiftyQuestionSheet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.approved(t, questionnaire.Input{Question: "Do you encrypt data at rest?", Answer: "Yes: AES-256 on every store.", Access: "public",
			Evidence: []questionnaire.EvidenceInput{{Policy: "encryption", Section: "Data at rest"}}})
		f.approved(t, questionnaire.Input{Question: "Do you have an incident response plan?", Answer: "-Yes, tested yearly.", Access: "on_request",
			Evidence: []questionnaire.EvidenceInput{{Policy: "incident-response"}}})
		f.approved(t, questionnaire.Input{Question: "Is multi-factor authentication required for admin access?", Answer: "Yes.", Access: "public"})
		f.approved(t, questionnaire.Input{Question: "Do you perform background checks on employees?", Answer: "Internal detail.", Access: "internal"})
		draft, err := f.env.Answers.Create(f.ctx, f.author, questionnaire.Input{Question: "Do you have a business continuity plan?", Answer: "Yes.",
			Access: "public", OwnerEmail: "a@example.com"})
		if err != nil || draft.State != questionnaire.Draft {
			t.Fatal(err)
		}

		in, err := os.Open("testdata/sig_lite_50.csv")
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		var out bytes.Buffer
		res, err := f.env.Answers.Fill(f.ctx, f.author, in, &out)
		if err != nil {
			t.Fatal(err)
		}
		if res.Questions != 50 || res.Matched != 3 {
			t.Fatalf("filled %+v, want 50 questions and 3 matched (no draft, no internal answer)", res)
		}
		recs, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"ID", "Question", "Category", "Answer", "Access level", "Evidence", "Match", "Library question"}
		if strings.Join(recs[0], "|") != strings.Join(want, "|") || len(recs) != 51 {
			t.Fatalf("header %q, %d records", recs[0], len(recs))
		}
		byID := map[string][]string{}
		for _, r := range recs[1:] {
			byID[r[0]] = r
		}
		if r := byID["A.1"]; r[3] != "Yes: AES-256 on every store." || r[4] != "public" || r[6] != "exact" ||
			r[5] != "Encryption Policy 1.0, section Data at rest (on request: http://charter.test/trust/request)" {
			t.Fatalf("A.1: %q", r)
		}
		if r := byID["A.4"]; r[3] != "Yes." || !strings.HasPrefix(r[6], "similar") || r[7] != "Is multi-factor authentication required for admin access?" {
			t.Fatalf("A.4 (similar wording): %q", r)
		}
		if r := byID["A.8"]; r[3] != "'-Yes, tested yearly." || r[4] != "on request" {
			t.Fatalf("A.8 (formula-like answer): %q", r)
		}
		for _, id := range []string{"A.6", "A.10", "E.3"} {
			if r := byID[id]; r[3] != "" || r[6] != "unmatched" {
				t.Fatalf("%s should be unmatched: %q", id, r)
			}
		}
		if r := byID["E.10"]; !strings.HasPrefix(r[2], "'=") {
			t.Fatalf("formula cell not neutralised: %q", r[2])
		}
	})
}

func TestBadSheetsAreRefusedByRowAndColumn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		cases := []struct{ name, sheet, want string }{
			{"empty", "", "row 1: the sheet is empty"},
			{"no question column", "ID,Text\r\n1,Do you?\r\n", "row 1: no column of the header is named Question"},
			{"bad quote", "ID,Question\n1,\"Do you\n", "row 2: is not valid CSV"},
			{"not utf-8", "ID,Question\n1,Do you\xff?\n", "row 2, column B: is not UTF-8 text"},
			{"too long", "Question\n" + strings.Repeat("x", 10001) + "\n", "row 2, column A: is longer than 10000 characters"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.env.Answers.Fill(f.ctx, f.author, strings.NewReader(c.sheet), &bytes.Buffer{})
				if msg := fieldOf(t, err, "file"); !strings.Contains(msg, c.want) {
					t.Fatalf("message %q, want %q", msg, c.want)
				}
			})
		}
	})
}

func TestImportPairsAsDrafts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		good := "\ufeffNo.,Question,Answer\r\n1,Do you encrypt data at rest?,Yes.\r\n2,Do you have a DPO?,Yes.\r\n,,\r\n"
		res, err := f.env.Answers.Import(f.ctx, f.author, strings.NewReader(good), "internal", "security@example.com")
		if err != nil || res.Created != 2 {
			t.Fatalf("import: %+v, %v", res, err)
		}
		bad := "Question,Answer\nDo you log access?,Yes.\nDo you scan?,\n"
		_, err = f.env.Answers.Import(f.ctx, f.author, strings.NewReader(bad), "internal", "security@example.com")
		if msg := fieldOf(t, err, "file"); msg != "row 3, column B (answer): is required" {
			t.Fatalf("message %q", msg)
		}
		list, _ := f.env.Answers.List(f.ctx, questionnaire.Filter{})
		if len(list) != 2 || list[0].State != questionnaire.Draft {
			t.Fatalf("after a refused import: %d answers (the good row of the bad file must not be written)", len(list))
		}
		// The 50-question sheet, answered: every question becomes a draft.
		sheet, err := os.ReadFile("testdata/sig_lite_50.csv")
		if err != nil {
			t.Fatal(err)
		}
		answered := strings.Replace(string(sheet), "ID,Question,Category", "ID,Question,Answer", 1)
		if res, err = f.env.Answers.Import(f.ctx, f.author, strings.NewReader(answered), "on_request", "security@example.com"); err != nil || res.Created != 50 {
			t.Fatalf("50-question import: %+v, %v", res, err)
		}
	})
}

func TestPacketCarriesOnRequestAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		shared := f.approved(t, questionnaire.Input{Question: "Do you encrypt data at rest?", Answer: "Yes: AES-256, keys in a KMS.", Access: "on_request",
			Evidence: []questionnaire.EvidenceInput{{Policy: "encryption"}}})
		internal := f.approved(t, questionnaire.Input{Question: "Who holds the KMS keys?", Answer: "Two named engineers.", Access: "internal"})

		id := packettest.Request(t, f.env.Packets, st.DB, "dana@customer.example")
		_, err := f.env.Packets.Approve(f.ctx, f.checker, id, packet.Decision{Policies: []string{"encryption"}, Answers: []int64{internal.ID}})
		fieldOf(t, err, "answers")

		p, err := f.env.Packets.Approve(f.ctx, f.checker, id, packet.Decision{Policies: []string{"encryption"}, Answers: []int64{shared.ID}})
		if err != nil {
			t.Fatal(err)
		}
		var m packet.Manifest
		if err := json.Unmarshal([]byte(p.Manifest), &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Answers) != 1 || m.Answers[0].AnswerID != shared.ID || m.Answers[0].Answer != shared.Answer ||
			m.Answers[0].SHA256 != packet.AnswerHash(shared.Question, shared.Answer) {
			t.Fatalf("manifest answers %+v", m.Answers)
		}
		kept, err := f.env.Packets.Answers(f.ctx, p.ID)
		if err != nil || len(kept) != 1 || kept[0].Question != shared.Question {
			t.Fatalf("frozen answers %+v, %v", kept, err)
		}
		// The answer is frozen: a later edit leaves the packet as issued.
		if _, err := f.env.Answers.Update(f.ctx, f.author, shared.ID, questionnaire.Input{Question: shared.Question, Answer: "Changed.",
			Access: "on_request", OwnerEmail: shared.OwnerEmail}); err != nil {
			t.Fatal(err)
		}
		if again, _ := f.env.Packets.Answers(f.ctx, p.ID); again[0].Answer != shared.Answer {
			t.Fatal("the packet's answer changed with the library")
		}
		link := packettest.Accept(t, f.env.Packets, st.DB, "dana@customer.example")
		pdf, _, err := f.env.Packets.Download(f.ctx, audit.Actor{Label: "anonymous", IP: "203.0.113.5"}, link[len("/p/"):], packet.PacketFileName)
		if err != nil {
			t.Fatal(err)
		}
		if text := pdfText(t, pdf); !strings.Contains(text, "Questionnaire answers") || !strings.Contains(text, "keys in a KMS") {
			t.Fatalf("the answers section is missing:\n%s", text)
		}
	})
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	return string(out)
}

// TestFillUsesTheSheetsOwnAnswerColumn: a CAIQ-style sheet with its own
// answer column gets the answers there, and keeps what was already typed.
func TestFillUsesTheSheetsOwnAnswerColumn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.approved(t, questionnaire.Input{Question: "Do you encrypt data at rest?", Answer: "Yes.", Access: "public"})
		sheet := "Question ID,Question,Response,Notes\n" +
			"CEK-03.1,Do you encrypt data at rest?,,\n" +
			"CEK-03.2,DO YOU ENCRYPT DATA AT REST,Typed by hand,\n" +
			"Section B,,,\n"
		var out bytes.Buffer
		res, err := f.env.Answers.Fill(f.ctx, f.author, strings.NewReader(sheet), &out)
		if err != nil || res.Questions != 2 || res.Matched != 2 {
			t.Fatalf("%+v, %v", res, err)
		}
		recs, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"Question ID", "Question", "Response", "Notes", "Access level", "Evidence", "Match", "Library question"},
			{"CEK-03.1", "Do you encrypt data at rest?", "Yes.", "", "public", "", "exact", "Do you encrypt data at rest?"},
			{"CEK-03.2", "DO YOU ENCRYPT DATA AT REST", "Typed by hand", "", "public", "", "exact", "Do you encrypt data at rest?"},
			{"Section B", "", "", "", "", "", "", ""},
		}
		for i := range want {
			if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
				t.Errorf("row %d: %q, want %q", i, recs[i], want[i])
			}
		}
	})
}

// TestPacketOfAnswersOnly: a packet may hold answers and nothing else;
// its PDF is the cover and the answers.
func TestPacketOfAnswersOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		shared := f.approved(t, questionnaire.Input{Question: "Do you have a DPO?", Answer: "Yes, reachable at dpo@example.com.", Access: "public"})
		id := packettest.Request(t, f.env.Packets, st.DB, "dana@customer.example")
		p, err := f.env.Packets.Approve(f.ctx, f.checker, id, packet.Decision{Exact: true, Answers: []int64{shared.ID}})
		if err != nil {
			t.Fatal(err)
		}
		var m packet.Manifest
		if err := json.Unmarshal([]byte(p.Manifest), &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Policies) != 0 || len(m.Files) != 1 || m.Files[0].Name != packet.PacketFileName || len(m.Answers) != 1 {
			t.Fatalf("manifest %s", p.Manifest)
		}
		link := packettest.Accept(t, f.env.Packets, st.DB, "dana@customer.example")
		pdf, _, err := f.env.Packets.Download(f.ctx, audit.Actor{Label: "anonymous", IP: "203.0.113.5"}, link[len("/p/"):], packet.PacketFileName)
		if err != nil {
			t.Fatal(err)
		}
		if text := pdfText(t, pdf); !strings.Contains(text, "reachable at dpo@example.com") {
			t.Fatalf("the answer is missing:\n%s", text)
		}
	})
}
