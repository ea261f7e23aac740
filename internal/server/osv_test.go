package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The OSV schema the feed is checked against: validation/schema.json of
// github.com/ossf/osv-schema v1.9.0, fetched through the Go module proxy
// (the repository is a Go module) rather than copied into this one, and
// checked byte for byte.
const (
	osvSchemaModule = "github.com/ossf/osv-schema@v1.9.0"
	osvSchemaSHA256 = "cdb8292f72945cfdf06d3e044280d7c0867105a3a1ae6d4547c983eba20810a2"
)

// osvSchemaFile returns the path of the OSV schema in the module cache,
// downloading the module when it is not there yet.
func osvSchemaFile(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", osvSchemaModule).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v %s", osvSchemaModule, err, out)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: %v %s", osvSchemaModule, err, out)
	}
	path := filepath.Join(mod.Dir, "validation", "schema.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != osvSchemaSHA256 {
		t.Fatalf("%s is not the OSV schema v1.9.0 (SHA-256 %x)", path, sum)
	}
	return path
}

// osvSchema compiles the OSV schema, with formats (date-time, uri)
// asserted rather than only annotated.
func osvSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(osvSchemaFile(t))
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// validOSV validates one OSV document against the schema.
func validOSV(sch *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// Every published advisory validates against the OSV schema, in the feed
// and at /trust/advisories/{id}.json; a revision moves modified.
func TestAdvisoriesAreValidOSV(t *testing.T) {
	sch := osvSchema(t)
	// The ID on the advisory's page, without x_, is what OSV refuses: the
	// check is real.
	if err := validOSV(sch, []byte(`{"schema_version":"1.9.0","id":"POSTHOG-SA-2026-0001","modified":"2026-03-08T10:00:00Z"}`)); err == nil {
		t.Fatal("the schema accepted an unregistered prefix")
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		visitor := e.browser()
		// The seed publishes no advisory: the feed is an empty list.
		if r := visitor.get("/trust/advisories.json"); r.status != http.StatusOK || strings.TrimSpace(r.body) != "[]" {
			t.Fatalf("the seed's feed: %d %s", r.status, r.body)
		}
		withCVE := fullAdvisory()
		withoutCVE := fullAdvisory()
		delete(withoutCVE, "cve")
		withoutCVE["title"], withoutCVE["severity"], withoutCVE["status"], withoutCVE["fix_links"] = "Session fixation", "low", "resolved", ""
		draft := fullAdvisory()
		delete(draft, "cve")
		draft["title"] = "Not yet public"
		var ids []string
		var incidents []any
		for i, in := range []map[string]any{withCVE, withoutCVE, draft} {
			code, a := e.api("editor", http.MethodPost, "/api/v1/advisories", in)
			if code != http.StatusCreated {
				t.Fatalf("create: %d %v", code, a)
			}
			ids, incidents = append(ids, a["id"].(string)), append(incidents, a["incident_id"])
			if i < 2 {
				if code, _ := e.api("editor", http.MethodPost, "/api/v1/advisories/"+ids[i]+"/publish", nil); code != http.StatusOK {
					t.Fatalf("publish: %d", code)
				}
			}
		}
		published := func() map[string]map[string]any {
			t.Helper()
			r := visitor.get("/trust/advisories.json")
			var list []json.RawMessage
			if err := json.Unmarshal([]byte(r.body), &list); err != nil {
				t.Fatal(err)
			}
			out := map[string]map[string]any{}
			for _, raw := range list {
				if err := validOSV(sch, raw); err != nil {
					t.Errorf("advisories.json: %s\n%v", raw, err)
				}
				var o map[string]any
				json.Unmarshal(raw, &o)
				id := o["id"].(string)
				out[id] = o
				// The same document on its own, where OSV consumers fetch it.
				one := visitor.get("/trust/advisories/" + id + ".json")
				if one.status != http.StatusOK || !strings.HasPrefix(one.header.Get("Content-Type"), "application/json") {
					t.Fatalf("%s.json: %d %s", id, one.status, one.header.Get("Content-Type"))
				}
				if err := validOSV(sch, []byte(one.body)); err != nil {
					t.Errorf("%s.json: %v", id, err)
				}
				var single map[string]any
				json.Unmarshal([]byte(one.body), &single)
				if a, b := mustJSON(single), mustJSON(o); a != b {
					t.Errorf("%s.json differs from its entry in advisories.json:\n%s\n%s", id, a, b)
				}
			}
			return out
		}
		feed := published()
		if len(feed) != 2 || feed["x_"+ids[2]] != nil {
			t.Fatalf("the feed holds %d advisories, the draft %v", len(feed), feed["x_"+ids[2]] != nil)
		}
		first := feed["x_"+ids[0]]
		if aliases, _ := first["aliases"].([]any); len(aliases) != 1 || aliases[0] != "CVE-2026-12345" {
			t.Errorf("aliases: %v", first["aliases"])
		}
		if _, ok := feed["x_"+ids[1]]["aliases"]; ok {
			t.Errorf("an advisory without a CVE has aliases: %v", feed["x_"+ids[1]])
		}
		ds := first["database_specific"].(map[string]any)
		if ds["severity"] != "Critical" || ds["advisory_id"] != ids[0] || feed["x_"+ids[1]]["database_specific"].(map[string]any)["severity"] != "Low" {
			t.Errorf("database_specific: %v", ds)
		}
		// The advisory's own ID answers too; drafts and unknown IDs are 404.
		if r := visitor.get("/trust/advisories/" + ids[0] + ".json"); r.status != http.StatusOK || !strings.Contains(r.body, `"id": "x_`+ids[0]+`"`) {
			t.Fatalf("%s.json: %d", ids[0], r.status)
		}
		for _, id := range []string{"x_" + ids[2], ids[2], "x_POSTHOG-SA-2026-0999", "nothing"} {
			if r := visitor.get("/trust/advisories/" + id + ".json"); r.status != http.StatusNotFound || strings.Contains(r.body, "Not yet public") {
				t.Errorf("%s.json: %d", id, r.status)
			}
		}
		if r := visitor.get("/trust/advisories/" + ids[0]); !strings.Contains(r.body, `href="/trust/advisories/x_`+ids[0]+`.json"`) {
			t.Error("the advisory's page does not link its OSV document")
		}
		// A revision moves modified; published stays.
		e.clock.Advance(90 * time.Minute)
		revised := fullAdvisory()
		delete(revised, "declare_incident")
		revised["incident_id"] = incidents[0]
		revised["status"], revised["resolution"] = "resolved", "Names are now escaped everywhere."
		if code, body := e.api("editor", http.MethodPut, "/api/v1/advisories/"+ids[0], revised); code != http.StatusOK {
			t.Fatalf("revise: %d %v", code, body)
		}
		after := published()["x_"+ids[0]]
		was, _ := time.Parse(time.RFC3339Nano, first["modified"].(string))
		now, _ := time.Parse(time.RFC3339Nano, after["modified"].(string))
		if !now.After(was) || after["published"] != first["published"] || after["database_specific"].(map[string]any)["status"] != "resolved" {
			t.Errorf("after a revision: modified %v → %v, published %v → %v", first["modified"], after["modified"], first["published"], after["published"])
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
