package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auditlog"
	"github.com/labstack/echo/v4"
	"golang.org/x/mod/sumdb/tlog"
)

// auditLogHandlers serve the audit trail's transparency log: checkpoints,
// the verifier key and proofs.
type auditLogHandlers struct {
	*kit
	log *auditlog.Log
	// public serves the newest checkpoint at /trust/audit/checkpoint.
	public bool
}

// checkpointJSON is one checkpoint in the history.
type checkpointJSON struct {
	ID          int64     `json:"id"`
	TreeSize    int64     `json:"tree_size"`
	RootHash    string    `json:"root_hash"`
	Note        string    `json:"note"`
	VerifierKey string    `json:"verifier_key"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
}

// keyAnnouncementJSON is a signed announcement of a new signing key.
type keyAnnouncementJSON struct {
	OldKey    string    `json:"old_key"`
	NewKey    string    `json:"new_key"`
	TreeSize  int64     `json:"tree_size"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// checkpointHistoryJSON is the checkpoint history with every verifier
// key the log trusts (the current one last) and the key announcements.
type checkpointHistoryJSON struct {
	listResponse[checkpointJSON]
	VerifierKeys     []string              `json:"verifier_keys"`
	KeyAnnouncements []keyAnnouncementJSON `json:"key_announcements"`
}

// inclusionProofJSON is an RFC 9162 inclusion proof; hashes are base64.
type inclusionProofJSON struct {
	Seq       int64    `json:"seq"`
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	EventHash string   `json:"event_hash"` // hex, as in the audit trail; the leaf's data
	LeafHash  string   `json:"leaf_hash"`
	RootHash  string   `json:"root_hash"`
	AuditPath []string `json:"audit_path"`
}

// consistencyProofJSON is an RFC 9162 consistency proof; hashes are base64.
type consistencyProofJSON struct {
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	FromRoot string   `json:"from_root_hash"`
	ToRoot   string   `json:"to_root_hash"`
	Path     []string `json:"consistency_path"`
}

func (h *auditLogHandlers) apiCheckpoint(c echo.Context) error {
	cp, err := h.log.Latest(c.Request().Context())
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(cp.Note))
}

func (h *auditLogHandlers) publicCheckpoint(c echo.Context) error {
	if !h.public {
		return apperr.New(apperr.NotFound, "page not found")
	}
	return h.apiCheckpoint(c)
}

func (h *auditLogHandlers) apiVerifierKey(c echo.Context) error {
	vkey, err := h.log.VerifierKey(c.Request().Context())
	if err != nil {
		return err
	}
	return c.String(http.StatusOK, vkey+"\n")
}

func (h *auditLogHandlers) apiCheckpoints(c echo.Context) error {
	ctx := c.Request().Context()
	offset, limit, err := pageQuery(c, 200, 1000)
	if err != nil {
		return err
	}
	cps, err := h.log.History(ctx, offset, limit+1)
	if err != nil {
		return err
	}
	keys, err := h.log.VerifierKeys(ctx)
	if err != nil {
		return err
	}
	announcements, err := h.log.Announcements(ctx)
	if err != nil {
		return err
	}
	items := make([]checkpointJSON, len(cps))
	for i, cp := range cps {
		items[i] = checkpointJSON{ID: cp.ID, TreeSize: cp.TreeSize, RootHash: cp.RootHash, Note: cp.Note, VerifierKey: cp.VerifierKey,
			Reason: cp.Reason, CreatedAt: cp.CreatedAt.UTC()}
	}
	resp := checkpointHistoryJSON{listResponse: pageOf(items, offset, limit), VerifierKeys: keys, KeyAnnouncements: make([]keyAnnouncementJSON, len(announcements))}
	for i, a := range announcements {
		resp.KeyAnnouncements[i] = keyAnnouncementJSON{OldKey: a.OldKey, NewKey: a.NewKey, TreeSize: a.TreeSize, Note: a.Note, CreatedAt: a.CreatedAt.UTC()}
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *auditLogHandlers) apiInclusionProof(c echo.Context) error {
	seq, err := queryInt(c, "seq")
	if err != nil {
		return err
	}
	size, err := queryInt(c, "size")
	if err != nil {
		return err
	}
	p, err := h.log.Inclusion(c.Request().Context(), seq, size)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inclusionProofJSON{Seq: p.Seq, LeafIndex: p.LeafIndex, TreeSize: p.TreeSize, EventHash: p.EventHash,
		LeafHash: hashText(p.LeafHash), RootHash: hashText(p.RootHash), AuditPath: hashesText(p.Path)})
}

func (h *auditLogHandlers) apiConsistencyProof(c echo.Context) error {
	from, err := queryInt(c, "from")
	if err != nil {
		return err
	}
	to, err := queryInt(c, "to")
	if err != nil {
		return err
	}
	p, err := h.log.Consistency(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, consistencyProofJSON{From: p.From, To: p.To, FromRoot: hashText(p.FromRoot), ToRoot: hashText(p.ToRoot),
		Path: hashesText(p.Path)})
}

// queryInt reads a required whole-number query parameter.
func queryInt(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, apperr.Field(name, "is required")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, apperr.Field(name, "must be a whole number")
	}
	return n, nil
}

func hashText(h tlog.Hash) string { return auditlog.EncodeHash(h) }

func hashesText(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hashText(h)
	}
	return out
}
