package policy

import "github.com/charter-registry/charter/internal/apperr"

// Errors of the policy service.
var (
	ErrNotFound         = apperr.New(apperr.NotFound, "no such policy")
	ErrVersionNotFound  = apperr.New(apperr.NotFound, "no such policy version")
	ErrOpenVersion      = apperr.New(apperr.Conflict, "this policy already has a version in preparation; edit, approve or publish it first")
	ErrImmutable        = apperr.New(apperr.Conflict, "a published version cannot be changed; create a new version instead")
	ErrNotDraft         = apperr.New(apperr.Conflict, "only a draft can be approved")
	ErrNotApproved      = apperr.New(apperr.Conflict, "only an approved version can be published; approve it first")
	ErrSelfApproval     = apperr.New(apperr.Forbidden, "you cannot approve a version you drafted or edited; another user must approve it")
	ErrNotNamedApprover = apperr.New(apperr.Forbidden, "this draft names another approver; only they or an admin may approve it")
	ErrNoPublished      = apperr.New(apperr.Conflict, "the policy has no published version to review")
	ErrSystemNotAllowed = apperr.New(apperr.Forbidden, "approval needs a signed-in user")
)
