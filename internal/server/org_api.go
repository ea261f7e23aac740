package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

// organizationRequest is the profile as PUT /api/v1/organization takes
// it. Lists replace what is stored: a row with an ID is updated, one
// without is added, and a stored one left out is deleted.
type organizationRequest struct {
	Name               string              `json:"name"`
	Website            string              `json:"website"`
	StatusPageURL      string              `json:"status_page_url"`
	PrivacyEmail       string              `json:"privacy_email"`
	SecurityEmail      string              `json:"security_email"`
	DPOName            string              `json:"dpo_name"`
	DPOTitle           string              `json:"dpo_title"`
	DPOEmail           string              `json:"dpo_email"`
	DPOPublic          bool                `json:"dpo_public"`
	EURepresentative   string              `json:"eu_representative"`
	UKRepresentative   string              `json:"uk_representative"`
	HostingRegions     []string            `json:"hosting_regions"`
	TransferMechanisms []string            `json:"transfer_mechanisms"`
	CCPAStatement      string              `json:"ccpa_statement"`
	CCPAAddendumURL    string              `json:"ccpa_addendum_url"`
	DataOwnership      string              `json:"data_ownership"`
	NeverSold          string              `json:"never_sold"`
	SecurityReport     string              `json:"security_report"`
	BountyReward       string              `json:"bounty_reward"`
	Approach           string              `json:"approach"`       // Markdown
	BestPractices      string              `json:"best_practices"` // Markdown
	GDPRRoles          []gdprRoleJSON      `json:"gdpr_roles"`
	LegalEntities      []entityJSON        `json:"legal_entities"`
	Certifications     []certificationJSON `json:"certifications"`
}

// gdprRoleJSON is the role under the GDPR for one product or deployment
// mode.
type gdprRoleJSON struct {
	ID        int64  `json:"id"`
	Mode      string `json:"mode"`
	Role      string `json:"role"`
	Statement string `json:"statement"`
}

// organizationJSON is the profile as the API returns it: the fields of
// the request, so that a GET's body can be edited and PUT back.
type organizationJSON organizationRequest

// entityJSON is one legal entity of the profile.
type entityJSON struct {
	ID                    int64  `json:"id"`
	Name                  string `json:"name"`
	Role                  string `json:"role"`
	Country               string `json:"country"`
	RegistrationNumber    string `json:"registration_number"`
	AuthorityRegistration string `json:"authority_registration"`
}

// certificationJSON is one certification of the profile; dates as
// YYYY-MM-DD.
type certificationJSON struct {
	ID          int64  `json:"id"`
	Framework   string `json:"framework"`
	Type        string `json:"type"`
	Auditor     string `json:"auditor"`
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
	ReportDate  string `json:"report_date"`
	// Document is the slug of the trust document holding the report.
	Document string `json:"document"`
}

func (r *organizationRequest) toInput() org.ProfileInput {
	in := org.ProfileInput{Name: r.Name, Website: r.Website, StatusPageURL: r.StatusPageURL, PrivacyEmail: r.PrivacyEmail,
		SecurityEmail: r.SecurityEmail, DPOName: r.DPOName, DPOTitle: r.DPOTitle, DPOEmail: r.DPOEmail, DPOPublic: r.DPOPublic,
		EURepresentative: r.EURepresentative, UKRepresentative: r.UKRepresentative,
		HostingRegions: r.HostingRegions, TransferMechanisms: r.TransferMechanisms,
		CCPAStatement: r.CCPAStatement, CCPAAddendumURL: r.CCPAAddendumURL, DataOwnership: r.DataOwnership, NeverSold: r.NeverSold,
		SecurityReport: r.SecurityReport, BountyReward: r.BountyReward, Approach: r.Approach, BestPractices: r.BestPractices}
	for _, g := range r.GDPRRoles {
		in.GDPRRoles = append(in.GDPRRoles, org.GDPRRoleInput(g))
	}
	for _, e := range r.LegalEntities {
		in.LegalEntities = append(in.LegalEntities, org.EntityInput(e))
	}
	for _, c := range r.Certifications {
		in.Certifications = append(in.Certifications, org.CertificationRow(c))
	}
	return in
}

func toOrganizationJSON(o *org.Organization) organizationJSON {
	in := org.InputOf(o)
	j := organizationJSON{Name: in.Name, Website: in.Website, StatusPageURL: in.StatusPageURL, PrivacyEmail: in.PrivacyEmail,
		SecurityEmail: in.SecurityEmail, DPOName: in.DPOName, DPOTitle: in.DPOTitle, DPOEmail: in.DPOEmail, DPOPublic: in.DPOPublic,
		EURepresentative: in.EURepresentative, UKRepresentative: in.UKRepresentative,
		HostingRegions: in.HostingRegions, TransferMechanisms: in.TransferMechanisms,
		CCPAStatement: in.CCPAStatement, CCPAAddendumURL: in.CCPAAddendumURL, DataOwnership: in.DataOwnership, NeverSold: in.NeverSold,
		SecurityReport: in.SecurityReport, BountyReward: in.BountyReward, Approach: in.Approach, BestPractices: in.BestPractices,
		GDPRRoles: []gdprRoleJSON{}}
	for _, g := range in.GDPRRoles {
		j.GDPRRoles = append(j.GDPRRoles, gdprRoleJSON(g))
	}
	for _, e := range in.LegalEntities {
		j.LegalEntities = append(j.LegalEntities, entityJSON(e))
	}
	for _, c := range in.Certifications {
		j.Certifications = append(j.Certifications, certificationJSON(c))
	}
	return j
}

func (h *orgHandlers) apiGetOrganization(c echo.Context) error {
	o, err := h.org.Get(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrganizationJSON(o))
}

func (h *orgHandlers) apiUpdateOrganization(c echo.Context) error {
	var req organizationRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	o, err := h.org.Update(c.Request().Context(), actor(c), req.toInput())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrganizationJSON(o))
}
