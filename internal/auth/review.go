package auth

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"gorm.io/gorm"
)

// AccessReview records that someone reviewed who has access.
type AccessReview struct {
	ID          int64     `json:"id"`
	ReviewedBy  string    `json:"reviewed_by"`
	ReviewerID  *int64    `json:"-"`
	ReviewedAt  time.Time `json:"reviewed_at"`
	Note        string    `json:"note"`
	UsersActive int       `json:"users_active"`
	TokensLive  int       `json:"tokens_live"`
}

// TableName is the reviews table.
func (AccessReview) TableName() string { return "access_reviews" }

// AccessRow is one account as the access review shows it.
type AccessRow struct {
	User
	Tokens []TokenInfo
	// SignIn says how the account signs in.
	SignIn string
	// MFA is the second factor's state.
	MFA string
}

// AccessReviewData is what a reviewer looks at.
type AccessReviewData struct {
	Rows    []AccessRow
	Reviews []AccessReview
}

// AccessReviewPage returns every account with its API tokens, and the
// reviews recorded so far, newest first.
func (s *Service) AccessReviewPage(ctx context.Context) (*AccessReviewData, error) {
	users, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	tokens, err := s.ListTokens(ctx, 0)
	if err != nil {
		return nil, err
	}
	byUser := map[string][]TokenInfo{}
	for _, t := range tokens {
		byUser[t.Email] = append(byUser[t.Email], t)
	}
	d := &AccessReviewData{}
	for _, u := range users {
		row := AccessRow{User: u, Tokens: byUser[u.Email], SignIn: "password or SSO", MFA: "off"}
		switch {
		case u.SSOOnly || s.NoPasswords:
			row.SignIn = "SSO only"
		}
		if u.HasMFA() {
			row.MFA = "TOTP since " + u.MFAEnabledAt.Format(time.DateOnly)
		}
		d.Rows = append(d.Rows, row)
	}
	return d, s.db.WithContext(ctx).Order("reviewed_at DESC, id DESC").Limit(50).Find(&d.Reviews).Error
}

// reviewNote is what the reviewer says they checked and changed.
type reviewNote struct {
	Note string `validate:"required,max=4000"`
}

// RecordAccessReview records a review with the reviewer's note and what
// was reviewed (active accounts and live tokens at that moment).
func (s *Service) RecordAccessReview(ctx context.Context, by audit.Actor, note string) (*AccessReview, error) {
	note = strings.TrimSpace(note)
	if s.check.Struct(reviewNote{Note: note}).Has("note") {
		return nil, apperr.Field("note", "say what you checked and changed (at most 4000 characters)")
	}
	var r AccessReview
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		var users, tokens int64
		if err := tx.Model(&User{}).Where("disabled_at IS NULL AND (access_until IS NULL OR access_until >= ?)", now.Truncate(24*time.Hour)).Count(&users).Error; err != nil {
			return err
		}
		if err := tx.Model(&APIToken{}).Where("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", now).Count(&tokens).Error; err != nil {
			return err
		}
		r = AccessReview{ReviewedBy: by.Label, ReviewedAt: now, Note: note, UsersActive: int(users), TokensLive: int(tokens)}
		if by.UserID != 0 {
			id := by.UserID
			r.ReviewerID = &id
		}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "access_review.recorded", ObjectType: "access_review", ObjectID: strconv.FormatInt(r.ID, 10), After: r})
	})
	return &r, err
}
