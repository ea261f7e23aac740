package server

import (
	"net/http"
	"net/url"

	"github.com/charter-registry/charter/internal/search"
	"github.com/labstack/echo/v4"
)

// searchHandlers serve the dashboard's search box.
type searchHandlers struct {
	*kit
	search *search.Service
}

// searchKinds names each kind of hit and the dashboard page of its record.
var searchKinds = map[search.Kind]struct {
	Label string
	Page  string // the record's key is appended
}{
	search.Employees:            {"People", "/app/people/"},
	search.Policies:             {"Policies", "/app/policies/"},
	search.DPAs:                 {"DPAs", "/app/privacy/dpas/"},
	search.Subprocessors:        {"Sub-processors", "/app/privacy/subprocessors/"},
	search.PacketRequests:       {"Policy packet requests", "/app/packets/requests/"},
	search.PrivacyRequests:      {"Privacy requests", "/app/privacy-requests/"},
	search.VulnerabilityReports: {"Vulnerability reports", "/app/reports/"},
	search.Advisories:           {"Advisories", "/app/advisories/"},
	search.Documents:            {"Trust documents", "/app/documents/"},
	search.Exceptions:           {"Policy exceptions", "/app/exceptions/"},
	search.Answers:              {"Questionnaire answers", "/app/answers/"},
}

type searchPage struct {
	Query  string
	Groups []searchGroup
	// Limit is how many hits a group shows at most.
	Limit int
}

type searchGroup struct {
	Label string
	Hits  []searchHit
	More  bool
}

type searchHit struct {
	Href, Title, Detail string
}

// searchPage shows the records that match ?q=, grouped by kind; only the
// kinds the signed-in role may open are searched.
func (h *searchHandlers) searchPage(c echo.Context) error {
	q := c.QueryParam("q")
	groups, err := h.search.Find(c.Request().Context(), currentUser(c).Role, q)
	if err != nil {
		return err
	}
	page := searchPage{Query: q, Limit: search.PerKind}
	for _, g := range groups {
		kind := searchKinds[g.Kind]
		sg := searchGroup{Label: kind.Label, More: g.More}
		for _, hit := range g.Hits {
			sg.Hits = append(sg.Hits, searchHit{Href: kind.Page + url.PathEscape(hit.Key), Title: hit.Title, Detail: hit.Detail})
		}
		page.Groups = append(page.Groups, sg)
	}
	return h.render(c, http.StatusOK, "search", "Search", page)
}
