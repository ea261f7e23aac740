package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/snapshot"
	"github.com/labstack/echo/v4"
)

// snapshotHandlers serve the dated, signed snapshots of the public
// promises: the public page and JSON of a date, and the operators' list.
type snapshotHandlers struct {
	*kit
	snapshots *snapshot.Service
}

type snapshotsPage struct {
	Snapshots        []snapshot.Summary
	PrevURL, NextURL string
}

// snapshotsPageSize is how many snapshots the dashboard lists at once.
const snapshotsPageSize = 200

func (h *snapshotHandlers) snapshotsPage(c echo.Context) error {
	page, err := dashboardPage(c)
	if err != nil {
		return err
	}
	// One more than a page says whether an older page exists.
	list, err := h.snapshots.List(c.Request().Context(), (page-1)*snapshotsPageSize, snapshotsPageSize+1)
	if err != nil {
		return err
	}
	if len(list) == 0 && page > 1 {
		return apperr.Field("page", "is past the last page")
	}
	p := snapshotsPage{Snapshots: list}
	if len(list) > snapshotsPageSize {
		p.Snapshots, p.NextURL = list[:snapshotsPageSize], pageURL(c, page+1)
	}
	if page > 1 {
		p.PrevURL = pageURL(c, page-1)
	}
	return h.render(c, http.StatusOK, "snapshots", "Promise snapshots", p)
}

// asOfPage is the public page of the promises in force on a date.
type asOfPage struct {
	Date     string
	Snapshot *snapshot.Snapshot
	Content  *snapshot.Content
	// Message is the exact text the signature signs.
	Message string
}

// trustAsOf answers /trust/as-of/YYYY-MM-DD (the page) and
// /trust/as-of/YYYY-MM-DD.json. It is not kept in the public page cache:
// any date is a path, so keeping them would let anyone grow the cache
// without bound; each answer is one indexed read.
func (h *snapshotHandlers) trustAsOf(c echo.Context) error {
	param := c.Param("date")
	date, asJSON := strings.CutSuffix(param, ".json")
	day, err := snapshot.ParseDay("date", date)
	if err != nil {
		return err
	}
	snap, err := h.snapshots.AsOf(c.Request().Context(), day)
	if err != nil {
		return err
	}
	// A past date's answer never changes; today's may, so no answer is
	// kept long.
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	if asJSON {
		return c.JSON(http.StatusOK, toSnapshotJSON(date, snap))
	}
	content, err := snap.Decode()
	if err != nil {
		return err
	}
	return h.renderPublic(c, http.StatusOK, "trust_as_of", "Promises as of "+date,
		asOfPage{Date: date, Snapshot: snap, Content: content, Message: string(snapshot.Message(snap.TakenAt, snap.SHA256))})
}

// trustSnapshot answers /trust/snapshots/{id}.json: one snapshot,
// whatever came after it the same day, so that an email citing it points
// at exactly what it cites.
func (h *snapshotHandlers) trustSnapshot(c echo.Context) error {
	ref, ok := strings.CutSuffix(c.Param("id"), ".json")
	id, err := strconv.ParseInt(ref, 10, 64)
	if !ok || err != nil || id <= 0 {
		return snapshot.ErrNotFound
	}
	snap, err := h.snapshots.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, toSnapshotJSON("", snap))
}

// snapshotJSON is a snapshot as served: its content as the exact string
// that was hashed and signed, so that a client checks the bytes it got.
type snapshotJSON struct {
	Date           string    `json:"date,omitempty"`
	ID             int64     `json:"id"`
	TakenAt        time.Time `json:"taken_at"`
	SHA256         string    `json:"sha256"`
	Signature      string    `json:"signature"`
	SignedMessage  string    `json:"signed_message"`
	KeyFingerprint string    `json:"key_fingerprint"`
	Content        string    `json:"content"`
}

func toSnapshotJSON(date string, s *snapshot.Snapshot) snapshotJSON {
	return snapshotJSON{Date: date, ID: s.ID, TakenAt: s.TakenAt.UTC(), SHA256: s.SHA256, Signature: s.Signature,
		SignedMessage: string(snapshot.Message(s.TakenAt, s.SHA256)), KeyFingerprint: s.KeyFingerprint, Content: s.Content}
}

// snapshotListItemJSON is a snapshot in the API's list, without content.
type snapshotListItemJSON struct {
	ID             int64     `json:"id"`
	TakenAt        time.Time `json:"taken_at"`
	SHA256         string    `json:"sha256"`
	KeyFingerprint string    `json:"key_fingerprint"`
	URL            string    `json:"url"`
}

func (h *snapshotHandlers) apiListSnapshots(c echo.Context) error {
	offset, limit, err := pageQuery(c, 200, 500)
	if err != nil {
		return err
	}
	list, err := h.snapshots.List(c.Request().Context(), offset, limit+1)
	if err != nil {
		return err
	}
	items := make([]snapshotListItemJSON, 0, len(list))
	for _, s := range list {
		items = append(items, snapshotListItemJSON{ID: s.ID, TakenAt: s.TakenAt.UTC(), SHA256: s.SHA256, KeyFingerprint: s.KeyFingerprint,
			URL: "/api/v1/snapshots/" + strconv.FormatInt(s.ID, 10)})
	}
	return c.JSON(http.StatusOK, pageOf(items, offset, limit))
}

func (h *snapshotHandlers) apiGetSnapshot(c echo.Context) error {
	id, err := pathID(c, "id", snapshot.ErrNotFound)
	if err != nil {
		return err
	}
	s, err := h.snapshots.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSnapshotJSON("", s))
}
