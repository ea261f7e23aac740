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

// orgHandlers serve the organization profile and its logo.
type orgHandlers struct {
	*kit
	org   *org.Service
	files *files.Store
}

type organizationPage struct {
	Org *org.Organization // nil until the seed or an admin sets it
	// Logo is the logo's public address ("" for none).
	Logo string
	// LogoError says why an uploaded logo was refused.
	LogoError string
}

func (h *orgHandlers) organizationPage(c echo.Context) error {
	o, err := h.org.Get(c.Request().Context())
	if errors.Is(err, org.ErrNoProfile) {
		o, err = nil, nil // the page says there is none yet
	}
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "organization", "Organization", organizationPage{Org: o, Logo: brandOf(o).Logo})
}

type organizationForm struct {
	Input   org.ProfileInput
	Errors  map[string]string
	Message string
}

// withBlankRows adds one empty row to each list, for adding an entry.
func withBlankRows(in org.ProfileInput) org.ProfileInput {
	in.LegalEntities = append(in.LegalEntities, org.EntityInput{})
	in.GDPRRoles = append(in.GDPRRoles, org.GDPRRoleInput{})
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
	CCPAStatement      string `form:"ccpa_statement"`
	CCPAAddendumURL    string `form:"ccpa_addendum_url"`
	DataOwnership      string `form:"data_ownership"`
	NeverSold          string `form:"never_sold"`
	SecurityReport     string `form:"security_report"`
	BountyReward       string `form:"bounty_reward"`
	Approach           string `form:"approach"`
	BestPractices      string `form:"best_practices"`

	GDPRID        []string `form:"gdpr_id"`
	GDPRMode      []string `form:"gdpr_mode"`
	GDPRRole      []string `form:"gdpr_role"`
	GDPRStatement []string `form:"gdpr_statement"`

	EntityID                    []string `form:"entity_id"`
	EntityName                  []string `form:"entity_name"`
	EntityRole                  []string `form:"entity_role"`
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
	CertDocument    []string `form:"cert_document"` // a trust document's slug
}

// toInput gathers the rows; a row left blank is dropped.
func (f *organizationFormRequest) toInput() org.ProfileInput {
	in := org.ProfileInput{Name: f.Name, Website: f.Website, StatusPageURL: f.StatusPageURL, PrivacyEmail: f.PrivacyEmail,
		SecurityEmail: f.SecurityEmail, DPOName: f.DPOName, DPOTitle: f.DPOTitle, DPOEmail: f.DPOEmail, DPOPublic: f.DPOPublic == "yes",
		EURepresentative: f.EURepresentative, UKRepresentative: f.UKRepresentative,
		HostingRegions: strings.Split(f.HostingRegions, "\n"), TransferMechanisms: strings.Split(f.TransferMechanisms, "\n"),
		CCPAStatement: f.CCPAStatement, CCPAAddendumURL: f.CCPAAddendumURL, DataOwnership: f.DataOwnership, NeverSold: f.NeverSold,
		SecurityReport: f.SecurityReport, BountyReward: f.BountyReward, Approach: f.Approach, BestPractices: f.BestPractices}
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
	for i := range f.GDPRMode {
		r := org.GDPRRoleInput{ID: id(f.GDPRID, i), Mode: at(f.GDPRMode, i), Role: at(f.GDPRRole, i), Statement: at(f.GDPRStatement, i)}
		if r.Mode+r.Role+r.Statement != "" {
			in.GDPRRoles = append(in.GDPRRoles, r)
		}
	}
	for i := range f.EntityName {
		e := org.EntityInput{ID: id(f.EntityID, i), Name: at(f.EntityName, i), Role: at(f.EntityRole, i), Country: at(f.EntityCountry, i),
			RegistrationNumber: at(f.EntityRegistrationNumber, i), AuthorityRegistration: at(f.EntityAuthorityRegistration, i)}
		if e.Name+e.Role+e.Country+e.RegistrationNumber+e.AuthorityRegistration != "" {
			in.LegalEntities = append(in.LegalEntities, e)
		}
	}
	for i := range f.CertFramework {
		r := org.CertificationRow{ID: id(f.CertID, i), Framework: at(f.CertFramework, i), Type: at(f.CertType, i),
			Auditor: at(f.CertAuditor, i), PeriodStart: at(f.CertPeriodStart, i), PeriodEnd: at(f.CertPeriodEnd, i),
			ReportDate: at(f.CertReportDate, i), Document: at(f.CertDocument, i)}
		if r.Framework+r.Type+r.Auditor+r.PeriodStart+r.PeriodEnd+r.ReportDate+r.Document != "" {
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

// uploadLogo stores the company's logo, shown on every public page. A
// refused file is reported on the Organization page, naming the field.
func (h *orgHandlers) uploadLogo(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return apperr.Field("file", "choose the logo to upload (PNG or JPEG, at most 1 MB)")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := h.org.SetLogo(c.Request().Context(), actor(c), h.files, fh.Filename, f); err != nil {
		if ok, status, _, fields := formFailure(err); ok && fields["file"] != "" {
			o, gerr := h.org.Get(c.Request().Context())
			if gerr != nil {
				return gerr
			}
			return h.render(c, status, "organization", "Organization", organizationPage{Org: o, Logo: brandOf(o).Logo, LogoError: "The logo was not stored: the file " + fields["file"] + "."})
		}
		return err
	}
	h.flash(c, "Stored the logo ("+fh.Filename+"); the public pages show it now.")
	return seeOther(c, "/app/organization")
}
