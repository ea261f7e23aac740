package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"golang.org/x/mod/sumdb/note"
	"gorm.io/gorm"
)

// The RFC 9162 verification algorithms written out from the RFC, sharing
// no code with Charter's tree (which uses golang.org/x/mod/sumdb/tlog), so
// that a proof passing here is a proof any RFC 9162 client accepts.

func rfcNode(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

func rfcLeaf(data []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

// rfcVerifyInclusion is RFC 9162 section 2.1.3.2.
func rfcVerifyInclusion(leafIndex, treeSize uint64, leafHash []byte, path [][]byte, root []byte) bool {
	if leafIndex >= treeSize {
		return false
	}
	fn, sn, r := leafIndex, treeSize-1, leafHash
	for _, p := range path {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = rfcNode(p, r)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			r = rfcNode(r, p)
		}
		fn, sn = fn>>1, sn>>1
	}
	return sn == 0 && bytes.Equal(r, root)
}

// rfcVerifyConsistency is RFC 9162 section 2.1.4.2.
func rfcVerifyConsistency(first, second uint64, firstHash, secondHash []byte, path [][]byte) bool {
	if first == second {
		return len(path) == 0 && bytes.Equal(firstHash, secondHash)
	}
	if first == 0 || first > second || len(path) == 0 {
		return false
	}
	if first&(first-1) == 0 { // an exact power of two
		path = append([][]byte{firstHash}, path...)
	}
	fn, sn := first-1, second-1
	for fn&1 == 1 {
		fn, sn = fn>>1, sn>>1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			fr, sr = rfcNode(c, fr), rfcNode(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			sr = rfcNode(sr, c)
		}
		fn, sn = fn>>1, sn>>1
	}
	return bytes.Equal(fr, firstHash) && bytes.Equal(sr, secondHash) && sn == 0
}

func b64(t *testing.T, v any) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(v.(string))
	if err != nil {
		t.Fatalf("%v is not base64: %v", v, err)
	}
	return b
}

func b64s(t *testing.T, v any) [][]byte {
	var out [][]byte
	for _, s := range v.([]any) {
		out = append(out, b64(t, s))
	}
	return out
}

// getText fetches path with the named user's token (none for "").
func (e *env) getText(name, path string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
	if name != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[name])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func appendEvents(t *testing.T, db *gorm.DB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := db.Transaction(func(tx *gorm.DB) error {
			return audit.Append(tx, audit.System("test"), audit.Entry{Action: "test.event", ObjectType: "test", ObjectID: fmt.Sprint(i)})
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditLogProofsVerifyWithAnIndependentRFC9162Verifier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		appendEvents(t, st.DB, 5)
		first, made, err := e.auditLog.Checkpoint(ctx, "command")
		if err != nil || !made {
			t.Fatalf("first checkpoint: %v %v", made, err)
		}
		appendEvents(t, st.DB, 13)
		second, _, err := e.auditLog.Checkpoint(ctx, "command")
		if err != nil || second.TreeSize != first.TreeSize+13 {
			t.Fatalf("second checkpoint: %+v %v", second, err)
		}

		// The checkpoint opens with note.Open and the served verifier key.
		status, vkey := e.getText("auditor", "/api/v1/audit/verifier-key")
		if status != http.StatusOK {
			t.Fatalf("verifier key: %d %s", status, vkey)
		}
		verifier, err := note.NewVerifier(strings.TrimSpace(vkey))
		if err != nil {
			t.Fatal(err)
		}
		status, signed := e.getText("auditor", "/api/v1/audit/checkpoint")
		if status != http.StatusOK {
			t.Fatalf("checkpoint: %d %s", status, signed)
		}
		n, err := note.Open([]byte(signed), note.VerifierList(verifier))
		if err != nil {
			t.Fatalf("note.Open: %v\n%s", err, signed)
		}
		lines := strings.Split(n.Text, "\n")
		if len(lines) != 4 || lines[0] != "charter.test/audit-log" || lines[1] != fmt.Sprint(second.TreeSize) {
			t.Fatalf("checkpoint text: %q", n.Text)
		}
		root := b64(t, lines[2])

		// Every event's inclusion proof in the latest tree.
		var events []audit.Event
		st.DB.Order("seq").Limit(int(second.TreeSize)).Find(&events)
		for _, ev := range events {
			status, p := e.api("auditor", http.MethodGet, fmt.Sprintf("/api/v1/audit/proof/inclusion?seq=%d&size=%d", ev.Seq, second.TreeSize), nil)
			if status != http.StatusOK {
				t.Fatalf("inclusion of %d: %d %v", ev.Seq, status, p)
			}
			if p["event_hash"] != ev.Hash {
				t.Fatalf("event hash of %d: %v", ev.Seq, p["event_hash"])
			}
			chain, _ := hex.DecodeString(ev.Hash)
			leaf := rfcLeaf(chain)
			if !bytes.Equal(leaf, b64(t, p["leaf_hash"])) {
				t.Fatalf("leaf hash of %d differs from SHA-256(0x00 || chain hash)", ev.Seq)
			}
			if !rfcVerifyInclusion(uint64(ev.Seq-1), uint64(second.TreeSize), leaf, b64s(t, p["audit_path"]), root) {
				t.Fatalf("inclusion proof of seq %d does not verify: %v", ev.Seq, p)
			}
		}

		// The consistency proof from the first checkpoint to the second.
		firstNote, err := note.Open([]byte(first.Note), note.VerifierList(verifier))
		if err != nil {
			t.Fatal(err)
		}
		firstRoot := b64(t, strings.Split(firstNote.Text, "\n")[2])
		for from := int64(1); from <= second.TreeSize; from++ {
			status, p := e.api("auditor", http.MethodGet, fmt.Sprintf("/api/v1/audit/proof/consistency?from=%d&to=%d", from, second.TreeSize), nil)
			if status != http.StatusOK {
				t.Fatalf("consistency: %d %v", status, p)
			}
			fromRoot := b64(t, p["from_root_hash"])
			if from == first.TreeSize && !bytes.Equal(fromRoot, firstRoot) {
				t.Fatal("the served root of the first size differs from the first checkpoint's")
			}
			if !rfcVerifyConsistency(uint64(from), uint64(second.TreeSize), fromRoot, root, b64s(t, p["consistency_path"])) {
				t.Fatalf("consistency proof %d→%d does not verify: %v", from, second.TreeSize, p)
			}
		}
		// A proof does not verify against a different root.
		_, p := e.api("auditor", http.MethodGet, fmt.Sprintf("/api/v1/audit/proof/consistency?from=%d&to=%d", first.TreeSize, second.TreeSize), nil)
		if rfcVerifyConsistency(uint64(first.TreeSize), uint64(second.TreeSize), rfcLeaf([]byte("forged")), root, b64s(t, p["consistency_path"])) {
			t.Fatal("the independent verifier accepted a forged old root")
		}

		// The history lists both, newest first, with the verifier key.
		status, hist := e.api("auditor", http.MethodGet, "/api/v1/audit/checkpoints", nil)
		items, _ := hist["items"].([]any)
		if status != http.StatusOK || len(items) != 2 || items[0].(map[string]any)["tree_size"].(float64) != float64(second.TreeSize) {
			t.Fatalf("history: %d %v", status, hist)
		}
		if keys := hist["verifier_keys"].([]any); len(keys) != 1 || keys[0] != strings.TrimSpace(vkey) {
			t.Fatalf("verifier keys: %v", keys)
		}
		// A checkpoint an hour makes a long history: it comes in pages.
		var sizes []float64
		next := "/api/v1/audit/checkpoints?limit=1"
		for next != "" && len(sizes) < 3 {
			status, page := e.api("auditor", http.MethodGet, next, nil)
			items, _ := page["items"].([]any)
			if status != http.StatusOK || len(items) != 1 || page["verifier_keys"] == nil {
				t.Fatalf("%s: %d %v", next, status, page)
			}
			sizes = append(sizes, items[0].(map[string]any)["tree_size"].(float64))
			next = ""
			if cursor, _ := page["next_cursor"].(string); cursor != "" {
				next = "/api/v1/audit/checkpoints?limit=1&cursor=" + cursor
			}
		}
		if len(sizes) != 2 || sizes[0] != float64(second.TreeSize) || sizes[1] != float64(first.TreeSize) {
			t.Fatalf("paged history: tree sizes %v, want %d then %d", sizes, second.TreeSize, first.TreeSize)
		}
		if status, body := e.api("auditor", http.MethodGet, "/api/v1/audit/checkpoints?limit=1001", nil); status != http.StatusUnprocessableEntity {
			t.Fatalf("limit past 1000: %d %v", status, body)
		}
	})
}

func TestAuditLogRefusesBadProofRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		if status, _ := e.api("auditor", http.MethodGet, "/api/v1/audit/checkpoint", nil); status != http.StatusNotFound {
			t.Fatalf("no checkpoint yet: got %d, want 404", status)
		}
		appendEvents(t, st.DB, 3)
		cp, _, err := e.auditLog.Checkpoint(context.Background(), "command")
		if err != nil {
			t.Fatal(err)
		}
		size := cp.TreeSize
		for _, c := range []struct {
			path, field string
		}{
			{fmt.Sprintf("/api/v1/audit/proof/inclusion?seq=%d&size=%d", size, size-1), "seq"},
			{fmt.Sprintf("/api/v1/audit/proof/inclusion?seq=1&size=%d", size+1), "size"},
			{"/api/v1/audit/proof/inclusion?seq=x&size=1", "seq"},
			{"/api/v1/audit/proof/inclusion?seq=1", "size"},
			{"/api/v1/audit/proof/inclusion?seq=0&size=1", "seq"},
			{"/api/v1/audit/proof/consistency?from=3&to=2", "from"},
			{fmt.Sprintf("/api/v1/audit/proof/consistency?from=1&to=%d", size+1), "to"},
			{"/api/v1/audit/proof/consistency?from=0&to=2", "from"},
			{"/api/v1/audit/proof/consistency?from=1&to=-1", "to"},
		} {
			status, body := e.api("auditor", http.MethodGet, c.path, nil)
			errBody, _ := body["error"].(map[string]any)
			fields, _ := errBody["fields"].(map[string]any)
			if status != http.StatusUnprocessableEntity || fields[c.field] == nil {
				t.Errorf("%s: got %d %v, want 422 naming %s", c.path, status, body, c.field)
			}
		}
		// Viewers may not read the log's proofs; auditors may.
		if status, _ := e.api("viewer", http.MethodGet, "/api/v1/audit/checkpoints", nil); status != http.StatusForbidden {
			t.Fatalf("viewer: got %d, want 403", status)
		}
		// The public checkpoint is off unless the operator opts in.
		if status, _ := e.getText("", "/trust/audit/checkpoint"); status != http.StatusNotFound {
			t.Fatalf("public checkpoint without opting in: got %d, want 404", status)
		}
	})
}

func TestPublicCheckpointWhenOptedIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *config.Config) { c.PublicCheckpoint = true })
		appendEvents(t, st.DB, 2)
		cp, _, err := e.auditLog.Checkpoint(context.Background(), "command")
		if err != nil {
			t.Fatal(err)
		}
		status, body := e.getText("", "/trust/audit/checkpoint")
		if status != http.StatusOK || body != cp.Note {
			t.Fatalf("public checkpoint: %d %q", status, body)
		}
		// The API still wants a token.
		if status, _ := e.getText("", "/api/v1/audit/checkpoint"); status != http.StatusUnauthorized {
			t.Fatalf("API checkpoint without a token: %d", status)
		}
	})
}
