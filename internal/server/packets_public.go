package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/labstack/echo/v4"
)

// packetRequestForm is the public request form.
type packetRequestForm struct {
	Name       string   `form:"name" json:"name"`
	Email      string   `form:"email" json:"email"`
	Company    string   `form:"company" json:"company"`
	Role       string   `form:"role" json:"role"`
	Policies   []string `form:"policies" json:"policies"` // "all", or none with no documents: every policy
	Documents  []string `form:"documents" json:"documents"`
	Reason     string   `form:"reason" json:"reason"`
	NDAVersion int      `form:"nda_version" json:"nda_version"` // the version shown with the form
	AcceptNDA  bool     `form:"accept_nda" json:"accept_nda"`
}

func (f packetRequestForm) toInput() packet.RequestInput {
	return packet.RequestInput{Name: f.Name, Email: f.Email, Company: f.Company, Role: f.Role, Policies: f.Policies, Documents: f.Documents,
		Reason: f.Reason, NDAVersion: f.NDAVersion, AcceptNDA: f.AcceptNDA}
}

// requestPrefill is what a link to the form may fill in: /trust links a
// document (?document=slug), a dead packet link's "request again" the
// whole request.
type requestPrefill struct {
	Name      string   `query:"name"`
	Email     string   `query:"email"`
	Company   string   `query:"company"`
	Policies  []string `query:"policies"`
	Documents []string `query:"document"`
}

type requestPage struct {
	Input     packetRequestForm
	Errors    map[string]string
	Message   string
	Policies  []policy.Summary
	Documents []document.Document
	NDA       *packet.NDAVersion
	Done      bool
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
	if p.Documents, err = h.documents.Requestables(ctx); err != nil {
		return err
	}
	return h.renderPublic(c, status, "trust_request", "Request our policies and documents", p)
}

func (h *packetHandlers) requestForm(c echo.Context) error {
	// A link's pre-filled values are only suggestions: the form checks
	// what is sent.
	var pre requestPrefill
	if err := bind(c, &pre); err != nil {
		return err
	}
	in := packetRequestForm{Name: pre.Name, Email: pre.Email, Company: pre.Company, Policies: pre.Policies, Documents: pre.Documents}
	return h.showRequestForm(c, http.StatusOK, requestPage{Input: in})
}

func (h *packetHandlers) submitRequest(c echo.Context) error {
	var in packetRequestForm
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := h.admitPublic(c, formPacketRequest, in.Email); err != nil {
		return err
	}
	_, err := h.packets.Submit(c.Request().Context(), actor(c), in.toInput())
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

func (h *packetHandlers) packetLinkPage(c echo.Context) error {
	return h.showPacket(c, http.StatusOK, "", nil)
}

func (h *packetHandlers) showPacket(c echo.Context, status int, msg string, errs map[string]string) error {
	shareHeaders(c)
	v, err := h.packets.Open(c.Request().Context(), actor(c), c.Param("token"))
	if err != nil {
		return h.packetLinkError(c, err)
	}
	return h.renderPublic(c, status, "trust_packet", "Packet "+v.Packet.PublicID, packetPage{Token: c.Param("token"), View: v, Error: msg, Errors: errs,
		RequestAgain: requestAgainURL(v.Again())})
}

// requestAgainURL is /trust/request filled in with a packet's recipient
// and items (requestPrefill reads it).
func requestAgainURL(a packet.Again) string {
	q := url.Values{"name": {a.Name}, "email": {a.Email}, "company": {a.Company}, "policies": a.Policies, "document": a.Documents}
	return "/trust/request?" + q.Encode()
}

// packetDeadPage says why a packet's link, or one of its files, cannot be
// had, and links to a new request for the same.
type packetDeadPage struct {
	Reason       string
	File         string // what the file holds
	Limit        int
	Token        string // for a file at its limit: the page still opens
	RequestAgain string
}

// packetLinkError answers a known packet's dead link, or a file at its
// limit, with a page in the company's branding that says which is true
// and offers to request the same again (410). Anything else, an unknown
// token above all, goes to shareLinkError and says nothing.
func (h *packetHandlers) packetLinkError(c echo.Context, err error) error {
	var u *packet.Unavailable
	if !errors.As(err, &u) {
		return h.shareLinkError(c, err)
	}
	p := packetDeadPage{Reason: u.Reason, File: u.FileTitle, Limit: u.Limit, RequestAgain: requestAgainURL(u.Again)}
	title := map[string]string{packet.Expired: "This link has expired", packet.Withdrawn: "This link was withdrawn",
		packet.FileLimit: "This file's download limit is reached"}[u.Reason]
	if u.Reason == packet.FileLimit {
		p.Token = c.Param("token")
	}
	return h.renderPublic(c, http.StatusGone, "trust_packet_dead", title, p)
}

// ndaAcceptRequest is the NDA box on a packet's page.
type ndaAcceptRequest struct {
	NDAVersion string `form:"nda_version"`
	AcceptNDA  string `form:"accept_nda"` // "yes" when ticked
}

func (h *packetHandlers) acceptPacketNDA(c echo.Context) error {
	shareHeaders(c)
	// Each acceptance stores a row; the link's holder emails nobody.
	if err := h.admitPublic(c, formPacketNDA, ""); err != nil {
		return err
	}
	var req ndaAcceptRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	version, _ := strconv.Atoi(req.NDAVersion)
	err := h.packets.AcceptNDA(c.Request().Context(), actor(c), c.Param("token"), version, req.AcceptNDA == "yes")
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showPacket(c, status, msg, fields)
	} else if err != nil {
		return h.packetLinkError(c, err)
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
		return h.sendPacketFile(c, file)
	}
}

// packetDocumentDownload serves a trust document's stamped copy.
func (h *packetHandlers) packetDocumentDownload(c echo.Context) error {
	shareHeaders(c)
	slug, ok := strings.CutSuffix(c.Param("file"), ".pdf")
	if !ok || slug == "" {
		return apperr.New(apperr.NotFound, "no such file in this packet")
	}
	return h.sendPacketFile(c, "documents/"+slug+".pdf")
}

func (h *packetHandlers) sendPacketFile(c echo.Context, file string) error {
	data, p, err := h.packets.Download(c.Request().Context(), actor(c), c.Param("token"), file)
	switch {
	case apperr.Is(err, apperr.Forbidden):
		return h.showPacket(c, http.StatusForbidden, err.Error(), nil)
	case err != nil:
		return h.packetLinkError(c, err)
	}
	download := p.PublicID + "-" + strings.ReplaceAll(file, "/", "-")
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": download}))
	// With its length said, the file goes out as it is, not in chunks.
	hdr.Set(echo.HeaderContentLength, strconv.Itoa(len(data)))
	return c.Blob(http.StatusOK, "application/pdf", data)
}

// packetManifest serves manifest.json byte for byte as signed, so that
// its signature (manifest.sig) verifies over the file as downloaded.
func (h *packetHandlers) packetManifest(c echo.Context) error {
	shareHeaders(c)
	data, err := h.packets.ManifestFile(c.Request().Context(), actor(c), c.Param("token"))
	if err != nil {
		return h.packetLinkError(c, err)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, data)
}

// packetManifestSignature serves manifest.sig: the raw Ed25519 signature
// of manifest.json, for `openssl pkeyutl -verify -rawin -sigfile`.
func (h *packetHandlers) packetManifestSignature(c echo.Context) error {
	shareHeaders(c)
	sig, err := h.packets.ManifestSignature(c.Request().Context(), actor(c), c.Param("token"))
	if err != nil {
		return h.packetLinkError(c, err)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="manifest.sig"`)
	return c.Blob(http.StatusOK, echo.MIMEOctetStream, sig)
}

// signingKeyPEM publishes the key that signs packet manifests, evidence
// bundles and countersigned DPAs as a PEM public key, the form openssl reads.
func (h *packetHandlers) signingKeyPEM(c echo.Context) error {
	key, err := h.packets.PublicKeyPEM()
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/x-pem-file", key)
}

type verifyPage struct {
	PublicKey string
	Result    *packet.Verification
	PacketID  string
	SHA256    string
	Errors    map[string]string
	Message   string
	// DPA is set when the file is no packet's but a countersigned
	// standard DPA.
	DPA *privacy.SignedDPAVerification
}

func (h *packetHandlers) verifyForm(c echo.Context) error {
	return h.renderPublic(c, http.StatusOK, "trust_verify", "Verify a policy packet", verifyPage{PublicKey: h.packets.PublicKeyBase64()})
}

// maxVerifyBytes bounds an uploaded packet: the largest packet PDFs are a
// few megabytes.
const maxVerifyBytes = 50 << 20

// verifyRequest is the verify form's typed fields; the uploaded file, if
// any, is read apart.
type verifyRequest struct {
	PacketID string `form:"packet_id"`
	SHA256   string `form:"sha256"`
}

func (h *packetHandlers) verify(c echo.Context) error {
	// Verifying stores nothing, but reads an upload of up to 50 MB.
	if err := h.admitPublic(c, formPacketVerify, ""); err != nil {
		return err
	}
	var req verifyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := verifyPage{PublicKey: h.packets.PublicKeyBase64(), PacketID: strings.TrimSpace(req.PacketID),
		SHA256: strings.ToLower(strings.TrimSpace(req.SHA256))}
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
		err = apperr.Field("file", "is required, or else a SHA-256 (and the packet ID if you have it)")
	}
	if ok, status, msg, fields := formFailure(err); ok {
		p.Errors, p.Message = fields, msg
		return h.renderPublic(c, status, "trust_verify", "Verify a policy packet", p)
	} else if err != nil {
		return err
	}
	if !p.Result.Issued {
		// Not a packet file: perhaps a countersigned standard DPA.
		if p.DPA, err = h.privacy.VerifyCountersigned(ctx, p.Result.SHA256); err != nil {
			return err
		}
	}
	return h.renderPublic(c, http.StatusOK, "trust_verify", "Verify a policy packet", p)
}
