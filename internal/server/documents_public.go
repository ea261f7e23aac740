package server

import "github.com/labstack/echo/v4"

// publicFile serves the file in force of a public document; any other
// slug (internal, on request, lapsed, unknown) is a 404.
func (h *documentHandlers) publicFile(c echo.Context) error {
	d, err := h.documents.PublicDocument(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return sendFile(c, h.files, d.Current.SHA256, d.Slug+"-"+d.Current.Version+".pdf", "application/pdf")
}
