package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/labstack/echo/v4"
)

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
