package snapshot

import (
	"slices"
	"strings"

	"github.com/charter-registry/charter/internal/audit"
	"gorm.io/gorm"
)

// touchesPromises reports whether an audit action may change what the
// public pages promise: a change to the profile, a certification, a
// policy, the sub-processor list or its notices, the standard DPA, a trust document,
// an advisory or a questionnaire answer (the public ones are on /trust/answers). Every register change appends its audit event in its
// own transaction, so watching the trail is the one place that sees them
// all (the public page cache keys on the same trail). A snapshot's own
// event is not among them.
func touchesPromises(action string) bool {
	register, _, _ := strings.Cut(action, ".")
	switch register {
	case "organization", "certification", "policy", "subprocessor", "subprocessor_notice", "standard_dpa", "document", "advisory", "answer":
		return true
	}
	return false
}

// Watch makes every audit event of a public change record a snapshot in
// the same transaction, right after the event is inserted: the change
// and its snapshot commit or roll back together, and a failure to
// snapshot fails the change.
func (s *Service) Watch(db *gorm.DB) {
	audit.Watch(db, "promise snapshots", func(tx *gorm.DB, events []audit.Event) error {
		if !slices.ContainsFunc(events, func(e audit.Event) bool { return touchesPromises(e.Action) }) {
			return nil
		}
		// A fresh session of the transaction: the caller's may carry
		// conditions of its own.
		_, err := s.Record(tx.Session(&gorm.Session{NewDB: true}))
		return err
	})
}
