package server

import (
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/publicform"
	"github.com/labstack/echo/v4"
)

// packetHandlers serve policy packets: the public request, the share link, verification, and their approval.
type packetHandlers struct {
	*kit
	packets   *packet.Service
	policies  *policy.Service
	workEmail *publicform.WorkEmail
}

// Public side: the request form, its confirmation, the packet link and
// verification.

type requestPage struct {
	Input    packet.RequestInput
	Errors   map[string]string
	Message  string
	Policies []policy.Summary
	NDA      *packet.NDAVersion
	Done     bool
}

func (h *packetHandlers) showRequestForm(c echo.Context, status int, p requestPage) error {
	ctx := c.Request().Context()
	var err error
	if p.NDA, err = h.packets.CurrentNDA(ctx); err != nil {
		return err
	}
	if p.Policies, err = h.policies.List(ctx, policy.ListOptions{}); err != nil {
		return err
	}
	return h.renderPublic(c, status, "trust_request", "Request our policies", p)
}

func (h *packetHandlers) requestForm(c echo.Context) error {
	return h.showRequestForm(c, http.StatusOK, requestPage{})
}

func (h *packetHandlers) submitRequest(c echo.Context) error {
	var in packet.RequestInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	if err := h.admitPublic(c, formPacketRequest, in.Email); err != nil {
		return err
	}
	err := h.workEmail.Check("email", privacy.NormalizeEmail(in.Email))
	if err == nil {
		_, err = h.packets.Submit(c.Request().Context(), actor(c), in)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showRequestForm(c, status, requestPage{Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	return h.renderPublic(c, http.StatusOK, "trust_request", "Check your email", requestPage{Input: in, Done: true})
}

type requestConfirmPage struct {
	Token   string
	Done    bool
	Request *packet.Request
	Packet  *packet.Packet
}

func (h *packetHandlers) confirmRequestPage(c echo.Context) error {
	shareHeaders(c)
	if err := h.packets.CheckConfirmation(c.Request().Context(), c.Param("token")); err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_request_confirm", "Confirm your request", requestConfirmPage{Token: c.Param("token")})
}

func (h *packetHandlers) confirmRequest(c echo.Context) error {
	shareHeaders(c)
	// Confirming can email the packet, but only to the address the link
	// was sent to, once: network and form limits only.
	if err := h.admitPublic(c, formPacketConfirm, ""); err != nil {
		return err
	}
	r, p, err := h.packets.Confirm(c.Request().Context(), actor(c), c.Param("token"))
	if err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_request_confirm", "Request confirmed", requestConfirmPage{Done: true, Request: r, Packet: p})
}

type packetPage struct {
	Token string
	View  *packet.View
	Error string
}

func (h *packetHandlers) packetLinkPage(c echo.Context) error {
	return h.showPacket(c, http.StatusOK, "")
}

func (h *packetHandlers) showPacket(c echo.Context, status int, msg string) error {
	shareHeaders(c)
	v, err := h.packets.Open(c.Request().Context(), actor(c), c.Param("token"))
	if err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, status, "trust_packet", "Policy packet "+v.Packet.PublicID, packetPage{Token: c.Param("token"), View: v, Error: msg})
}

func (h *packetHandlers) acceptPacketNDA(c echo.Context) error {
	shareHeaders(c)
	// Each acceptance stores a row; the link's holder emails nobody.
	if err := h.admitPublic(c, formPacketNDA, ""); err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.FormValue("nda_version"))
	err := h.packets.AcceptNDA(c.Request().Context(), actor(c), c.Param("token"), version, c.FormValue("accept_nda") == "yes")
	if ok, status, _, fields := formFailure(err); ok {
		return h.showPacket(c, status, "Please "+fields["accept_nda"]+".")
	} else if err != nil {
		return h.shareLinkError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/p/"+c.Param("token"))
}

func (h *packetHandlers) packetDownload(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		shareHeaders(c)
		file := name
		if file == "" {
			slug, ok := strings.CutSuffix(c.Param("file"), ".pdf")
			if !ok || slug == "" {
				return apperr.New(apperr.NotFound, "no such file in this packet")
			}
			file = "policies/" + slug + ".pdf"
		}
		data, p, err := h.packets.Download(c.Request().Context(), actor(c), c.Param("token"), file)
		switch {
		case apperr.Is(err, apperr.Forbidden):
			return h.showPacket(c, http.StatusForbidden, err.Error())
		case err != nil:
			return h.shareLinkError(c, err)
		}
		download := p.PublicID + "-" + strings.ReplaceAll(file, "/", "-")
		c.Response().Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": download}))
		return c.Blob(http.StatusOK, "application/pdf", data)
	}
}

func (h *packetHandlers) packetManifest(c echo.Context) error {
	shareHeaders(c)
	data, err := h.packets.ManifestFile(c.Request().Context(), actor(c), c.Param("token"))
	if err != nil {
		return h.shareLinkError(c, err)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, data)
}

type verifyPage struct {
	PublicKey string
	Result    *packet.Verification
	PacketID  string
	SHA256    string
	Error     string
}

func (h *packetHandlers) verifyForm(c echo.Context) error {
	return h.renderPublic(c, http.StatusOK, "trust_verify", "Verify a policy packet", verifyPage{PublicKey: h.packets.PublicKeyBase64()})
}

// maxVerifyBytes bounds an uploaded packet: the largest packet PDFs are a
// few megabytes.
const maxVerifyBytes = 50 << 20

func (h *packetHandlers) verify(c echo.Context) error {
	// Verifying stores nothing, but reads an upload of up to 50 MB.
	if err := h.admitPublic(c, formPacketVerify, ""); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := verifyPage{PublicKey: h.packets.PublicKeyBase64(), PacketID: strings.TrimSpace(c.FormValue("packet_id")),
		SHA256: strings.ToLower(strings.TrimSpace(c.FormValue("sha256")))}
	var err error
	if fh, ferr := c.FormFile("file"); ferr == nil {
		f, oerr := fh.Open()
		if oerr != nil {
			return oerr
		}
		data, rerr := io.ReadAll(io.LimitReader(f, maxVerifyBytes))
		f.Close()
		if rerr != nil {
			return rerr
		}
		p.Result, err = h.packets.VerifyFile(ctx, data)
	} else if p.SHA256 != "" {
		p.Result, err = h.packets.VerifyHash(ctx, p.PacketID, p.SHA256)
	} else {
		err = apperr.Field("file", "choose a packet file, or give a packet ID and a SHA-256")
	}
	if ok, status, _, fields := formFailure(err); ok {
		for k, v := range fields {
			p.Error = k + " " + v
		}
		return h.renderPublic(c, status, "trust_verify", "Verify a policy packet", p)
	} else if err != nil {
		return err
	}
	return h.renderPublic(c, http.StatusOK, "trust_verify", "Verify a policy packet", p)
}

// Dashboard side: the queue, decisions, packets and the NDA.

type packetsPage struct {
	Pending []packet.Request
	Recent  []packet.Request
	Packets []packet.Packet
	States  map[string]string // by packet ID
}

func (h *packetHandlers) packetsPage(c echo.Context) error {
	ctx := c.Request().Context()
	pending, err := h.packets.Requests(ctx, packet.RequestFilter{Status: packet.Pending})
	if err != nil {
		return err
	}
	recent, err := h.packets.Requests(ctx, packet.RequestFilter{Limit: 50})
	if err != nil {
		return err
	}
	packets, err := h.packets.Packets(ctx, 100)
	if err != nil {
		return err
	}
	states := map[string]string{}
	for _, p := range packets {
		states[p.PublicID] = p.State(h.timeNow())
	}
	return h.render(c, http.StatusOK, "packets", "Policy packets", packetsPage{Pending: pending, Recent: recent, Packets: packets, States: states})
}

type packetRequestPage struct {
	Detail   *packet.RequestDetail
	Policies []policy.Summary
	Errors   map[string]string
	Message  string
}

func (h *packetHandlers) packetRequestPage(c echo.Context) error {
	return h.showPacketRequest(c, http.StatusOK, nil, "")
}

func (h *packetHandlers) showPacketRequest(c echo.Context, status int, errs map[string]string, msg string) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := h.packets.RequestByID(ctx, id)
	if err != nil {
		return err
	}
	all, err := h.policies.List(ctx, policy.ListOptions{})
	if err != nil {
		return err
	}
	var offered []policy.Summary
	asked := d.Slugs()
	for _, p := range all {
		if p.Current != nil && (len(asked) == 0 || slices.Contains(asked, p.Slug)) {
			offered = append(offered, p)
		}
	}
	return h.render(c, status, "packet_request", "Request from "+d.Company, packetRequestPage{Detail: d, Policies: offered, Errors: errs, Message: msg})
}

// decisionFromForm reads the approval form: days, an optional limit and
// the ticked policies.
func decisionFromForm(c echo.Context) (packet.Decision, error) {
	var d packet.Decision
	errs := map[string]string{}
	if v := strings.TrimSpace(c.FormValue("expiry_days")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["expiry_days"] = "must be a whole number of days"
		}
		d.ExpiryDays = n
	}
	if v := strings.TrimSpace(c.FormValue("download_limit")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["download_limit"] = "must be a whole number, or empty for no limit"
		}
		d.DownloadLimit = &n
	}
	form, _ := c.FormParams()
	d.Policies = form["policies"]
	if len(errs) > 0 {
		return d, apperr.Fields(errs)
	}
	return d, nil
}

func (h *packetHandlers) approveRequest(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	d, err := decisionFromForm(c)
	var p *packet.Packet
	if err == nil {
		p, err = h.packets.Approve(c.Request().Context(), actor(c), id, d)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showPacketRequest(c, status, fields, msg)
	} else if err != nil {
		return err
	}
	h.flash(c, "Approved: packet "+p.PublicID+" is issued and its link is in the outbox.")
	return seeOther(c, "/app/packets/"+p.PublicID)
}

func (h *packetHandlers) denyRequest(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	_, err = h.packets.Deny(c.Request().Context(), actor(c), id, c.FormValue("reason"))
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showPacketRequest(c, status, fields, msg)
	} else if err != nil {
		return err
	}
	h.flash(c, "Denied; the requester is told why.")
	return seeOther(c, "/app/packets/requests/"+c.Param("id"))
}

type packetAdminPage struct {
	Detail *packet.PacketDetail
	State  string
}

func (h *packetHandlers) packetPage(c echo.Context) error {
	d, err := h.packets.PacketByID(c.Request().Context(), c.Param("pid"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "packet", "Packet "+d.Packet.PublicID, packetAdminPage{Detail: d, State: d.Packet.State(h.timeNow())})
}

func (h *packetHandlers) revokePacket(c echo.Context) error {
	p, err := h.packets.Revoke(c.Request().Context(), actor(c), c.Param("pid"))
	if apperr.Is(err, apperr.Conflict) {
		h.flash(c, err.Error())
	} else if err != nil {
		return err
	} else {
		h.flash(c, "Revoked: the link of "+p.PublicID+" stops working on its next request.")
	}
	return seeOther(c, "/app/packets/"+c.Param("pid"))
}

type ndaPage struct {
	NDA     *packet.NDAVersion
	Body    string
	Errors  map[string]string
	Message string
}

func (h *packetHandlers) ndaPage(c echo.Context) error {
	nda, err := h.packets.CurrentNDA(c.Request().Context())
	if err != nil && !apperr.Is(err, apperr.Conflict) {
		return err
	}
	p := ndaPage{NDA: nda}
	if nda != nil {
		p.Body = nda.Body
	}
	return h.render(c, http.StatusOK, "nda", "NDA", p)
}

func (h *packetHandlers) publishNDA(c echo.Context) error {
	body := c.FormValue("body")
	v, err := h.packets.PublishNDA(c.Request().Context(), actor(c), body)
	if ok, status, msg, fields := formFailure(err); ok {
		nda, _ := h.packets.CurrentNDA(c.Request().Context())
		return h.render(c, status, "nda", "NDA", ndaPage{NDA: nda, Body: body, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "NDA version "+strconv.Itoa(v.Version)+" is now in force; recipients accept it again before their next download.")
	return seeOther(c, "/app/packets/nda")
}

// API equivalents.

func (h *packetHandlers) apiListPacketRequests(c echo.Context) error {
	rs, err := h.packets.Requests(c.Request().Context(), packet.RequestFilter{Status: c.QueryParam("status")})
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []packet.Request{}
	}
	return c.JSON(http.StatusOK, listResponse[packet.Request]{Items: rs})
}

type requestJSON struct {
	packet.Request
	Policies []string       `json:"policies"`
	Packet   *packet.Packet `json:"packet,omitempty"`
}

func (h *packetHandlers) respondRequest(c echo.Context, status int, id int64) error {
	d, err := h.packets.RequestByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	j := requestJSON{Request: d.Request, Policies: d.Slugs(), Packet: d.Packet}
	if j.Policies == nil {
		j.Policies = []string{}
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

func (h *packetHandlers) apiApproveRequest(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	var d packet.Decision
	if err := bindBody(c, &d); err != nil {
		return err
	}
	if _, err := h.packets.Approve(c.Request().Context(), actor(c), id, d); err != nil {
		return err
	}
	return h.respondRequest(c, http.StatusOK, id)
}

func (h *packetHandlers) apiDenyRequest(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := bindBody(c, &body); err != nil {
		return err
	}
	if _, err := h.packets.Deny(c.Request().Context(), actor(c), id, body.Reason); err != nil {
		return err
	}
	return h.respondRequest(c, http.StatusOK, id)
}

func (h *packetHandlers) apiListPackets(c echo.Context) error {
	ps, err := h.packets.Packets(c.Request().Context(), 500)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []packet.Packet{}
	}
	return c.JSON(http.StatusOK, listResponse[packet.Packet]{Items: ps})
}

func (h *packetHandlers) apiGetPacket(c echo.Context) error {
	d, err := h.packets.PacketByID(c.Request().Context(), c.Param("pid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"packet": d.Packet, "state": d.Packet.State(h.timeNow()), "policies": d.Policies, "files": d.Files, "accesses": d.Accesses})
}

func (h *packetHandlers) apiRevokePacket(c echo.Context) error {
	if _, err := h.packets.Revoke(c.Request().Context(), actor(c), c.Param("pid")); err != nil {
		return err
	}
	return h.apiGetPacket(c)
}
