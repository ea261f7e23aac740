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

// profileFromForm reads the settings form: the rows of legal entities and
// certifications come as parallel lists; a row left blank is dropped.
func profileFromForm(c echo.Context) (org.ProfileInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return org.ProfileInput{}, apperr.Field("form", "could not be read")
	}
	in := org.ProfileInput{Name: form.Get("name"), Website: form.Get("website"), StatusPageURL: form.Get("status_page_url"), PrivacyEmail: form.Get("privacy_email"),
		SecurityEmail: form.Get("security_email"), DPOName: form.Get("dpo_name"), DPOTitle: form.Get("dpo_title"),
		DPOEmail: form.Get("dpo_email"), DPOPublic: form.Get("dpo_public") == "yes",
		EURepresentative: form.Get("eu_representative"), UKRepresentative: form.Get("uk_representative"),
		HostingRegions: strings.Split(form.Get("hosting_regions"), "\n"), TransferMechanisms: strings.Split(form.Get("transfer_mechanisms"), "\n")}
	at := func(key string, i int) string {
		if vs := form[key]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	id := func(key string, i int) int64 {
		n, _ := strconv.ParseInt(at(key, i), 10, 64)
		return n
	}
	for i := range form["entity_name"] {
		e := org.EntityInput{ID: id("entity_id", i), Name: at("entity_name", i), Country: at("entity_country", i),
			RegistrationNumber: at("entity_registration_number", i), AuthorityRegistration: at("entity_authority_registration", i)}
		if e.Name+e.Country+e.RegistrationNumber+e.AuthorityRegistration != "" {
			in.LegalEntities = append(in.LegalEntities, e)
		}
	}
	for i := range form["cert_framework"] {
		r := org.CertificationRow{ID: id("cert_id", i), Framework: at("cert_framework", i), Type: at("cert_type", i),
			Auditor: at("cert_auditor", i), PeriodStart: at("cert_period_start", i), PeriodEnd: at("cert_period_end", i),
			ReportDate: at("cert_report_date", i), Public: at("cert_public", i) == "yes"}
		if r.Framework+r.Type+r.Auditor+r.PeriodStart+r.PeriodEnd+r.ReportDate != "" {
			in.Certifications = append(in.Certifications, r)
		}
	}
	return in, nil
}

func (h *orgHandlers) saveOrganization(c echo.Context) error {
	in, err := profileFromForm(c)
	if err != nil {
		return err
	}
	_, err = h.org.Update(c.Request().Context(), actor(c), in)
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
