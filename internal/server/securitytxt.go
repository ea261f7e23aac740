package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// securityTxt serves /.well-known/security.txt (RFC 9116) from the
// organization profile: where to report a vulnerability, in which
// language, under which policy, and until when the file is valid. Expires is always a year
// ahead (RFC 9116 recommends less than a year; it is regenerated on every
// request, so it never lapses while the profile is kept).
func (h *trustHandlers) securityTxt(c echo.Context) error {
	o, err := h.org.Get(c.Request().Context())
	if err != nil {
		return err
	}
	if o == nil || o.SecurityEmail == "" {
		return echo.NewHTTPError(http.StatusNotFound, "no security contact is set in the organization profile")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Security contact of %s. Please report vulnerabilities here.\n", o.Name)
	fmt.Fprintf(&b, "Contact: mailto:%s\n", o.SecurityEmail)
	fmt.Fprintf(&b, "Contact: %s/trust/security\n", h.cfg.BaseURL)
	expires := h.timeNow().AddDate(0, 0, 364).Truncate(24 * time.Hour)
	fmt.Fprintf(&b, "Expires: %s\n", expires.Format(time.RFC3339))
	// The disclosure policy is the advisories page's reporting section.
	fmt.Fprintf(&b, "Policy: %s/trust/advisories#reporting\n", h.cfg.BaseURL)
	b.WriteString("Preferred-Languages: en\n")
	fmt.Fprintf(&b, "Canonical: %s/.well-known/security.txt\n", h.cfg.BaseURL)
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}
