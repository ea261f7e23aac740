package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

// orgHandlers serve the organization profile and its certifications' reports.
type orgHandlers struct {
	*kit
	org   *org.Service
	files *files.Store
}

type organizationPage struct {
	Org *org.Organization // nil until the seed or an admin sets it
}

func (h *orgHandlers) organizationPage(c echo.Context) error {
	o, err := h.org.Get(c.Request().Context())
	if errors.Is(err, org.ErrNoProfile) {
		o, err = nil, nil // the page says there is none yet
	}
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "organization", "Organization", organizationPage{Org: o})
}

type organizationForm struct {
	Input   org.ProfileInput
	Errors  map[string]string
	Message string
}

// withBlankRows adds one empty row to each list, for adding an entry.
func withBlankRows(in org.ProfileInput) org.ProfileInput {
	in.LegalEntities = append(in.LegalEntities, org.EntityInput{})
	in.Certifications = append(in.Certifications, org.CertificationRow{})
	return in
}

func (h *orgHandlers) editOrganizationForm(c echo.Context) error {
	o, err := h.org.Get(c.Request().Context())
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "organization_form", "Organization settings", organizationForm{Input: withBlankRows(org.InputOf(o))})
}

// organizationFormRequest is the settings form. The rows of legal
// entities and certifications come as parallel lists, one value per row.
type organizationFormRequest struct {
	Name               string `form:"name"`
	Website            string `form:"website"`
	StatusPageURL      string `form:"status_page_url"`
	PrivacyEmail       string `form:"privacy_email"`
	SecurityEmail      string `form:"security_email"`
	DPOName            string `form:"dpo_name"`
	DPOTitle           string `form:"dpo_title"`
	DPOEmail           string `form:"dpo_email"`
	DPOPublic          string `form:"dpo_public"` // "yes" when ticked
	EURepresentative   string `form:"eu_representative"`
	UKRepresentative   string `form:"uk_representative"`
	HostingRegions     string `form:"hosting_regions"` // one per line
	TransferMechanisms string `form:"transfer_mechanisms"`

	EntityID                    []string `form:"entity_id"`
	EntityName                  []string `form:"entity_name"`
	EntityCountry               []string `form:"entity_country"`
	EntityRegistrationNumber    []string `form:"entity_registration_number"`
	EntityAuthorityRegistration []string `form:"entity_authority_registration"`

	CertID          []string `form:"cert_id"`
	CertFramework   []string `form:"cert_framework"`
	CertType        []string `form:"cert_type"`
	CertAuditor     []string `form:"cert_auditor"`
	CertPeriodStart []string `form:"cert_period_start"`
	CertPeriodEnd   []string `form:"cert_period_end"`
	CertReportDate  []string `form:"cert_report_date"`
	CertPublic      []string `form:"cert_public"` // "yes" for a public download
}

// toInput gathers the rows; a row left blank is dropped.
func (f *organizationFormRequest) toInput() org.ProfileInput {
	in := org.ProfileInput{Name: f.Name, Website: f.Website, StatusPageURL: f.StatusPageURL, PrivacyEmail: f.PrivacyEmail,
		SecurityEmail: f.SecurityEmail, DPOName: f.DPOName, DPOTitle: f.DPOTitle, DPOEmail: f.DPOEmail, DPOPublic: f.DPOPublic == "yes",
		EURepresentative: f.EURepresentative, UKRepresentative: f.UKRepresentative,
		HostingRegions: strings.Split(f.HostingRegions, "\n"), TransferMechanisms: strings.Split(f.TransferMechanisms, "\n")}
	at := func(vs []string, i int) string {
		if i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	id := func(vs []string, i int) int64 {
		n, _ := strconv.ParseInt(at(vs, i), 10, 64)
		return n
	}
	for i := range f.EntityName {
		e := org.EntityInput{ID: id(f.EntityID, i), Name: at(f.EntityName, i), Country: at(f.EntityCountry, i),
			RegistrationNumber: at(f.EntityRegistrationNumber, i), AuthorityRegistration: at(f.EntityAuthorityRegistration, i)}
		if e.Name+e.Country+e.RegistrationNumber+e.AuthorityRegistration != "" {
			in.LegalEntities = append(in.LegalEntities, e)
		}
	}
	for i := range f.CertFramework {
		r := org.CertificationRow{ID: id(f.CertID, i), Framework: at(f.CertFramework, i), Type: at(f.CertType, i),
			Auditor: at(f.CertAuditor, i), PeriodStart: at(f.CertPeriodStart, i), PeriodEnd: at(f.CertPeriodEnd, i),
			ReportDate: at(f.CertReportDate, i), Public: at(f.CertPublic, i) == "yes"}
		if r.Framework+r.Type+r.Auditor+r.PeriodStart+r.PeriodEnd+r.ReportDate != "" {
			in.Certifications = append(in.Certifications, r)
		}
	}
	return in
}

func (h *orgHandlers) saveOrganization(c echo.Context) error {
	var f organizationFormRequest
	if err := bind(c, &f); err != nil {
		return err
	}
	in := f.toInput()
	_, err := h.org.Update(c.Request().Context(), actor(c), in)
	if ok, status, msg, fields := formFailure(err); ok {
		return h.render(c, status, "organization_form", "Organization settings", organizationForm{Input: withBlankRows(in), Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved the organization profile; the public page shows it now.")
	return seeOther(c, "/app/organization")
}

func (h *orgHandlers) uploadCertificationReport(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such certification"))
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apperr.Field("file", "choose the report PDF to upload")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := h.org.AttachReport(c.Request().Context(), actor(c), h.files, id, fh.Filename, f); err != nil {
		if ok, _, _, fields := formFailure(err); ok && fields["file"] != "" {
			h.flash(c, "The report was not stored: the file "+fields["file"]+".")
			return seeOther(c, "/app/organization")
		}
		return err
	}
	h.flash(c, "Stored the report ("+fh.Filename+").")
	return seeOther(c, "/app/organization")
}

// certificationReport serves any certification's report to signed-in
// users; public ones are also at /trust/certifications/:id/report.
func (h *orgHandlers) certificationReport(c echo.Context) error {
	id, err := pathID(c, "id", apperr.New(apperr.NotFound, "no such certification"))
	if err != nil {
		return err
	}
	cert, err := h.org.Certification(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if cert.ReportSHA256 == "" {
		return apperr.New(apperr.NotFound, "no report has been uploaded for this certification")
	}
	return sendFile(c, h.files, cert.ReportSHA256, cert.ReportName, "application/pdf")
}
