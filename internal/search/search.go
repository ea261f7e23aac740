// Package search finds records of every register by name, email or
// reference, for the dashboard's one search box. It reads the registers'
// tables and writes nothing.
package search

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Kind is the register a hit comes from.
type Kind string

// The kinds, in the order results are shown.
const (
	Employees            Kind = "employees"
	Policies             Kind = "policies"
	DPAs                 Kind = "dpas"
	Subprocessors        Kind = "subprocessors"
	PacketRequests       Kind = "packet_requests"
	PrivacyRequests      Kind = "privacy_requests"
	VulnerabilityReports Kind = "vulnerability_reports"
	Advisories           Kind = "advisories"
	Documents            Kind = "documents"
	Exceptions           Kind = "exceptions"
	Answers              Kind = "answers"
)

// PerKind bounds the hits of each kind; a group with more says so.
const PerKind = 10

// MaxQueryLength bounds the text searched for (longer text is cut).
const MaxQueryLength = 100

// Hit is one record found. Key identifies it in its register (an email,
// a slug, an ID or a reference), for the caller to link to.
type Hit struct {
	Key    string
	Title  string
	Detail string
}

// Group is the hits of one kind. More is true when there were more than
// PerKind.
type Group struct {
	Kind Kind
	Hits []Hit
	More bool
}

// source is how one kind is searched: the table, the columns matched, the
// columns shown, and the role that may open its records.
type source struct {
	kind    Kind
	need    auth.Role
	table   string
	key     string   // column (or expression) identifying the record
	title   string   // shown as the hit's title
	detail  string   // shown beside it
	match   []string // columns matched, case-insensitively
	orderBy string
}

// sources lists what is searched. Privacy requests and vulnerability
// reports hold personal data and unpublished flaws: their pages are for
// editors and admins, and so are their hits.
var sources = []source{
	{Employees, auth.Viewer, "employees", "email", "name", "email", []string{"name", "email"}, "name"},
	{Policies, auth.Viewer, "policies", "slug", "title", "owner_role", []string{"title", "slug"}, "title"},
	{DPAs, auth.Viewer, "dpas", "id", "counterparty", "direction || ' · ' || status", []string{"counterparty", "contact_email", "domain"}, "counterparty"},
	{Subprocessors, auth.Viewer, "subprocessors", "id", "name", "purpose", []string{"name"}, "name"},
	{PacketRequests, auth.Viewer, "packet_requests", "id", "company || ' · ' || name", "email || ' · ' || status", []string{"company", "name", "email"}, "created_at DESC"},
	{PrivacyRequests, auth.Editor, "privacy_requests", "reference", "reference", "requester_name || ' · ' || status", []string{"reference", "requester_name", "requester_email"}, "received_at DESC"},
	{VulnerabilityReports, auth.Editor, "vulnerability_reports", "reference", "reference || ' · ' || summary", "status", []string{"reference", "summary", "email"}, "created_at DESC"},
	{Advisories, auth.Viewer, "advisories", "public_id", "public_id || ' · ' || title", "COALESCE(cve, '')", []string{"public_id", "title", "cve"}, "advisory_date DESC"},
	{Documents, auth.Viewer, "trust_documents", "slug", "title", "kind", []string{"title", "slug"}, "title"},
	{Exceptions, auth.Viewer, "policy_exceptions", "id", "scope", "section || ' · ' || state", []string{"scope", "section"}, "requested_at DESC"},
	{Answers, auth.Viewer, "questionnaire_answers", "id", "question", "access || ' · ' || state", []string{"question", "answer"}, "question"},
}

// Service searches the registers.
type Service struct {
	db *gorm.DB
}

// NewService returns a Service reading db.
func NewService(db *gorm.DB) *Service { return &Service{db: db} }

// Find returns, for each kind the role may open, the records whose name,
// email or reference contains q, whatever its case; kinds with no hit are
// left out, and a blank q finds nothing. The characters % and _ match
// themselves.
func (s *Service) Find(ctx context.Context, role auth.Role, q string) ([]Group, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(q) > MaxQueryLength {
		q = string([]rune(q)[:MaxQueryLength])
	}
	like := "%" + store.EscapeLike(q) + "%"
	var groups []Group
	for _, src := range sources {
		if !role.Allows(src.need) {
			continue
		}
		g, err := s.find(ctx, src, like)
		if err != nil {
			return nil, err
		}
		if len(g.Hits) > 0 {
			groups = append(groups, g)
		}
	}
	return groups, nil
}

func (s *Service) find(ctx context.Context, src source, like string) (Group, error) {
	conds := make([]string, len(src.match))
	args := make([]any, len(src.match))
	for i, col := range src.match {
		// PostgreSQL's LIKE is case-sensitive: both sides are lowered.
		conds[i] = "LOWER(" + col + ") LIKE ? ESCAPE '\\'"
		args[i] = like
	}
	var rows []struct {
		Key    string `gorm:"column:hit_key"`
		Title  string `gorm:"column:hit_title"`
		Detail string `gorm:"column:hit_detail"`
	}
	err := s.db.WithContext(ctx).Table(src.table).
		Select("CAST("+src.key+" AS TEXT) AS hit_key, "+src.title+" AS hit_title, "+src.detail+" AS hit_detail").
		Where(strings.Join(conds, " OR "), args...).
		Order(src.orderBy).Limit(PerKind + 1).
		Scan(&rows).Error
	if err != nil {
		return Group{}, err
	}
	g := Group{Kind: src.kind, More: len(rows) > PerKind}
	for _, r := range rows[:min(len(rows), PerKind)] {
		g.Hits = append(g.Hits, Hit{Key: r.Key, Title: r.Title, Detail: r.Detail})
	}
	return g, nil
}
