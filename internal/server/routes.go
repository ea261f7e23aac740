package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/web"
	"github.com/labstack/echo/v4"
)

// Rule is the access a route requires: Public, or a role.
type Rule struct {
	Public bool
	Role   auth.Role
}

// Public is the rule of routes anyone may reach.
var public = Rule{Public: true}

func need(r auth.Role) Rule { return Rule{Role: r} }

// add registers a route with its access rule; a route cannot be added
// without one, and the rule is enforced by the middleware it implies.
func (s *Server) add(g *echo.Group, kind routeKind, method, path string, h echo.HandlerFunc, rule Rule) {
	var mw []echo.MiddlewareFunc
	if !rule.Public {
		if kind == apiRoute {
			mw = append(mw, s.requireToken(rule.Role))
		} else {
			mw = append(mw, s.requireSession(rule.Role))
		}
	}
	r := g.Add(method, path, h, mw...)
	s.rules[r.Method+" "+r.Path] = rule
}

type routeKind int

const (
	pageRoute routeKind = iota
	apiRoute
)

// routes lists every route with the role it needs (DESIGN.md, roles).
func (s *Server) routes() {
	e := s.e
	root := e.Group("")
	s.add(root, pageRoute, http.MethodGet, "/healthz", s.h.ops.healthz, public)
	s.add(root, pageRoute, http.MethodGet, "/readyz", s.h.ops.readyz, public)
	if s.cfg.MetricsAddr == "" {
		// Public to the router; the bearer token, when set, is checked by
		// the handler itself, which also serves the separate address.
		s.add(root, pageRoute, http.MethodGet, "/metrics", echo.WrapHandler(s.metrics), public)
	}
	s.add(root, pageRoute, http.MethodGet, "/.well-known/security.txt", s.h.trust.securityTxt, public)
	s.add(root, pageRoute, http.MethodGet, "/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(web.Static()))), public)
	s.add(root, pageRoute, http.MethodGet, "/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/app/") }, public)

	// Browser routes: session cookie and CSRF token.
	web := e.Group("", s.sessionMiddleware, s.csrfMiddleware())
	s.add(web, pageRoute, http.MethodGet, "/login", s.h.auth.loginForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login", s.h.auth.login, public)
	s.add(web, pageRoute, http.MethodPost, "/logout", s.h.auth.logout, public)
	s.add(web, pageRoute, http.MethodGet, "/login/sso", s.h.auth.ssoStart, public)
	s.add(web, pageRoute, http.MethodGet, "/login/sso/callback", s.h.auth.ssoCallback, public)
	s.add(web, pageRoute, http.MethodGet, "/login/mfa", s.h.auth.mfaLoginForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/mfa", s.h.auth.mfaLogin, public)
	// Forgotten passwords: the form is a public form (CSRF, rate limit);
	// the emailed link carries its credential, and its form a CSRF token.
	s.add(web, pageRoute, http.MethodGet, "/login/forgot", s.h.auth.forgotPasswordForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/forgot", s.h.auth.forgotPassword, public)
	s.add(web, pageRoute, http.MethodGet, "/login/reset/:token", s.h.auth.resetPasswordForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/reset/:token", s.h.auth.resetPassword, public)

	// Share links: the token in the path is the credential, so these need
	// neither a session nor a CSRF token (a forger would need the token).
	s.add(root, pageRoute, http.MethodGet, "/ack/:token", s.h.people.ackPage, public)
	s.add(root, pageRoute, http.MethodPost, "/ack/:token", s.h.people.acknowledgeByLink, public)

	// The public Security & Privacy pages. Forms that a page carries use
	// the CSRF cookie; links from emails carry their credential.
	s.add(root, pageRoute, http.MethodGet, "/trust", s.h.trust.trustHome, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors", s.h.trust.trustSubprocessors, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors.json", s.h.trust.trustSubprocessorsJSON, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors.atom", s.h.trust.trustSubprocessorsAtom, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/certifications/:id/report", s.h.trust.trustReport, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories", s.h.trust.trustAdvisories, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories.json", s.h.trust.trustAdvisoriesJSON, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories.atom", s.h.trust.trustAdvisoriesAtom, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories/:id", s.h.trust.trustAdvisory, public)
	forms := e.Group("", s.csrfMiddleware())
	s.add(forms, pageRoute, http.MethodGet, "/trust/subscribe", s.h.privacy.subscribeForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/subscribe", s.h.privacy.subscribe, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/dpa", s.h.privacy.dpaRequestForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/dpa", s.h.privacy.requestDPA, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subscribe/confirm/:token", s.h.privacy.confirmSubscriptionPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/subscribe/confirm/:token", s.h.privacy.confirmSubscription, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/unsubscribe/:token", s.h.privacy.unsubscribePage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/unsubscribe/:token", s.h.privacy.unsubscribe, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/objections/:token", s.h.privacy.objectionForm, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/objections/:token", s.h.privacy.object, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/request", s.h.packets.requestForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/request", s.h.packets.submitRequest, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/request/confirm/:token", s.h.packets.confirmRequestPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/request/confirm/:token", s.h.packets.confirmRequest, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/security", s.h.advisories.reportForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/security", s.h.advisories.submitReport, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/privacy-request", s.h.dsar.dsarForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/privacy-request", s.h.dsar.submitDSAR, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/privacy-request/confirm/:token", s.h.dsar.dsarConfirmPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/privacy-request/confirm/:token", s.h.dsar.dsarConfirm, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/verify", s.h.packets.verifyForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/verify", s.h.packets.verify, public)
	// Policy packets: the link is the credential (SECURITY.md, share links).
	s.add(root, pageRoute, http.MethodGet, "/p/:token", s.h.packets.packetLinkPage, public)
	s.add(root, pageRoute, http.MethodPost, "/p/:token/nda", s.h.packets.acceptPacketNDA, public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/packet.pdf", s.h.packets.packetDownload(packet.PacketFileName), public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/policies/:file", s.h.packets.packetDownload(""), public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/manifest.json", s.h.packets.packetManifest, public)

	app := web.Group("/app")
	s.add(app, pageRoute, http.MethodGet, "/", s.h.overview.overviewPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies", s.h.policies.policiesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug", s.h.policies.policyPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/diff", s.h.policies.diffPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/new", s.h.policies.newVersionForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions", s.h.policies.createVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/:version", s.h.policies.versionPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/:version/edit", s.h.policies.editVersionForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/edit", s.h.policies.updateVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/approve", s.h.policies.approveVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/publish", s.h.policies.publishVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/reviews", s.h.policies.recordReview, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/audit", s.h.exports.auditPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/organization", s.h.org.organizationPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/organization/edit", s.h.org.editOrganizationForm, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/organization/edit", s.h.org.saveOrganization, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/organization/certifications/:id/report", s.h.org.uploadCertificationReport, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/organization/certifications/:id/report", s.h.org.certificationReport, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas", s.h.privacy.dpasPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/new", s.h.privacy.newDPAForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas", s.h.privacy.saveDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id", s.h.privacy.dpaPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id/edit", s.h.privacy.editDPAForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/edit", s.h.privacy.saveDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/status", s.h.privacy.setDPAStatus, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/file", s.h.privacy.uploadDPAFile, need(auth.Editor))
	// Signed contracts are confidential: auditors and above.
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id/file", s.h.privacy.dpaFile, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors", s.h.privacy.subprocessorsAdminPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors/new", s.h.privacy.newSubprocessorForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/subprocessors", s.h.privacy.saveSubprocessor, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors/:id", s.h.privacy.subprocessorPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/privacy/subprocessors/:id/edit", s.h.privacy.saveSubprocessor, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/notices", s.h.privacy.announceChange, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/notices/:id", s.h.privacy.noticePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/privacy/notices/:id/withdraw", s.h.privacy.withdrawNotice, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/packets", s.h.packets.packetsPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/packets/nda", s.h.packets.ndaPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/nda", s.h.packets.publishNDA, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/packets/requests/:id", s.h.packets.packetRequestPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/requests/:id/approve", s.h.packets.approveRequest, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/packets/requests/:id/deny", s.h.packets.denyRequest, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/packets/:pid", s.h.packets.packetPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/:pid/revoke", s.h.packets.revokePacket, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/advisories", s.h.advisories.advisoriesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/advisories/new", s.h.advisories.newAdvisoryForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/advisories", s.h.advisories.saveAdvisory, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/advisories/:id", s.h.advisories.advisoryPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/advisories/:id", s.h.advisories.saveAdvisory, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/advisories/:id/publish", s.h.advisories.publishAdvisory, need(auth.Editor))
	// Reports hold unpublished vulnerabilities: editors and admins only.
	s.add(app, pageRoute, http.MethodGet, "/reports", s.h.advisories.reportsPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/reports/:ref", s.h.advisories.reportPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/reports/:ref", s.h.advisories.updateReport, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/incidents", s.h.advisories.declareIncident, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/incidents/:id", s.h.advisories.updateIncident, need(auth.Editor))
	// Privacy requests hold personal data: editors and admins handle them;
	// the yearly figures are for auditors too.
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests", s.h.dsar.dsarList, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests", s.h.dsar.createDSAR, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/metrics", s.h.dsar.dsarMetrics, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/metrics.csv", s.h.dsar.dsarMetricsCSV, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/:ref", s.h.dsar.dsarPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests/:ref", s.h.dsar.actOnDSAR, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests/:ref/response", s.h.dsar.dsarResponseUpload, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/:ref/response", s.h.dsar.dsarResponse, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/exports", s.h.exports.exportsPage, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/exports/:file", s.h.exports.exportCSV, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/people", s.h.people.peoplePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/people/new", s.h.people.newEmployeeForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people", s.h.people.saveEmployee, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/people/import", s.h.people.importForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import", s.h.people.importEmployees, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import/acknowledgements", s.h.people.importAcknowledgements, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import/training", s.h.people.importTraining, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/training", s.h.people.coursesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/training", s.h.people.createCourse, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/people/:email", s.h.people.employeePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/people/:email/edit", s.h.people.editEmployeeForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/edit", s.h.people.saveEmployee, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/ack-link", s.h.people.sendAckLink, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/background-check", s.h.people.setBackgroundCheck, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/training", s.h.people.recordTraining, need(auth.Editor))
	// Certificates are personal records: auditors and above.
	s.add(app, pageRoute, http.MethodGet, "/people/:email/training/:id/certificate", s.h.people.trainingCertificate, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodPost, "/people/ack-links", s.h.people.sendAllAckLinks, need(auth.Editor))
	// The outbox holds live links: editors and admins only.
	s.add(app, pageRoute, http.MethodGet, "/outbox", s.h.ops.outboxPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/account", s.h.auth.accountPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/account/password", s.h.auth.changePasswordForm, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/password", s.h.auth.changePassword, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/sessions/:id/end", s.h.auth.endSession, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/account/mfa", s.h.auth.mfaSetupForm, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/mfa", s.h.auth.mfaSetup, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/mfa/disable", s.h.auth.mfaDisable, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/access-review", s.h.users.accessReviewPage, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodPost, "/access-review", s.h.users.recordAccessReview, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/users", s.h.users.usersPage, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users", s.h.users.createUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/role", s.h.users.changeRole, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/disable", s.h.users.disableUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/access-until", s.h.users.setAccessUntil, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/end-sessions", s.h.users.endUserSessions, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/sso-only", s.h.users.setSSOOnly, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/reset-password", s.h.users.resetUserPassword, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/reset-mfa", s.h.users.resetUserMFA, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/unlock", s.h.users.unlockUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/tokens", s.h.users.createToken, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/tokens/:id/revoke", s.h.users.revokeToken, need(auth.Admin))

	api := e.Group("/api/v1")
	s.add(api, apiRoute, http.MethodGet, "/policies", s.h.policies.apiListPolicies, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug", s.h.policies.apiGetPolicy, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug/versions", s.h.policies.apiListVersions, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions", s.h.policies.apiCreateVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug/versions/:version", s.h.policies.apiGetVersion, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/policies/:slug/versions/:version", s.h.policies.apiUpdateVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions/:version/approve", s.h.policies.apiApproveVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions/:version/publish", s.h.policies.apiPublishVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/reviews", s.h.policies.apiRecordReview, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/audit-events", s.h.exports.apiListAudit, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/employees", s.h.people.apiListEmployees, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/employees", s.h.people.apiCreateEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/employees/:email", s.h.people.apiGetEmployee, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPatch, "/employees/:email", s.h.people.apiUpdateEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/employees/:email", s.h.people.apiUpsertEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/employees/:email/acknowledgements", s.h.people.apiAcknowledge, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/employees/:email/background-check", s.h.people.apiSetBackgroundCheck, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/employees/:email/training", s.h.people.apiRecordTraining, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/organization", s.h.org.apiGetOrganization, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/organization", s.h.org.apiUpdateOrganization, need(auth.Admin))
	s.add(api, apiRoute, http.MethodGet, "/dpas", s.h.privacy.apiListDPAs, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/dpas", s.h.privacy.apiCreateDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/dpas/:id", s.h.privacy.apiGetDPA, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/dpas/:id", s.h.privacy.apiUpdateDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/dpas/:id/status", s.h.privacy.apiSetDPAStatus, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/dpas/:id/file", s.h.privacy.apiUploadDPAFile, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/dpas/:id/file", s.h.privacy.dpaFile, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessors", s.h.privacy.apiListSubprocessors, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessors", s.h.privacy.apiCreateSubprocessor, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessors/:id", s.h.privacy.apiGetSubprocessor, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/subprocessors/:id", s.h.privacy.apiUpdateSubprocessor, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessor-notices", s.h.privacy.apiListNotices, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessor-notices", s.h.privacy.apiAnnounce, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessor-notices/:id", s.h.privacy.apiGetNotice, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessor-notices/:id/withdraw", s.h.privacy.apiWithdrawNotice, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/packet-requests", s.h.packets.apiListPacketRequests, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/packet-requests/:id", s.h.packets.apiGetPacketRequest, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/packet-requests/:id/approve", s.h.packets.apiApproveRequest, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/packet-requests/:id/deny", s.h.packets.apiDenyRequest, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/packets", s.h.packets.apiListPackets, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/packets/:pid", s.h.packets.apiGetPacket, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/packets/:pid/revoke", s.h.packets.apiRevokePacket, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/exports/:file", s.h.exports.exportCSV, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/advisories", s.h.advisories.apiListAdvisories, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/advisories", s.h.advisories.apiCreateAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/advisories/:id", s.h.advisories.apiGetAdvisory, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/advisories/:id", s.h.advisories.apiUpdateAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/advisories/:id/publish", s.h.advisories.apiPublishAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/vulnerability-reports", s.h.advisories.apiListReports, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/vulnerability-reports/:ref", s.h.advisories.apiGetReport, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/vulnerability-reports/:ref", s.h.advisories.apiUpdateReport, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests", s.h.dsar.apiListDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/privacy-requests", s.h.dsar.apiCreateDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests/metrics", s.h.dsar.apiDSARMetrics, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests/:ref", s.h.dsar.apiGetDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/privacy-requests/:ref/actions", s.h.dsar.apiActOnDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/incidents", s.h.advisories.apiListIncidents, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/incidents", s.h.advisories.apiDeclareIncident, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/incidents/:id", s.h.advisories.apiUpdateIncident, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/courses", s.h.people.apiListCourses, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/courses", s.h.people.apiCreateCourse, need(auth.Editor))
}

// BEGIN handlers
// handlers are the areas' handler values; each holds the kit and only the
// services of its area.
type handlers struct {
	auth       *authHandlers
	users      *userHandlers
	overview   *overviewHandlers
	policies   *policyHandlers
	people     *peopleHandlers
	org        *orgHandlers
	privacy    *privacyHandlers
	trust      *trustHandlers
	packets    *packetHandlers
	advisories *advisoryHandlers
	dsar       *dsarHandlers
	exports    *exportHandlers
	ops        *opsHandlers
}

func newHandlers(k *kit, a *app.App, o Options) handlers {
	return handlers{
		auth:       &authHandlers{kit: k, cfg: a.Config, users: a.Users, sessionStore: a.Sessions, sso: a.SSO, ssoConfig: a.SSOConfig, org: a.Org},
		users:      &userHandlers{kit: k, users: a.Users},
		overview:   &overviewHandlers{kit: k, policies: a.Policies, people: a.People, privacy: a.Privacy, packets: a.Packets, dsar: a.DSAR},
		policies:   &policyHandlers{kit: k, policies: a.Policies},
		people:     &peopleHandlers{kit: k, people: a.People, files: a.Files},
		org:        &orgHandlers{kit: k, org: a.Org, files: a.Files},
		privacy:    &privacyHandlers{kit: k, privacy: a.Privacy, org: a.Org, files: a.Files, workEmail: a.WorkEmail},
		trust:      &trustHandlers{kit: k, cfg: a.Config, store: a.Store, public: &publicCache{ttl: o.PublicCacheTTL, pages: map[string]cachedPage{}}, org: a.Org, policies: a.Policies, privacy: a.Privacy, advisories: a.Advisories, files: a.Files},
		packets:    &packetHandlers{kit: k, packets: a.Packets, policies: a.Policies, workEmail: a.WorkEmail},
		advisories: &advisoryHandlers{kit: k, advisories: a.Advisories, org: a.Org},
		dsar:       &dsarHandlers{kit: k, dsar: a.DSAR, org: a.Org, users: a.Users, files: a.Files},
		exports:    &exportHandlers{kit: k, evidence: a.Evidence, org: a.Org, store: a.Store},
		ops:        &opsHandlers{kit: k, cfg: a.Config, store: a.Store},
	}
}

// END handlers
