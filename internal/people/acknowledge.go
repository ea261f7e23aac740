package people

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"gorm.io/gorm"
)

// Acknowledgement methods.
const (
	MethodLink   = "link"
	MethodImport = "import"
	MethodAPI    = "api"
)

// Errors of acknowledging.
var (
	ErrPolicyNotPublished = apperr.New(apperr.NotFound, "no such policy, or it has no published version")
	ErrOffboarded         = apperr.New(apperr.Conflict, "the employee is offboarded")
)

// currentVersion is the published version of a policy, without its text.
type currentVersion struct {
	ID       int64
	PolicyID int64
	Major    int
	Minor    int
	SHA256   string `gorm:"column:sha256"`
}

// Acknowledge records that the employee acknowledged the currently
// published version of the policy, by the given method; from carries the
// IP and user agent. Acknowledging a version already acknowledged returns
// the existing record and writes nothing. Errors: ErrEmployeeNotFound,
// ErrPolicyNotPublished, ErrOffboarded.
func (s *Service) Acknowledge(ctx context.Context, by audit.Actor, email, slug, method string) (*Acknowledgement, error) {
	if strings.TrimSpace(slug) == "" {
		return nil, apperr.Field("policy", "is required")
	}
	var ack *Acknowledgement
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		e, err := byEmail(tx, email)
		if err != nil {
			return err
		}
		if !e.ActiveOn(s.today()) {
			return ErrOffboarded
		}
		if ack, err = s.record(tx, by, e, slug, method); err != nil {
			return err
		}
		return s.refresh(tx, e.ID)
	})
	return ack, err
}

// record stores, in tx, e's acknowledgement of the published version of
// the policy, unless it exists already, with its audit event.
func (s *Service) record(tx *gorm.DB, by audit.Actor, e *Employee, slug, method string) (*Acknowledgement, error) {
	var v currentVersion
	err := tx.Table("policy_versions v").Select("v.id, v.policy_id, v.major, v.minor, v.sha256").
		Joins("JOIN policies p ON p.id = v.policy_id").
		Where("p.slug = ? AND v.status = 'published'", slug).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrPolicyNotPublished
	} else if err != nil {
		return nil, err
	}
	var ack Acknowledgement
	err = tx.Where("employee_id = ? AND version_id = ?", e.ID, v.ID).Take(&ack).Error
	if err == nil {
		return &ack, nil
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	now := s.clock()
	ack = Acknowledgement{EmployeeID: e.ID, PolicyID: v.PolicyID, VersionID: v.ID, Major: v.Major, Minor: v.Minor,
		SHA256: v.SHA256, AcknowledgedAt: now, Method: method, ClientIP: by.IP, UserAgent: by.UserAgent, CreatedAt: now}
	if err := tx.Create(&ack).Error; err != nil {
		return nil, err
	}
	return &ack, audit.Append(tx, by, audit.Entry{At: now, Action: "acknowledgement.recorded", ObjectType: "employee", ObjectID: e.Email,
		After: map[string]any{"policy": slug, "version": strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor),
			"sha256": v.SHA256, "method": method}})
}
