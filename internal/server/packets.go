package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/questionnaire"
	"github.com/labstack/echo/v4"
)

// packetHandlers serve policy packets: the public request, the share link,
// verification, and their approval.
type packetHandlers struct {
	*kit
	packets  *packet.Service
	policies *policy.Service
	// documents lists the trust documents a request can name.
	documents *document.Service
	// privacy identifies countersigned standard DPAs on /trust/verify.
	privacy *privacy.Service
	// answers offers the questionnaire answers an approval may add.
	answers *questionnaire.Service
}

// Public side: the request form, its confirmation, the packet link and
// verification.

type packetPage struct {
	Token string
	View  *packet.View
	Error string
	// Errors are the NDA form's field errors.
	Errors map[string]string
	// RequestAgain is the request form filled in with this packet, for a
	// file whose downloads are used up.
	RequestAgain string
}

// Dashboard side: the queue, decisions, packets and the NDA.

type packetsPage struct {
	Pending []packet.Request
	Recent  []packet.Request
	Packets []packet.Packet
	States  map[string]string // by packet ID
	Status  string            // the requests list's filter; "" for all
}

func (h *packetHandlers) packetsPage(c echo.Context) error {
	ctx := c.Request().Context()
	pending, err := h.packets.Requests(ctx, packet.RequestFilter{Status: packet.Pending})
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	recent, err := h.packets.Requests(ctx, packet.RequestFilter{Status: status, Limit: 50})
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
	return h.render(c, http.StatusOK, "packets", "Policy packets", packetsPage{Pending: pending, Recent: recent, Packets: packets, States: states, Status: status})
}

type packetRequestPage struct {
	Detail    *packet.RequestDetail
	Policies  []policy.Summary
	Documents []requestedDocument
	// Answers are the questionnaire answers the approval may add.
	Answers []questionnaire.Answer
	// DPA is the requester's company's agreement, nil when none is on record.
	DPA *privacy.DPA
	// Action is the refused form ("approve" or "deny", "" for none), its
	// typed values kept in Approval or Denial.
	Action   string
	Approval decisionForm
	Denial   denyRequest
	Errors   map[string]string
	Message  string
}

// requestedDocument is a document a request names, as the approver sees
// it today.
type requestedDocument struct {
	Slug, Title, Version string
	// Available: still on request with a version in force; else the
	// approval must leave it out.
	Available   bool
	AutoApprove bool
}

func (h *packetHandlers) packetRequestPage(c echo.Context) error {
	return h.showPacketRequest(c, http.StatusOK, packetRequestPage{})
}

// showPacketRequest renders a request with the refused form of refill.
func (h *packetHandlers) showPacketRequest(c echo.Context, status int, refill packetRequestPage) error {
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
		if d.WantsPolicies() && p.Current != nil && (len(asked) == 0 || slices.Contains(asked, p.Slug)) {
			offered = append(offered, p)
		}
	}
	var docs []requestedDocument
	if slugs := d.DocumentSlugs(); len(slugs) > 0 {
		requestable, err := h.documents.Requestables(ctx)
		if err != nil {
			return err
		}
		for _, slug := range slugs {
			rd := requestedDocument{Slug: slug, Title: slug}
			for _, doc := range requestable {
				if doc.Slug == slug {
					rd = requestedDocument{Slug: slug, Title: doc.Title, Version: doc.Current.Version, Available: true, AutoApprove: doc.AutoApprove}
				}
			}
			docs = append(docs, rd)
		}
	}
	dpa, err := h.privacy.CustomerDPA(ctx, d.Email, d.Company)
	if err != nil {
		return err
	}
	answers, err := h.answers.Offerable(ctx)
	if err != nil {
		return err
	}
	p := refill
	p.Detail, p.Policies, p.Documents, p.DPA, p.Answers = d, offered, docs, dpa, answers
	return h.render(c, status, "packet_request", "Request from "+d.Company, p)
}

// decisionForm is the approval form: the days and the limit as typed
// (the limit empty for none), and the ticked policies and documents. The
// form's boxes start ticked and it sends exact=yes: what is ticked is the
// whole selection. Without exact, none ticked means all requested.
type decisionForm struct {
	ExpiryDays    string   `form:"expiry_days"`
	DownloadLimit string   `form:"download_limit"`
	Policies      []string `form:"policies"`
	Documents     []string `form:"documents"`
	Exact         string   `form:"exact"`
	Answers       []string `form:"answers"`
}

// toInput reads the typed numbers; the service checks their ranges.
func (f decisionForm) toInput() (packet.Decision, error) {
	d := packet.Decision{Policies: f.Policies, Documents: f.Documents, Exact: f.Exact == "yes"}
	errs := map[string]string{}
	if v := strings.TrimSpace(f.ExpiryDays); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["expiry_days"] = "must be a whole number of days"
		}
		d.ExpiryDays = n
	}
	if v := strings.TrimSpace(f.DownloadLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["download_limit"] = "must be a whole number, or empty for no limit"
		}
		d.DownloadLimit = &n
	}
	for _, v := range f.Answers {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs["answers"] = "name answers by their number"
		}
		d.Answers = append(d.Answers, id)
	}
	if len(errs) > 0 {
		return d, apperr.Fields(errs)
	}
	return d, nil
}

// denyRequest is the reason a request is refused, from the form or the API.
type denyRequest struct {
	Reason string `json:"reason" form:"reason"`
}

func (h *packetHandlers) approveRequest(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such request"))
	if err != nil {
		return err
	}
	var f decisionForm
	if err := bind(c, &f); err != nil {
		return err
	}
	d, err := f.toInput()
	var p *packet.Packet
	if err == nil {
		p, err = h.packets.Approve(c.Request().Context(), actor(c), id, d)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showPacketRequest(c, status, packetRequestPage{Action: "approve", Approval: f, Errors: fields, Message: msg})
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
	var req denyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	_, err = h.packets.Deny(c.Request().Context(), actor(c), id, req.Reason)
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showPacketRequest(c, status, packetRequestPage{Action: "deny", Denial: req, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Denied; the requester is told why.")
	return seeOther(c, "/app/packets/requests/"+c.Param("id"))
}

type packetAdminPage struct {
	Detail  *packet.PacketDetail
	State   string
	Answers []packet.PacketAnswer
	// Holders is whether the recipient hears of new versions, and of which.
	Holders *packet.Holders
}

func (h *packetHandlers) packetPage(c echo.Context) error {
	d, err := h.packets.PacketByID(c.Request().Context(), c.Param("pid"))
	if err != nil {
		return err
	}
	answers, err := h.packets.Answers(c.Request().Context(), d.Packet.ID)
	if err != nil {
		return err
	}
	holders, err := h.packets.HoldersOf(c.Request().Context(), d.Packet.PublicID)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "packet", "Packet "+d.Packet.PublicID, packetAdminPage{Detail: d, State: d.Packet.State(h.timeNow()),
		Answers: answers, Holders: holders})
}

func (h *packetHandlers) revokePacket(c echo.Context) error {
	p, err := h.packets.Revoke(c.Request().Context(), actor(c), c.Param("pid"))
	if apperr.Is(err, apperr.Conflict) {
		h.flashProblem(c, err)
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

// ndaRequest is the NDA form: the text of the new version.
type ndaRequest struct {
	Body string `form:"body"`
}

func (h *packetHandlers) publishNDA(c echo.Context) error {
	var req ndaRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := h.packets.PublishNDA(c.Request().Context(), actor(c), req.Body)
	if ok, status, msg, fields := formFailure(err); ok {
		nda, _ := h.packets.CurrentNDA(c.Request().Context())
		return h.render(c, status, "nda", "NDA", ndaPage{NDA: nda, Body: req.Body, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "NDA version "+strconv.Itoa(v.Version)+" is now in force; recipients accept it again before their next download.")
	return seeOther(c, "/app/packets/nda")
}

// API equivalents.
