package snapshot

import (
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

// callbackName names the hook in gorm's create chain.
const callbackName = "charter:promise_snapshot"

// Watch makes every audit event of a public change record a snapshot in
// the same transaction, right after the event is inserted: the change
// and its snapshot commit or roll back together, and a failure to
// snapshot fails the change.
func (s *Service) Watch(db *gorm.DB) error {
	create := db.Callback().Create()
	if create.Get(callbackName) != nil {
		return create.Replace(callbackName, s.afterCreate)
	}
	return create.After("gorm:create").Register(callbackName, s.afterCreate)
}

func (s *Service) afterCreate(db *gorm.DB) {
	if db.Error != nil || db.Statement.Table != (audit.Event{}).TableName() || !createdPublicChange(db.Statement.Dest) {
		return
	}
	tx := db.Session(&gorm.Session{NewDB: true})
	if _, err := s.Record(tx); err != nil {
		_ = db.AddError(err)
	}
}

// createdPublicChange reports whether the rows inserted hold an event of
// a public change.
func createdPublicChange(dest any) bool {
	switch v := dest.(type) {
	case *[]audit.Event:
		for _, e := range *v {
			if touchesPromises(e.Action) {
				return true
			}
		}
	case *audit.Event:
		return touchesPromises(v.Action)
	}
	return false
}
