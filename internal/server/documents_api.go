package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/document"
	"github.com/labstack/echo/v4"
)

type documentJSON struct {
	Slug        string                `json:"slug"`
	Title       string                `json:"title"`
	Kind        string                `json:"kind"`
	Access      string                `json:"access"`
	Description string                `json:"description"`
	OwnerEmail  string                `json:"owner_email"`
	AutoApprove bool                  `json:"auto_approve"`
	Lapsed      bool                  `json:"lapsed"`
	Current     *documentVersionJSON  `json:"current_version"`
	Versions    []documentVersionJSON `json:"versions,omitempty"`
	UpdatedAt   time.Time             `json:"updated_at"`
}

type documentVersionJSON struct {
	ID         int64     `json:"id"`
	Version    string    `json:"version"`
	IssuedOn   string    `json:"issued_on"`
	ValidUntil string    `json:"valid_until,omitempty"`
	SHA256     string    `json:"sha256"`
	FileName   string    `json:"file_name"`
	Size       int64     `json:"size"`
	Pages      int       `json:"pages"`
	UploadedAt time.Time `json:"uploaded_at"`
	UploadedBy string    `json:"uploaded_by"`
}

func versionOfDocumentJSON(v *document.Version) documentVersionJSON {
	return documentVersionJSON{ID: v.ID, Version: v.Version, IssuedOn: v.IssuedOn.Format(time.DateOnly), ValidUntil: dateOf(v.ValidUntil),
		SHA256: v.SHA256, FileName: v.FileName, Size: v.Size, Pages: v.Pages, UploadedAt: v.UploadedAt.UTC(), UploadedBy: v.UploadedBy}
}

func (h *documentHandlers) toJSON(d *document.Document) documentJSON {
	j := documentJSON{Slug: d.Slug, Title: d.Title, Kind: string(d.Kind), Access: string(d.Access), Description: d.Description,
		OwnerEmail: d.OwnerEmail, AutoApprove: d.AutoApprove, Lapsed: d.Current.LapsedOn(h.documents.Today()), UpdatedAt: d.UpdatedAt.UTC()}
	if d.Current != nil {
		v := versionOfDocumentJSON(d.Current)
		j.Current = &v
	}
	return j
}

func (h *documentHandlers) apiList(c echo.Context) error {
	docs, err := h.documents.List(c.Request().Context())
	if err != nil {
		return err
	}
	resp := listResponse[documentJSON]{Items: []documentJSON{}}
	for i := range docs {
		resp.Items = append(resp.Items, h.toJSON(&docs[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *documentHandlers) apiGet(c echo.Context) error {
	d, vs, err := h.documents.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	j := h.toJSON(d)
	for i := range vs {
		j.Versions = append(j.Versions, versionOfDocumentJSON(&vs[i]))
	}
	return c.JSON(http.StatusOK, j)
}

// apiCreate takes a multipart body: the fields of the form and the file.
func (h *documentHandlers) apiCreate(c echo.Context) error {
	var req newDocumentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	up, done, err := upload(c)
	if err != nil {
		return err
	}
	defer done()
	d, err := h.documents.Create(c.Request().Context(), actor(c), document.Input(req.document()), document.VersionInput(req.version()), up)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/documents/"+d.Slug)
	return c.JSON(http.StatusCreated, h.toJSON(d))
}

func (h *documentHandlers) apiUpdate(c echo.Context) error {
	var req documentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	d, err := h.documents.Update(c.Request().Context(), actor(c), c.Param("slug"), document.Input(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toJSON(d))
}

// apiAddVersion takes a multipart body: version, issued_on, valid_until
// and the file.
func (h *documentHandlers) apiAddVersion(c echo.Context) error {
	var req documentVersionRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	up, done, err := upload(c)
	if err != nil {
		return err
	}
	defer done()
	v, err := h.documents.AddVersion(c.Request().Context(), actor(c), c.Param("slug"), document.VersionInput(req), up)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, versionOfDocumentJSON(v))
}
