package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// allForm reads the "acknowledge all" form's policy and version pairs.
var allFormPair = regexp.MustCompile(`<input type="hidden" name="policy" value="([a-z0-9-]+)"><input type="hidden" name="version" value="([0-9.]+)">`)

func allChoices(t *testing.T, page string) url.Values {
	t.Helper()
	_, form, ok := strings.Cut(page, `id="all"`)
	if !ok {
		t.Fatal("no acknowledge-all form")
	}
	v := url.Values{"all": {"yes"}}
	for _, m := range allFormPair.FindAllStringSubmatch(form, -1) {
		v.Add("policy", m[1])
		v.Add("version", m[2])
	}
	return v
}

func TestAcknowledgeAllShowsWhatChangedSinceLastAcknowledged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed, ed2 := e.browser().login("editor"), e.browser().login("editor2")
		link := sendLink(t, e, ed, "ana@example.com")
		employee := e.browser()
		if r := employee.postRaw(link, url.Values{"policy": {"backup"}, "version": {"1.0"}, "agree": {"yes"}}, nil); r.status != http.StatusOK {
			t.Fatalf("acknowledge backup 1.0: %d", r.status)
		}
		// A material change to the backup policy: Ana owes it again.
		var old string
		st.DB.Table("policy_versions v").Joins("JOIN policies p ON p.id = v.policy_id").
			Where("p.slug = 'backup' AND v.status = 'published'").Select("v.body").Scan(&old)
		changed := strings.Replace(old, "## Scope", "## Scope\n\nSnapshots are taken every hour.", 1)
		if r := ed.post("/app/policies/backup/versions", url.Values{"body": {changed}, "change_summary": {"Hourly snapshots"}, "material": {"major"}}); r.status != http.StatusSeeOther {
			t.Fatalf("draft: %d %s", r.status, r.body)
		}
		ed2.post("/app/policies/backup/versions/2.0/approve", nil)
		if r := ed.post("/app/policies/backup/versions/2.0/publish", nil); r.status != http.StatusSeeOther {
			t.Fatalf("publish: %d", r.status)
		}

		r := employee.get(link)
		if r.status != http.StatusOK || strings.Count(r.body, "<h1") != 1 || !strings.Contains(r.body, "0 done, 20 to go") {
			t.Fatalf("ack page: %d, %d h1", r.status, strings.Count(r.body, "<h1"))
		}
		_, backup, _ := strings.Cut(r.body, `id="backup"`)
		backup, _, _ = strings.Cut(backup, "</details>\n")
		for _, want := range []string{"changed since version 1.0, which you acknowledged", "What changed since version 1.0", "<strong>2.0</strong>: Hourly snapshots",
			`<tr class="d-add"><td class="op">+</td><td><pre>Snapshots are taken every hour.</pre>`, "unchanged lines</td>", "The whole text of version 2.0"} {
			if !strings.Contains(backup, want) {
				t.Errorf("the backup policy's section lacks %q", want)
			}
		}
		if _, password, _ := strings.Cut(r.body, `id="password"`); !strings.Contains(password[:400], "new to you") {
			t.Error("a policy never acknowledged is not shown as new")
		}

		all := allChoices(t, r.body)
		if len(all["policy"]) != 20 {
			t.Fatalf("the acknowledge-all form lists %d policies, want 20", len(all["policy"]))
		}
		countAcks := func() (n int64) { st.DB.Table("acknowledgements").Count(&n); return n }
		if r := employee.postRaw(link, all, nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "The statement must be ticked") || countAcks() != 1 {
			t.Fatalf("all without the statement: %d, %d acknowledgements", r.status, countAcks())
		}
		stale := url.Values{"all": {"yes"}, "agree": {"yes"}, "policy": append([]string{}, all["policy"]...), "version": append([]string{}, all["version"]...)}
		for i, slug := range stale["policy"] {
			if slug == "backup" {
				stale["version"][i] = "1.0"
			}
		}
		if r := employee.postRaw(link, stale, nil); r.status != http.StatusConflict || !strings.Contains(r.body, "newer version") || countAcks() != 1 {
			t.Fatalf("all with a superseded version: %d, %d acknowledgements", r.status, countAcks())
		}

		all.Set("agree", "yes")
		r = employee.postRaw(link, all, http.Header{"User-Agent": {"Mozilla/5.0 (iPhone)"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, "acknowledgements of 20 policies are recorded") || !strings.Contains(r.body, "You have acknowledged every policy (20 of 20)") {
			t.Fatalf("acknowledge all: %d", r.status)
		}
		var rows []struct {
			Slug, SHA256, Body string
			Major, Minor       int
		}
		st.DB.Table("acknowledgements a").Select("p.slug, a.major, a.minor, a.sha256, v.body").
			Joins("JOIN policy_versions v ON v.id = a.version_id").Joins("JOIN policies p ON p.id = a.policy_id").
			Where("a.method = 'link' AND a.user_agent = ?", "Mozilla/5.0 (iPhone)").Scan(&rows)
		if len(rows) != 20 {
			t.Fatalf("%d acknowledgements recorded by acknowledge-all, want 20", len(rows))
		}
		for _, a := range rows {
			if a.SHA256 != policy.HashText(a.Body) {
				t.Errorf("%s: recorded SHA-256 %s is not that of the text", a.Slug, a.SHA256)
			}
			if a.Slug == "backup" && a.Major != 2 {
				t.Errorf("backup acknowledged in version %d.%d, want 2.0", a.Major, a.Minor)
			}
		}
		var events int64
		st.DB.Table("audit_events").Where("action = 'acknowledgement.recorded'").Count(&events)
		if events != 21 {
			t.Fatalf("%d acknowledgement events, want 21", events)
		}
	})
}
