package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/labstack/echo/v4"
)

func (h *packetHandlers) apiListPacketRequests(c echo.Context) error {
	rs, err := h.packets.Requests(c.Request().Context(), packet.RequestFilter{Status: c.QueryParam("status")})
	if err != nil {
		return err
	}
	resp := listResponse[packetRequestJSON]{Items: []packetRequestJSON{}}
	for i := range rs {
		resp.Items = append(resp.Items, toPacketRequestJSON(&rs[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

// packetRequestJSON is a customer's request for the packet.
type packetRequestJSON struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	Email        string     `json:"email"`
	Company      string     `json:"company"`
	Role         string     `json:"role"`
	Reason       string     `json:"reason"`
	Status       string     `json:"status"`
	ConfirmedAt  *time.Time `json:"confirmed_at"`
	DecidedAt    *time.Time `json:"decided_at"`
	DecidedBy    string     `json:"decided_by"`
	DenyReason   string     `json:"deny_reason"`
	AutoApproved bool       `json:"auto_approved"`
	CreatedAt    time.Time  `json:"created_at"`
}

func toPacketRequestJSON(r *packet.Request) packetRequestJSON {
	return packetRequestJSON{ID: r.ID, Name: r.Name, Email: r.Email, Company: r.Company, Role: r.Role, Reason: r.Reason,
		Status: r.Status, ConfirmedAt: r.ConfirmedAt, DecidedAt: r.DecidedAt, DecidedBy: r.DecidedBy, DenyReason: r.DenyReason,
		AutoApproved: r.AutoApproved, CreatedAt: r.CreatedAt}
}

// packetRequestDetailJSON is one request with the policies asked for
// (empty: all) and the packet issued for it, if any.
type packetRequestDetailJSON struct {
	packetRequestJSON
	Policies []string `json:"policies"`
	// NoPolicies marks a request for documents only (policies is then
	// empty without meaning all).
	NoPolicies bool        `json:"no_policies"`
	Documents  []string    `json:"documents"`
	Packet     *packetJSON `json:"packet,omitempty"`
}

// packetJSON is an issued packet.
type packetJSON struct {
	PacketID         string     `json:"packet_id"`
	RequestID        *int64     `json:"request_id"`
	RecipientName    string     `json:"recipient_name"`
	RecipientEmail   string     `json:"recipient_email"`
	RecipientCompany string     `json:"recipient_company"`
	IssuedAt         time.Time  `json:"issued_at"`
	ExpiresAt        time.Time  `json:"expires_at"`
	DownloadLimit    *int       `json:"download_limit"`
	Downloads        int        `json:"downloads"`
	RevokedAt        *time.Time `json:"revoked_at"`
	RevokedBy        string     `json:"revoked_by"`
	IssuedBy         string     `json:"issued_by"`
	ManifestSHA256   string     `json:"manifest_sha256"`
}

func toPacketJSON(p *packet.Packet) packetJSON {
	return packetJSON{PacketID: p.PublicID, RequestID: p.RequestID, RecipientName: p.RecipientName, RecipientEmail: p.RecipientEmail,
		RecipientCompany: p.RecipientCompany, IssuedAt: p.IssuedAt, ExpiresAt: p.ExpiresAt, DownloadLimit: p.DownloadLimit,
		Downloads: p.Downloads, RevokedAt: p.RevokedAt, RevokedBy: p.RevokedBy, IssuedBy: p.IssuedBy, ManifestSHA256: p.ManifestSHA256}
}

// packetDetailJSON is one packet with its state, contents and access log.
type packetDetailJSON struct {
	Packet    packetJSON           `json:"packet"`
	State     string               `json:"state"`
	Policies  []packetPolicyJSON   `json:"policies"`
	Documents []packetDocumentJSON `json:"documents"`
	Files     []packetFileJSON     `json:"files"`
	Accesses  []packetAccessJSON   `json:"accesses"`
}

// packetDocumentJSON is a trust document version as frozen into a packet:
// the original's SHA-256 and the stamped copy's, which is in files.
type packetDocumentJSON struct {
	Slug          string `json:"slug"`
	Title         string `json:"title"`
	Version       string `json:"version"`
	SHA256        string `json:"sha256"`
	StampedSHA256 string `json:"stamped_sha256"`
	File          string `json:"file"`
}

// packetPolicyJSON is a policy version as frozen into a packet.
type packetPolicyJSON struct {
	Slug        string    `json:"slug"`
	Title       string    `json:"title"`
	Version     string    `json:"version"`
	EffectiveOn time.Time `json:"effective_on"`
	SHA256      string    `json:"sha256"`
}

// packetFileJSON is one file of a packet, with its downloads (the limit
// is per file).
type packetFileJSON struct {
	Name      string `json:"name"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	Downloads int    `json:"downloads"`
}

// packetAccessJSON is one entry of a packet's access log.
type packetAccessJSON struct {
	At        time.Time `json:"at"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	File      string    `json:"file"`
	Outcome   string    `json:"outcome"`
}

func toPacketDetailJSON(d *packet.PacketDetail, now time.Time) packetDetailJSON {
	j := packetDetailJSON{Packet: toPacketJSON(&d.Packet), State: d.Packet.State(now),
		Policies: []packetPolicyJSON{}, Documents: []packetDocumentJSON{}, Files: []packetFileJSON{}, Accesses: []packetAccessJSON{}}
	for _, doc := range d.Documents {
		j.Documents = append(j.Documents, packetDocumentJSON{Slug: doc.Slug, Title: doc.Title, Version: doc.Version, SHA256: doc.SHA256,
			StampedSHA256: doc.StampedSHA256, File: doc.FileName})
	}
	for _, p := range d.Policies {
		j.Policies = append(j.Policies, packetPolicyJSON{Slug: p.Slug, Title: p.Title, Version: p.Version, EffectiveOn: p.EffectiveOn, SHA256: p.SHA256})
	}
	for _, f := range d.Files {
		j.Files = append(j.Files, packetFileJSON{Name: f.Name, SHA256: f.SHA256, Size: f.Size, Downloads: f.Downloads})
	}
	for _, a := range d.Accesses {
		j.Accesses = append(j.Accesses, packetAccessJSON{At: a.At, IP: a.IP, UserAgent: a.UserAgent, File: a.File, Outcome: a.Outcome})
	}
	return j
}

func (h *packetHandlers) respondRequest(c echo.Context, status int, id int64) error {
	d, err := h.packets.RequestByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	j := packetRequestDetailJSON{packetRequestJSON: toPacketRequestJSON(&d.Request), Policies: orEmpty(d.Slugs()), NoPolicies: !d.WantsPolicies(),
		Documents: orEmpty(d.DocumentSlugs())}
	if d.Packet != nil {
		p := toPacketJSON(d.Packet)
		j.Packet = &p
	}
	return c.JSON(status, j)
}

func (h *packetHandlers) apiGetPacketRequest(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	return h.respondRequest(c, http.StatusOK, id)
}

// decisionRequest is the body of an approval: days (0 or absent: the
// default), an optional per-file download limit and subsets of the
// requested policies and documents (each empty: all requested, unless
// exact says the two lists are the whole selection, so that one can be
// left out entirely).
type decisionRequest struct {
	ExpiryDays    int      `json:"expiry_days"`
	DownloadLimit *int     `json:"download_limit"` // per file
	Policies      []string `json:"policies"`
	Documents     []string `json:"documents"`
	Exact         bool     `json:"exact"`
	Answers       []int64  `json:"answers"` // questionnaire answers to add
}

func (r decisionRequest) toInput() packet.Decision {
	return packet.Decision{ExpiryDays: r.ExpiryDays, DownloadLimit: r.DownloadLimit, Policies: r.Policies, Documents: r.Documents, Exact: r.Exact,
		Answers: r.Answers}
}

func (h *packetHandlers) apiApproveRequest(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	var req decisionRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if _, err := h.packets.Approve(c.Request().Context(), actor(c), id, req.toInput()); err != nil {
		return err
	}
	return h.respondRequest(c, http.StatusOK, id)
}

func (h *packetHandlers) apiDenyRequest(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	var req denyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if _, err := h.packets.Deny(c.Request().Context(), actor(c), id, req.Reason); err != nil {
		return err
	}
	return h.respondRequest(c, http.StatusOK, id)
}

func (h *packetHandlers) apiListPackets(c echo.Context) error {
	ps, err := h.packets.Packets(c.Request().Context(), 500)
	if err != nil {
		return err
	}
	resp := listResponse[packetJSON]{Items: []packetJSON{}}
	for i := range ps {
		resp.Items = append(resp.Items, toPacketJSON(&ps[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *packetHandlers) apiGetPacket(c echo.Context) error {
	d, err := h.packets.PacketByID(c.Request().Context(), c.Param("pid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPacketDetailJSON(d, h.timeNow()))
}

func (h *packetHandlers) apiRevokePacket(c echo.Context) error {
	if _, err := h.packets.Revoke(c.Request().Context(), actor(c), c.Param("pid")); err != nil {
		return err
	}
	return h.apiGetPacket(c)
}
