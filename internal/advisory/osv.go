package advisory

import (
	"strings"
	"time"
)

// OSV is an advisory in the Open Source Vulnerability format
// (https://ossf.github.io/osv-schema/, version 1.9.0). OSV's severity holds
// only scored vectors such as CVSS, so the seed's severity, the status,
// the affected products and regions and the timeline go in
// database_specific.
type OSV struct {
	SchemaVersion    string         `json:"schema_version"`
	ID               string         `json:"id"`
	Modified         string         `json:"modified"`
	Published        string         `json:"published,omitempty"`
	Aliases          []string       `json:"aliases,omitempty"`
	Summary          string         `json:"summary"`
	Details          string         `json:"details"`
	References       []OSVReference `json:"references,omitempty"`
	DatabaseSpecific map[string]any `json:"database_specific"`
}

// OSVReference is a link with its OSV type.
type OSVReference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// OSVSchemaVersion is the OSV schema this output follows: 1.8.0 added the
// x_ prefix that OSVID uses.
const OSVSchemaVersion = "1.9.0"

// OSVIDPrefix starts every OSV id. The schema accepts only the prefixes of
// the databases OSV.dev aggregates, plus x_ for "a local database that
// isn't aggregated by OSV.dev": a company's own advisories are that.
const OSVIDPrefix = "x_"

// OSVID is the advisory's OSV id: x_ and its ID, so that the ID on its
// page, in emails and in the Atom feed stays the one published.
func (a *Advisory) OSVID() string { return OSVIDPrefix + a.PublicID }

// PublicIDOfOSV is the advisory ID of an OSV id, or the ID itself when it
// has no x_ prefix.
func PublicIDOfOSV(id string) string { return strings.TrimPrefix(id, OSVIDPrefix) }

// osvTime is an OSV timestamp: RFC 3339 in UTC, with the fraction of a
// second that both databases keep (microseconds), so that two revisions
// within one second still move modified.
func osvTime(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano) }

// ToOSV converts a published advisory; page is its public URL. modified
// is the time of its latest revision (every edit and the publication set
// UpdatedAt), published the time it was made public.
func (a *Advisory) ToOSV(page string) OSV {
	o := OSV{SchemaVersion: OSVSchemaVersion, ID: a.OSVID(), Modified: osvTime(a.UpdatedAt), Summary: a.Title,
		Details: strings.TrimSpace(a.Description + "\n\n" + a.Resolution)}
	if a.PublishedAt != nil {
		o.Published = osvTime(*a.PublishedAt)
	}
	if a.CVE != nil {
		o.Aliases = []string{*a.CVE}
	}
	o.References = append(o.References, OSVReference{Type: "ADVISORY", URL: page})
	for _, l := range a.Links() {
		o.References = append(o.References, OSVReference{Type: "FIX", URL: l})
	}
	timeline := map[string]string{}
	for name, t := range map[string]*time.Time{"discovered": a.DiscoveredOn, "reported": a.ReportedOn, "fixed": a.FixedOn, "disclosed": a.DisclosedOn} {
		if t != nil {
			timeline[name] = t.Format(time.DateOnly)
		}
	}
	o.DatabaseSpecific = map[string]any{"advisory_id": a.PublicID, "severity": strings.ToUpper(a.Severity[:1]) + a.Severity[1:], "status": a.Status,
		"date": a.AdvisoryDate.Format(time.DateOnly), "affected_products": nonNil(a.Products()), "affected_regions": a.AffectedRegions, "timeline": timeline}
	return o
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
