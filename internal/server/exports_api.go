package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/labstack/echo/v4"
)

// auditEventJSON is an event on the API. Withheld names the fields the
// token's role may not see (they are then empty); data_withheld says the
// same of before and after at a glance.
type auditEventJSON struct {
	Seq          int64     `json:"seq"`
	OccurredAt   time.Time `json:"occurred_at"`
	Actor        string    `json:"actor"`
	Action       string    `json:"action"`
	ObjectType   string    `json:"object_type"`
	ObjectID     string    `json:"object_id"`
	Before       string    `json:"before,omitempty"`
	After        string    `json:"after,omitempty"`
	DataWithheld bool      `json:"data_withheld"`
	Withheld     []string  `json:"withheld,omitempty"`
	ClientIP     string    `json:"client_ip,omitempty"`
	UserAgent    string    `json:"user_agent,omitempty"`
	RequestID    string    `json:"request_id,omitempty"`
	PrevHash     string    `json:"prev_hash"`
	Hash         string    `json:"hash"`
}

func (h *exportHandlers) apiListAudit(c echo.Context) error {
	var q auditQuery
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &q); err != nil {
		return apperr.Field("query", "could not be read")
	}
	f, err := q.filter()
	if err != nil {
		return err
	}
	page, err := h.auditEvents(c, f)
	if err != nil {
		return err
	}
	items := make([]auditEventJSON, len(page.views))
	for i, v := range page.views {
		items[i] = auditEventJSON{Seq: v.Seq, OccurredAt: v.OccurredAt.UTC(), Actor: v.Actor, Action: v.Action,
			ObjectType: v.ObjectType, ObjectID: v.ObjectID, Before: v.BeforeJSON, After: v.AfterJSON,
			DataWithheld: v.DataWithheld(), Withheld: v.Withheld,
			ClientIP: v.ClientIP, UserAgent: v.UserAgent, RequestID: v.RequestID, PrevHash: v.PrevHash, Hash: v.Hash}
	}
	next := ""
	if page.NextBefore > 0 {
		next = strconv.FormatInt(page.NextBefore, 10)
	}
	return c.JSON(http.StatusOK, listResponse[auditEventJSON]{Items: items, NextCursor: next})
}
