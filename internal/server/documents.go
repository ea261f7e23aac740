package server

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/files"
	"github.com/labstack/echo/v4"
)

// documentHandlers serve the trust documents register.
type documentHandlers struct {
	*kit
	documents *document.Service
	files     *files.Store
}

// documentRequest is a document's description as a form or a JSON body
// sends it.
type documentRequest struct {
	Title       string `json:"title" form:"title"`
	Slug        string `json:"slug" form:"slug"`
	Kind        string `json:"kind" form:"kind"`
	Access      string `json:"access" form:"access"`
	Description string `json:"description" form:"description"`
	OwnerEmail  string `json:"owner_email" form:"owner_email"`
	AutoApprove bool   `json:"auto_approve" form:"auto_approve"`
}

// documentVersionRequest describes an uploaded file.
type documentVersionRequest struct {
	Version    string `form:"version"`
	IssuedOn   string `form:"issued_on"`
	ValidUntil string `form:"valid_until"`
}

// newDocumentRequest is the form (and multipart API body) that creates a
// document with its first file: a documentRequest and a
// documentVersionRequest in one (echo binds no unexported embedded
// struct).
type newDocumentRequest struct {
	Title       string `form:"title"`
	Slug        string `form:"slug"`
	Kind        string `form:"kind"`
	Access      string `form:"access"`
	Description string `form:"description"`
	OwnerEmail  string `form:"owner_email"`
	AutoApprove bool   `form:"auto_approve"`
	Version     string `form:"version"`
	IssuedOn    string `form:"issued_on"`
	ValidUntil  string `form:"valid_until"`
}

func (r newDocumentRequest) document() documentRequest {
	return documentRequest{Title: r.Title, Slug: r.Slug, Kind: r.Kind, Access: r.Access, Description: r.Description,
		OwnerEmail: r.OwnerEmail, AutoApprove: r.AutoApprove}
}

func (r newDocumentRequest) version() documentVersionRequest {
	return documentVersionRequest{Version: r.Version, IssuedOn: r.IssuedOn, ValidUntil: r.ValidUntil}
}

func requestOf(d *document.Document) documentRequest {
	return documentRequest{Title: d.Title, Slug: d.Slug, Kind: string(d.Kind), Access: string(d.Access), Description: d.Description,
		OwnerEmail: d.OwnerEmail, AutoApprove: d.AutoApprove}
}

// upload is the request's "file" part; a missing part is a nil Body,
// which the register refuses with the field named.
func upload(c echo.Context) (document.Upload, func(), error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return document.Upload{}, func() {}, nil
	}
	f, err := fh.Open()
	if err != nil {
		return document.Upload{}, func() {}, err
	}
	return document.Upload{Name: fh.Filename, Body: f}, func() { f.Close() }, nil
}

type documentsPage struct {
	Rows []documentRow
}

type documentRow struct {
	Document *document.Document
	Lapsed   bool
}

func (h *documentHandlers) listPage(c echo.Context) error {
	docs, err := h.documents.List(c.Request().Context())
	if err != nil {
		return err
	}
	p, today := documentsPage{}, h.documents.Today()
	for i := range docs {
		p.Rows = append(p.Rows, documentRow{Document: &docs[i], Lapsed: docs[i].Current.LapsedOn(today)})
	}
	return h.render(c, http.StatusOK, "documents", "Trust documents", p)
}

// documentPage shows a document, its versions and the forms that change
// them; a refused form comes back with its values and errors.
type documentPage struct {
	Document      *document.Document // nil on the new-document form
	Versions      []document.Version
	Input         documentRequest
	Version       documentVersionRequest
	Errors        map[string]string
	VersionErrors map[string]string
	Message       string
	Kinds         []document.KindLabel
	Lapsed        bool
}

func (h *documentHandlers) newForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "document", "Add a trust document", documentPage{Kinds: document.KindLabels(),
		Input: documentRequest{Kind: string(document.SOC2Report), Access: string(document.OnRequest), OwnerEmail: currentUser(c).Email}})
}

func (h *documentHandlers) show(c echo.Context, status int, p documentPage) error {
	d, vs, err := h.documents.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	p.Document, p.Versions, p.Kinds = d, vs, document.KindLabels()
	p.Lapsed = d.Current.LapsedOn(h.documents.Today())
	if p.Errors == nil && p.Message == "" {
		p.Input = requestOf(d)
	}
	return h.render(c, status, "document", d.Title, p)
}

func (h *documentHandlers) page(c echo.Context) error {
	return h.show(c, http.StatusOK, documentPage{})
}

func (h *documentHandlers) create(c echo.Context) error {
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
	if ok, status, msg, fields := formFailure(err); ok {
		return h.render(c, status, "document", "Add a trust document", documentPage{Kinds: document.KindLabels(),
			Input: req.document(), Version: req.version(), Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Added "+d.Title+".")
	return seeOther(c, "/app/documents/"+url.PathEscape(d.Slug))
}

func (h *documentHandlers) update(c echo.Context) error {
	var req documentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	d, err := h.documents.Update(c.Request().Context(), actor(c), c.Param("slug"), document.Input(req))
	if ok, status, msg, fields := formFailure(err); ok {
		return h.show(c, status, documentPage{Input: req, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved "+d.Title+".")
	return seeOther(c, "/app/documents/"+url.PathEscape(d.Slug))
}

func (h *documentHandlers) addVersion(c echo.Context) error {
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
	if ok, status, msg, fields := formFailure(err); ok {
		return h.show(c, status, documentPage{Version: req, VersionErrors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Version "+v.Version+" is now the one in force.")
	return seeOther(c, "/app/documents/"+url.PathEscape(c.Param("slug")))
}

// versionFile serves any version's original file to the team.
func (h *documentHandlers) versionFile(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "no such version")
	}
	v, err := h.documents.Version(c.Request().Context(), c.Param("slug"), id)
	if err != nil {
		return err
	}
	return sendFile(c, h.files, v.SHA256, v.FileName, "application/pdf")
}
