package auth

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/alexedwards/scs/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Session data keys: the signed-in user, when they signed in and were
// last seen (Unix nanoseconds, on the server's clock), and the address and
// browser they signed in from, which their sessions page shows.
const (
	SessionUserKey     = "user_id"
	SessionSignedInKey = "signed_in_at"
	SessionSeenKey     = "seen_at"
	SessionIPKey       = "ip"
	SessionAgentKey    = "user_agent"
)

// sessionRow is a dashboard session. The token is stored only as its
// SHA-256; user_id is copied out of the data so that all of a user's
// sessions can be ended at once.
type sessionRow struct {
	TokenHash string `gorm:"primaryKey"`
	Data      []byte
	Expiry    time.Time
	UserID    *int64
}

func (sessionRow) TableName() string { return "sessions" }

// SessionStore is an scs.Store on the application database, for SQLite and
// PostgreSQL alike.
type SessionStore struct {
	db    *gorm.DB
	now   func() time.Time
	codec scs.Codec
}

// NewSessionStore returns a store using codec to read the user ID.
func NewSessionStore(db *gorm.DB, now func() time.Time, codec scs.Codec) *SessionStore {
	return &SessionStore{db: db, now: now, codec: codec}
}

// Find implements scs.Store.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// FindCtx implements scs.CtxStore. An expired session is not found.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row sessionRow
	err := s.db.WithContext(ctx).Where("token_hash = ?", HashToken(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	if !s.now().Before(row.Expiry) {
		return nil, false, nil
	}
	return row.Data, true, nil
}

// Commit implements scs.Store.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// CommitCtx implements scs.CtxStore.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := sessionRow{TokenHash: HashToken(token), Data: b, Expiry: expiry.UTC().Truncate(time.Microsecond)}
	if _, values, err := s.codec.Decode(b); err == nil {
		if id, ok := values[SessionUserKey].(int64); ok {
			row.UserID = &id
		}
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token_hash"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry", "user_id"}),
	}).Create(&row).Error
}

// Delete implements scs.Store.
func (s *SessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// DeleteCtx implements scs.CtxStore.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.db.WithContext(ctx).Where("token_hash = ?", HashToken(token)).Delete(&sessionRow{}).Error
}

// DeleteExpired removes sessions past their expiry.
func (s *SessionStore) DeleteExpired(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expiry <= ?", s.now().UTC()).Delete(&sessionRow{})
	return res.RowsAffected, res.Error
}

// SessionInfo describes one of a user's dashboard sessions.
type SessionInfo struct {
	ID         string // the SHA-256 of the token: names the session, cannot be used as it
	SignedInAt time.Time
	SeenAt     time.Time
	IP         string
	UserAgent  string
	Expiry     time.Time
	Current    bool
}

// UserSessions lists a user's live sessions, most recently seen first;
// currentToken marks the caller's own.
func (s *SessionStore) UserSessions(ctx context.Context, userID int64, currentToken string) ([]SessionInfo, error) {
	var rows []sessionRow
	if err := s.db.WithContext(ctx).Where("user_id = ? AND expiry > ?", userID, s.now().UTC()).Find(&rows).Error; err != nil {
		return nil, err
	}
	current := HashToken(currentToken)
	out := make([]SessionInfo, 0, len(rows))
	for _, r := range rows {
		info := SessionInfo{ID: r.TokenHash, Expiry: r.Expiry, Current: r.TokenHash == current}
		if _, values, err := s.codec.Decode(r.Data); err == nil {
			if v, ok := values[SessionSignedInKey].(int64); ok {
				info.SignedInAt = time.Unix(0, v).UTC()
			}
			if v, ok := values[SessionSeenKey].(int64); ok {
				info.SeenAt = time.Unix(0, v).UTC()
			}
			info.IP, _ = values[SessionIPKey].(string)
			info.UserAgent, _ = values[SessionAgentKey].(string)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SeenAt.After(out[j].SeenAt) })
	return out, nil
}
