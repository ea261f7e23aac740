package server

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/files"

	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/questionnaire"
	"github.com/labstack/echo/v4"
)

// trustHandlers serve the public Security & Privacy pages, their feeds and
// security.txt.
type trustHandlers struct {
	*kit
	cfg        config.Config
	public     *publicCache
	org        *org.Service
	policies   *policy.Service
	privacy    *privacy.Service
	advisories *advisory.Service
	documents  *document.Service
	files      *files.Store
	// answers are the approved public questionnaire answers (/trust/answers).
	answers *questionnaire.Service
}

type trustPage struct {
	Org           *org.Organization
	Policies      []policy.Summary
	Subprocessors []privacy.Subprocessor
	Upcoming      []privacy.NoticeView
	Advisories    []advisory.Advisory // published and not resolved
	Documents     []document.Document // public and on request, in force
	PublicAnswers int                 // approved public questionnaire answers
	// Reports links each certification (by ID) to its report: a public
	// download or a request, as its document's access level says.
	Reports map[int64]*reportLink
	// Approach and BestPractices are the profile's Markdown sections.
	Approach, BestPractices template.HTML
	// LastUpdated is the newest change to what the page shows.
	LastUpdated time.Time
}

// reportLink is how a certification's report is had from /trust.
type reportLink struct {
	Href   string
	Public bool
	Title  string
}

// reportLinks finds each certification's document among those shared
// today; a certification whose document is internal, lapsed or missing
// gets no link.
func reportLinks(certs []org.Certification, shared []document.Document) map[int64]*reportLink {
	out := map[int64]*reportLink{}
	for _, c := range certs {
		for _, d := range shared {
			if c.DocumentSlug == "" || d.Slug != c.DocumentSlug {
				continue
			}
			if d.Access == document.Public {
				out[c.ID] = &reportLink{Href: "/trust/documents/" + url.PathEscape(d.Slug), Public: true, Title: d.Title}
			} else {
				out[c.ID] = &reportLink{Href: "/trust/request?document=" + url.QueryEscape(d.Slug), Title: d.Title}
			}
		}
	}
	return out
}

// newest is the newest of times (zero for none).
func newest(times ...time.Time) time.Time {
	var t time.Time
	for _, u := range times {
		if u.After(t) {
			t = u
		}
	}
	return t
}

// lastUpdated is when anything the trust page shows last changed.
func (p *trustPage) lastUpdated() time.Time {
	t := newest(p.Org.UpdatedAt)
	for _, s := range p.Policies {
		if s.Current != nil && s.Current.PublishedAt != nil {
			t = newest(t, *s.Current.PublishedAt)
		}
	}
	for _, s := range p.Subprocessors {
		t = newest(t, s.UpdatedAt)
	}
	for _, a := range p.Advisories {
		t = newest(t, a.UpdatedAt)
	}
	for _, d := range p.Documents {
		t = newest(t, d.UpdatedAt)
	}
	return t.UTC()
}

func (h *trustHandlers) trustHome(c echo.Context) error {
	return h.cached(c, echo.MIMETextHTMLCharsetUTF8, func(ctx context.Context) ([]byte, error) {
		o, err := h.org.Current(ctx)
		if err != nil {
			return nil, err
		}
		pols, err := h.policies.List(ctx, policy.ListOptions{})
		if err != nil {
			return nil, err
		}
		subs, err := h.privacy.Subprocessors(ctx, privacy.Active)
		if err != nil {
			return nil, err
		}
		upcoming, err := h.privacy.Notices(ctx, privacy.NoticeFilter{States: []string{privacy.Scheduled}})
		if err != nil {
			return nil, err
		}
		adv, err := h.publicAdvisories(ctx)
		if err != nil {
			return nil, err
		}
		docs, err := h.documents.Shared(ctx)
		if err != nil {
			return nil, err
		}
		answers, err := h.answers.List(ctx, questionnaire.Filter{Usable: true, Access: string(questionnaire.Public)})
		if err != nil {
			return nil, err
		}
		p := trustPage{Org: loaded(o), Policies: pols, Subprocessors: subs, Upcoming: upcoming, Advisories: adv.Current, Documents: docs,
			Reports: reportLinks(o.Certifications, docs), PublicAnswers: len(answers)}
		p.LastUpdated = p.lastUpdated()
		if p.Approach, err = h.renderMarkdown(o.Approach); err != nil {
			return nil, err
		}
		if p.BestPractices, err = h.renderMarkdown(o.BestPractices); err != nil {
			return nil, err
		}
		return h.renderPublicBytes("trust", "Security & Privacy", brandOf(o), "", p)
	})
}

type subprocessorsPage struct {
	Subprocessors []privacy.Subprocessor
	Upcoming      []privacy.NoticeView
	Recent        []privacy.NoticeView
}

func (h *trustHandlers) trustSubprocessors(c echo.Context) error {
	return h.cached(c, echo.MIMETextHTMLCharsetUTF8, func(ctx context.Context) ([]byte, error) {
		o, err := h.org.Current(ctx)
		if err != nil {
			return nil, err
		}
		p, err := h.subprocessorLists(ctx)
		if err != nil {
			return nil, err
		}
		return h.renderPublicBytes("trust_subprocessors", "Sub-processors", brandOf(o), "", p)
	})
}

func (h *trustHandlers) subprocessorLists(ctx context.Context) (*subprocessorsPage, error) {
	subs, err := h.privacy.Subprocessors(ctx, privacy.Active)
	if err != nil {
		return nil, err
	}
	upcoming, err := h.privacy.Notices(ctx, privacy.NoticeFilter{States: []string{privacy.Scheduled}})
	if err != nil {
		return nil, err
	}
	recent, err := h.privacy.Notices(ctx, privacy.NoticeFilter{States: []string{privacy.Applied}, NewestFirst: true, Limit: 50})
	return &subprocessorsPage{Subprocessors: subs, Upcoming: upcoming, Recent: recent}, err
}

// The JSON document of /trust/subprocessors.json; docs/trust-feeds.md
// describes it. Fields are only ever added.
type subprocessorsDoc struct {
	SchemaVersion int                  `json:"schema_version"`
	Organization  string               `json:"organization"`
	ListURL       string               `json:"list_url"`
	Subprocessors []publicSubprocessor `json:"subprocessors"`
	Upcoming      []publicChange       `json:"upcoming_changes"`
	Recent        []publicChange       `json:"recent_changes"`
}

type publicSubprocessor struct {
	Name                   string   `json:"name"`
	Purpose                string   `json:"purpose"`
	DataCategories         []string `json:"data_categories"`
	Countries              []string `json:"countries"`
	TransferMechanism      string   `json:"transfer_mechanism"`
	TransferMechanismLabel string   `json:"transfer_mechanism_label"`
	Website                string   `json:"website,omitempty"`
	ActiveSince            string   `json:"active_since,omitempty"`
}

type publicChange struct {
	ID           int64              `json:"id"`
	Change       string             `json:"change"`
	Subprocessor publicSubprocessor `json:"subprocessor"`
	Replaces     string             `json:"replaces,omitempty"`
	Summary      string             `json:"summary"`
	AnnouncedAt  time.Time          `json:"announced_at"`
	EffectiveOn  string             `json:"effective_on"`
	AppliedAt    *time.Time         `json:"applied_at,omitempty"`
}

func toPublic(p privacy.Subprocessor) publicSubprocessor {
	out := publicSubprocessor{Name: p.Name, Purpose: p.Purpose, DataCategories: p.Categories(), Countries: p.CountryCodes(),
		TransferMechanism: p.TransferMechanism, TransferMechanismLabel: privacy.MechanismLabel(p.TransferMechanism), Website: p.Website}
	if p.ActiveSince != nil {
		out.ActiveSince = p.ActiveSince.Format(time.DateOnly)
	}
	return out
}

func toPublicChange(n privacy.NoticeView) publicChange {
	out := publicChange{ID: n.ID, Change: n.Change, Subprocessor: toPublic(n.Subprocessor), Summary: n.Summary,
		AnnouncedAt: n.AnnouncedAt.UTC(), EffectiveOn: n.EffectiveOn.Format(time.DateOnly), AppliedAt: n.AppliedAt}
	if n.Replaces != nil {
		out.Replaces = n.Replaces.Name
	}
	return out
}

func (h *trustHandlers) trustSubprocessorsJSON(c echo.Context) error {
	return h.cached(c, echo.MIMEApplicationJSON, func(ctx context.Context) ([]byte, error) {
		o, err := h.org.Current(ctx)
		if err != nil {
			return nil, err
		}
		p, err := h.subprocessorLists(ctx)
		if err != nil {
			return nil, err
		}
		doc := subprocessorsDoc{SchemaVersion: 1, Organization: companyName(o), ListURL: h.absolute("/trust/subprocessors"),
			Subprocessors: []publicSubprocessor{}, Upcoming: []publicChange{}, Recent: []publicChange{}}
		for _, sp := range p.Subprocessors {
			doc.Subprocessors = append(doc.Subprocessors, toPublic(sp))
		}
		for _, n := range p.Upcoming {
			doc.Upcoming = append(doc.Upcoming, toPublicChange(n))
		}
		for _, n := range p.Recent {
			doc.Recent = append(doc.Recent, toPublicChange(n))
		}
		return json.MarshalIndent(doc, "", "  ")
	})
}

// Atom (RFC 4287) feed of sub-processor changes: one entry when a change
// is announced and one when it takes effect.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Summary string   `xml:"summary"`
}

func (h *trustHandlers) trustSubprocessorsAtom(c echo.Context) error {
	return h.cached(c, "application/atom+xml; charset=utf-8", func(ctx context.Context) ([]byte, error) {
		o, err := h.org.Current(ctx)
		if err != nil {
			return nil, err
		}
		notices, err := h.privacy.Notices(ctx, privacy.NoticeFilter{States: []string{privacy.Scheduled, privacy.Applied}, NewestFirst: true, Limit: 100})
		if err != nil {
			return nil, err
		}
		host := h.hostTag()
		page := h.absolute("/trust/subprocessors")
		feed := atomFeed{ID: h.absolute("/trust/subprocessors.atom"), Title: companyName(o) + " sub-processor changes",
			Links:  []atomLink{{Href: h.absolute("/trust/subprocessors.atom"), Rel: "self", Type: "application/atom+xml"}, {Href: page, Rel: "alternate", Type: "text/html"}},
			Author: atomAuthor{Name: companyName(o)}}
		var newest time.Time
		for _, n := range notices {
			if n.AppliedAt != nil {
				feed.Entries = append(feed.Entries, atomEntry{ID: fmt.Sprintf("tag:%s:subprocessor-notice:%d:applied", host, n.ID),
					Title: "In effect: " + changeTitle(n), Updated: n.AppliedAt.UTC().Format(time.RFC3339), Link: atomLink{Href: page},
					Summary: n.Summary + " This change took effect on " + n.EffectiveOn.Format(time.DateOnly) + "."})
				newest = later(newest, *n.AppliedAt)
			}
			feed.Entries = append(feed.Entries, atomEntry{ID: fmt.Sprintf("tag:%s:subprocessor-notice:%d:announced", host, n.ID),
				Title: "Announced: " + changeTitle(n) + " on " + n.EffectiveOn.Format(time.DateOnly), Updated: n.AnnouncedAt.UTC().Format(time.RFC3339),
				Link: atomLink{Href: page}, Summary: n.Summary})
			newest = later(newest, n.AnnouncedAt)
		}
		if newest.IsZero() && o.ID != 0 {
			newest = o.UpdatedAt
		}
		feed.Updated = newest.UTC().Format(time.RFC3339)
		return xmlDocument(feed)
	})
}

// xmlDocument encodes v as an XML document with its declaration.
func xmlDocument(v any) ([]byte, error) {
	out, err := xml.MarshalIndent(v, "", "  ")
	return append([]byte(xml.Header), out...), err
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func changeTitle(n privacy.NoticeView) string {
	switch n.Change {
	case privacy.Add:
		return n.Subprocessor.Name + " added"
	case privacy.Replace:
		if n.Replaces != nil {
			return n.Subprocessor.Name + " replaces " + n.Replaces.Name
		}
	}
	return n.Subprocessor.Name + " removed"
}

// absolute makes a link on the public base URL.
func (h *trustHandlers) absolute(path string) string {
	return strings.TrimRight(h.cfg.BaseURL, "/") + path
}

// hostTag is the authority of tag: URIs (RFC 4151) in feeds.
func (h *trustHandlers) hostTag() string {
	host := strings.TrimPrefix(strings.TrimPrefix(strings.TrimRight(h.cfg.BaseURL, "/"), "https://"), "http://")
	host, _, _ = strings.Cut(host, "/")
	host, _, _ = strings.Cut(host, ":")
	return host + ",2026"
}

// trustReport answers the address certifications' reports once had: it
// leads to the report's trust document, a download when the document is
// public and the request form when it is on request. Reports are kept in
// the trust documents register now, whose access level is the one place
// that says how a report is had.
func (h *trustHandlers) trustReport(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	cert, err := h.org.Certification(ctx, id)
	if err != nil {
		return err
	}
	shared, err := h.documents.Shared(ctx)
	if err != nil {
		return err
	}
	link, ok := reportLinks([]org.Certification{*cert}, shared)[cert.ID]
	if !ok {
		return apperr.New(apperr.NotFound, "this certification's report is not shared")
	}
	return c.Redirect(http.StatusFound, link.Href)
}

// trustLogo serves the company's logo. The pages link it with its hash in
// the query, so that address is cached for a year; any other is cached
// briefly.
func (h *trustHandlers) trustLogo(c echo.Context) error {
	o, err := h.org.Current(c.Request().Context())
	if err != nil {
		return err
	}
	if o.ID == 0 || o.LogoSHA256 == "" {
		return apperr.New(apperr.NotFound, "no logo has been uploaded")
	}
	hdr := c.Response().Header()
	etag := `"` + o.LogoSHA256 + `"`
	hdr.Set("ETag", etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if v := c.QueryParam("v"); v != "" && strings.HasPrefix(o.LogoSHA256, v) && len(v) >= 16 {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "public, max-age=300")
	}
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	f, err := h.files.Open(o.LogoSHA256)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.Stream(http.StatusOK, o.LogoType, f)
}

type advisoriesPublicPage struct {
	Org     *org.Organization
	Current []advisory.Advisory
	Past    []advisory.Advisory
}

func (h *trustHandlers) publicAdvisories(ctx context.Context) (*advisoriesPublicPage, error) {
	o, err := h.org.Current(ctx)
	if err != nil {
		return nil, err
	}
	list, err := h.advisories.List(ctx, advisory.Filter{PublishedOnly: true})
	if err != nil {
		return nil, err
	}
	p := &advisoriesPublicPage{Org: loaded(o)}
	for _, a := range list {
		if a.Current() {
			p.Current = append(p.Current, a)
		} else {
			p.Past = append(p.Past, a)
		}
	}
	return p, nil
}

func (h *trustHandlers) trustAdvisories(c echo.Context) error {
	return h.cached(c, echo.MIMETextHTMLCharsetUTF8, func(ctx context.Context) ([]byte, error) {
		p, err := h.publicAdvisories(ctx)
		if err != nil {
			return nil, err
		}
		return h.renderPublicBytes("trust_advisories", "Security advisories & CVEs", brandOf(p.Org), "", p)
	})
}

type advisoryPublicPage struct {
	Advisory    *advisory.Advisory
	Description template.HTML
	Resolution  template.HTML
}

func (h *trustHandlers) trustAdvisory(c echo.Context) error {
	id := c.Param("id")
	// One route for the page and its OSV document: echo's router cannot
	// split "{id}.json" from "{id}" within one path segment.
	if osvID, ok := strings.CutSuffix(id, ".json"); ok {
		return h.trustAdvisoryOSV(c, osvID)
	}
	return h.cached(c, echo.MIMETextHTMLCharsetUTF8, func(ctx context.Context) ([]byte, error) {
		a, err := h.advisories.Get(ctx, id, true)
		if err != nil {
			return nil, err
		}
		o, err := h.org.Current(ctx)
		if err != nil {
			return nil, err
		}
		p := advisoryPublicPage{Advisory: a}
		if p.Description, err = h.renderMarkdown(a.Description); err != nil {
			return nil, err
		}
		if p.Resolution, err = h.renderMarkdown(a.Resolution); err != nil {
			return nil, err
		}
		return h.renderPublicBytes("trust_advisory", a.Title, brandOf(o), "", p)
	})
}

// trustAdvisoryOSV serves one published advisory as an OSV document at
// /trust/advisories/{OSV id}.json, where OSV consumers look for it; the
// advisory's own ID (without x_) answers too. Drafts and unknown IDs are 404.
func (h *trustHandlers) trustAdvisoryOSV(c echo.Context, id string) error {
	return h.cached(c, echo.MIMEApplicationJSON, func(ctx context.Context) ([]byte, error) {
		a, err := h.advisories.Get(ctx, advisory.PublicIDOfOSV(id), true)
		if err != nil {
			return nil, err
		}
		return json.MarshalIndent(a.ToOSV(h.absolute("/trust/advisories/"+a.PublicID)), "", "  ")
	})
}

func (h *trustHandlers) trustAdvisoriesJSON(c echo.Context) error {
	return h.cached(c, echo.MIMEApplicationJSON, func(ctx context.Context) ([]byte, error) {
		list, err := h.advisories.List(ctx, advisory.Filter{PublishedOnly: true})
		if err != nil {
			return nil, err
		}
		out := []advisory.OSV{}
		for i := range list {
			out = append(out, list[i].ToOSV(h.absolute("/trust/advisories/"+list[i].PublicID)))
		}
		return json.MarshalIndent(out, "", "  ")
	})
}

func (h *trustHandlers) trustAdvisoriesAtom(c echo.Context) error {
	return h.cached(c, "application/atom+xml; charset=utf-8", func(ctx context.Context) ([]byte, error) {
		o, err := h.org.Current(ctx)
		if err != nil {
			return nil, err
		}
		list, err := h.advisories.List(ctx, advisory.Filter{PublishedOnly: true})
		if err != nil {
			return nil, err
		}
		page := h.absolute("/trust/advisories")
		feed := atomFeed{ID: h.absolute("/trust/advisories.atom"), Title: companyName(o) + " security advisories",
			Links:  []atomLink{{Href: h.absolute("/trust/advisories.atom"), Rel: "self", Type: "application/atom+xml"}, {Href: page, Rel: "alternate", Type: "text/html"}},
			Author: atomAuthor{Name: companyName(o)}}
		var newest time.Time
		for _, a := range list {
			cve := ""
			if a.CVE != nil {
				cve = " (" + *a.CVE + ")"
			}
			feed.Entries = append(feed.Entries, atomEntry{ID: fmt.Sprintf("tag:%s:advisory:%s", h.hostTag(), a.PublicID),
				Title: a.Title + cve + " — " + a.Severity + ", " + a.Status, Updated: a.UpdatedAt.UTC().Format(time.RFC3339),
				Link: atomLink{Href: h.absolute("/trust/advisories/" + a.PublicID)}, Summary: firstLine(a.Description)})
			newest = later(newest, a.UpdatedAt)
		}
		if newest.IsZero() && o.ID != 0 {
			newest = o.UpdatedAt
		}
		feed.Updated = newest.UTC().Format(time.RFC3339)
		return xmlDocument(feed)
	})
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

// securityTxt serves /.well-known/security.txt (RFC 9116) from the
// organization profile: where to report a vulnerability, in which
// language, under which policy, and until when the file is valid. Expires is always a year
// ahead (RFC 9116 recommends less than a year; it is regenerated on every
// request, so it never lapses while the profile is kept).
func (h *trustHandlers) securityTxt(c echo.Context) error {
	o, err := h.org.Current(c.Request().Context())
	if err != nil {
		return err
	}
	if o.ID == 0 || o.SecurityEmail == "" {
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
