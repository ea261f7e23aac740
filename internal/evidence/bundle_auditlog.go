package evidence

import "github.com/charter-registry/charter/internal/auditlog"

// SetAuditLog makes every bundle carry a checkpoint of the audit log made
// at export time, and inclusion proofs of the audit events it contains.
func (s *Service) SetAuditLog(l *auditlog.Log) { s.auditLog = l }
