package sharelink_test

import (
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

func TestLinksExpireAreReplacedAndRevoked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
		issue := func(subject int64, ttl time.Duration) string {
			var token string
			err := st.DB.Transaction(func(tx *gorm.DB) error {
				var err error
				token, _, err = sharelink.Issue(tx, now, "test", subject, ttl)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return token
		}
		a := issue(1, time.Hour)
		if len(a) != 43 {
			t.Fatalf("token %q is not 256 bits in base64url", a)
		}
		var stored int64
		st.DB.Model(&sharelink.Link{}).Where("token_hash = ?", sharelink.Hash(a)).Count(&stored)
		if stored != 1 {
			t.Fatal("the hash of the token is not what is stored")
		}
		if l, err := sharelink.Resolve(st.DB, now, "test", a); err != nil || l.SubjectID != 1 {
			t.Fatalf("resolve: %+v %v", l, err)
		}
		if _, err := sharelink.Resolve(st.DB, now, "other-purpose", a); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another purpose: %v", err)
		}
		if _, err := sharelink.Resolve(st.DB, now.Add(time.Hour), "test", a); !apperr.Is(err, apperr.Gone) {
			t.Fatalf("at expiry: %v", err)
		}
		b := issue(1, time.Hour) // replaces a
		if _, err := sharelink.Resolve(st.DB, now, "test", a); !apperr.Is(err, apperr.Gone) {
			t.Fatalf("replaced: %v", err)
		}
		other := issue(2, time.Hour)
		if err := sharelink.Revoke(st.DB, now, "test", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := sharelink.Resolve(st.DB, now, "test", b); !apperr.Is(err, apperr.Gone) {
			t.Fatalf("revoked: %v", err)
		}
		if _, err := sharelink.Resolve(st.DB, now, "test", other); err != nil {
			t.Fatalf("another subject's link was revoked: %v", err)
		}
		for _, junk := range []string{"", "short", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", a + "x"} {
			if _, err := sharelink.Resolve(st.DB, now, "test", junk); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("junk %q: %v", junk, err)
			}
		}
		err := st.DB.Transaction(func(tx *gorm.DB) error {
			_, _, err := sharelink.Issue(tx, now, "test", 3, 91*24*time.Hour)
			return err
		})
		if !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a link longer than 90 days: %v", err)
		}
	})
}
