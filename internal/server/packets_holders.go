package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/labstack/echo/v4"
)

// changeNoticesRequest turns a packet's change notices on or off.
type changeNoticesRequest struct {
	NotifyOnChange *bool `json:"notify_on_change" form:"notify_on_change"`
}

func (h *packetHandlers) setChangeNotices(c echo.Context) (*packet.Holders, error) {
	var req changeNoticesRequest
	if err := bind(c, &req); err != nil {
		return nil, err
	}
	if req.NotifyOnChange == nil {
		return nil, apperr.Field("notify_on_change", "is required: true or false")
	}
	return h.packets.SetNotifyOnChange(c.Request().Context(), actor(c), c.Param("pid"), *req.NotifyOnChange)
}

// packetChangeNotices is the dashboard's switch on the packet page.
func (h *packetHandlers) packetChangeNotices(c echo.Context) error {
	hs, err := h.setChangeNotices(c)
	if err != nil {
		return err
	}
	if hs.NotifyOnChange {
		h.flash(c, "The recipient will be emailed when a policy or document in this packet gets a new version.")
	} else {
		h.flash(c, "The recipient will not be emailed about new versions of this packet's contents.")
	}
	return seeOther(c, "/app/packets/"+c.Param("pid"))
}

// changeNoticesJSON is a packet's change-notice setting and history.
type changeNoticesJSON struct {
	PacketID       string             `json:"packet_id"`
	NotifyOnChange bool               `json:"notify_on_change"`
	Notices        []changeNoticeJSON `json:"notices"`
}

type changeNoticeJSON struct {
	Kind       string    `json:"kind"`
	VersionID  int64     `json:"version_id"`
	NotifiedAt time.Time `json:"notified_at"`
}

func toChangeNoticesJSON(pid string, hs *packet.Holders) changeNoticesJSON {
	out := changeNoticesJSON{PacketID: pid, NotifyOnChange: hs.NotifyOnChange, Notices: []changeNoticeJSON{}}
	for _, n := range hs.Notices {
		out.Notices = append(out.Notices, changeNoticeJSON{Kind: n.Kind, VersionID: n.VersionID, NotifiedAt: n.NotifiedAt.UTC()})
	}
	return out
}

func (h *packetHandlers) apiGetChangeNotices(c echo.Context) error {
	hs, err := h.packets.HoldersOf(c.Request().Context(), c.Param("pid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toChangeNoticesJSON(c.Param("pid"), hs))
}

func (h *packetHandlers) apiSetChangeNotices(c echo.Context) error {
	hs, err := h.setChangeNotices(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toChangeNoticesJSON(c.Param("pid"), hs))
}
