// Package policy keeps the registry of SOC 2 policies: each policy's
// metadata, its versions (draft → approved → published, published text
// immutable and hashed), and its periodic reviews.
package policy

import (
	"fmt"
	"strings"
	"time"
)

// Status is where a version stands.
type Status string

// The states of a version. A published version becomes superseded when a
// newer one is published.
const (
	StatusDraft      Status = "draft"
	StatusApproved   Status = "approved"
	StatusPublished  Status = "published"
	StatusSuperseded Status = "superseded"
)

// Policy is one named policy.
type Policy struct {
	ID                   int64
	Slug                 string
	Title                string
	OwnerRole            string
	ReviewIntervalMonths int
	TSCRefs              string `gorm:"column:tsc_refs"` // comma-separated criteria, e.g. "CC1.1,CC2.2"
	NextReviewAt         *time.Time
	LastReviewedAt       *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Criteria returns the SOC 2 Trust Services Criteria the policy addresses.
func (p *Policy) Criteria() []string {
	if p.TSCRefs == "" {
		return nil
	}
	return strings.Split(p.TSCRefs, ",")
}

// Version is one version of a policy's text.
type Version struct {
	ID            int64
	PolicyID      int64
	Major         int
	Minor         int
	Status        Status
	Material      bool // a material change: every employee must acknowledge again
	ChangeSummary string
	Body          string
	SHA256        string `gorm:"column:sha256"`
	AuthorID      *int64
	Author        string
	EditedByID    *int64
	ApprovedByID  *int64
	ApprovedBy    string
	ApprovedAt    *time.Time
	PublishedByID *int64
	PublishedBy   string
	PublishedAt   *time.Time
	SupersededAt  *time.Time
	// ApproverID and Approver name who is asked to approve a draft; nil
	// when any other editor or admin may.
	ApproverID  *int64
	Approver    string
	SubmittedAt *time.Time // when the draft was last submitted for approval
	RemindedAt  *time.Time // the last approval reminder
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName is the table of versions.
func (Version) TableName() string { return "policy_versions" }

// Number is the version as people write it, such as "1.0".
func (v *Version) Number() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Open reports whether the version is still being prepared.
func (v *Version) Open() bool { return v.Status == StatusDraft || v.Status == StatusApproved }

// Review records that a policy was reviewed and left unchanged.
type Review struct {
	ID           int64
	PolicyID     int64
	VersionID    int64
	ReviewedByID *int64
	ReviewedBy   string
	ReviewedAt   time.Time
	Note         string
	NextReviewAt time.Time
}

// TableName is the table of reviews.
func (Review) TableName() string { return "policy_reviews" }

// ReviewState says whether a policy's periodic review is on time.
type ReviewState string

// The review states. A review is due within DueSoonWindow of its date.
const (
	ReviewCurrent ReviewState = "current"
	ReviewDue     ReviewState = "due"
	ReviewOverdue ReviewState = "overdue"
)

// DueSoonWindow is how early a review shows as due.
const DueSoonWindow = 30 * 24 * time.Hour

// ReviewStateAt returns the review state of p at now.
func (p *Policy) ReviewStateAt(now time.Time) ReviewState {
	switch {
	case p.NextReviewAt == nil:
		return ReviewCurrent
	case now.After(*p.NextReviewAt):
		return ReviewOverdue
	case now.Add(DueSoonWindow).After(*p.NextReviewAt):
		return ReviewDue
	}
	return ReviewCurrent
}

// ParseNumber parses "MAJOR.MINOR".
func ParseNumber(s string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(a+" "+b, "%d %d", &major, &minor); err != nil || major < 0 || minor < 0 {
		return 0, 0, false
	}
	if fmt.Sprintf("%d.%d", major, minor) != s {
		return 0, 0, false
	}
	return major, minor, true
}
