package server

import (
	"net/http"

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
	e, h := s.e, s.h
	root := e.Group("")
	s.add(root, pageRoute, http.MethodGet, "/healthz", h.ops.healthz, public)
	s.add(root, pageRoute, http.MethodGet, "/readyz", h.ops.readyz, public)
	if s.cfg.MetricsAddr == "" {
		// Public to the router; the bearer token, when set, is checked by
		// the handler itself, which also serves the separate address.
		s.add(root, pageRoute, http.MethodGet, "/metrics", echo.WrapHandler(s.metrics), public)
	}
	s.add(root, pageRoute, http.MethodGet, "/.well-known/security.txt", h.trust.securityTxt, public)
	s.add(root, pageRoute, http.MethodGet, "/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(web.Static()))), public)
	s.add(root, pageRoute, http.MethodGet, "/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/app/") }, public)

	// Browser routes: session cookie and CSRF token.
	web := e.Group("", s.sessionMiddleware, s.csrfMiddleware())
	s.add(web, pageRoute, http.MethodGet, "/login", h.auth.loginForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login", h.auth.login, public)
	s.add(web, pageRoute, http.MethodPost, "/logout", h.auth.logout, public)
	s.add(web, pageRoute, http.MethodGet, "/login/sso", h.auth.ssoStart, public)
	s.add(web, pageRoute, http.MethodGet, "/login/sso/callback", h.auth.ssoCallback, public)
	s.add(web, pageRoute, http.MethodGet, "/login/mfa", h.auth.mfaLoginForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/mfa", h.auth.mfaLogin, public)
	// Forgotten passwords: the form is a public form (CSRF, rate limit);
	// the emailed link carries its credential, and its form a CSRF token.
	s.add(web, pageRoute, http.MethodGet, "/login/forgot", h.auth.forgotPasswordForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/forgot", h.auth.forgotPassword, public)
	s.add(web, pageRoute, http.MethodGet, "/login/reset/:token", h.auth.resetPasswordForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/reset/:token", h.auth.resetPassword, public)

	// Share links: the token in the path is the credential, so these need
	// neither a session nor a CSRF token (a forger would need the token).
	s.add(root, pageRoute, http.MethodGet, "/ack/:token", h.people.ackPage, public)
	s.add(root, pageRoute, http.MethodPost, "/ack/:token", h.people.acknowledgeByLink, public)

	// The public Security & Privacy pages. Forms that a page carries use
	// the CSRF cookie; links from emails carry their credential.
	s.add(root, pageRoute, http.MethodGet, "/trust", h.trust.trustHome, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors", h.trust.trustSubprocessors, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors.json", h.trust.trustSubprocessorsJSON, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors.atom", h.trust.trustSubprocessorsAtom, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/certifications/:id/report", h.trust.trustReport, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories", h.trust.trustAdvisories, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories.json", h.trust.trustAdvisoriesJSON, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories.atom", h.trust.trustAdvisoriesAtom, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories/:id", h.trust.trustAdvisory, public)
	forms := e.Group("", s.csrfMiddleware())
	s.add(forms, pageRoute, http.MethodGet, "/trust/subscribe", h.privacy.subscribeForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/subscribe", h.privacy.subscribe, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/dpa", h.privacy.dpaRequestForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/dpa", h.privacy.requestDPA, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subscribe/confirm/:token", h.privacy.confirmSubscriptionPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/subscribe/confirm/:token", h.privacy.confirmSubscription, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/unsubscribe/:token", h.privacy.unsubscribePage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/unsubscribe/:token", h.privacy.unsubscribe, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/objections/:token", h.privacy.objectionForm, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/objections/:token", h.privacy.object, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/request", h.packets.requestForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/request", h.packets.submitRequest, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/request/confirm/:token", h.packets.confirmRequestPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/request/confirm/:token", h.packets.confirmRequest, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/security", h.advisories.reportForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/security", h.advisories.submitReport, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/privacy-request", h.dsar.dsarForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/privacy-request", h.dsar.submitDSAR, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/privacy-request/confirm/:token", h.dsar.dsarConfirmPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/privacy-request/confirm/:token", h.dsar.dsarConfirm, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/verify", h.packets.verifyForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/verify", h.packets.verify, public)
	// Policy packets: the link is the credential (SECURITY.md, share links).
	s.add(root, pageRoute, http.MethodGet, "/p/:token", h.packets.packetLinkPage, public)
	s.add(root, pageRoute, http.MethodPost, "/p/:token/nda", h.packets.acceptPacketNDA, public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/packet.pdf", h.packets.packetDownload(packet.PacketFileName), public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/policies/:file", h.packets.packetDownload(""), public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/manifest.json", h.packets.packetManifest, public)

	app := web.Group("/app")
	s.add(app, pageRoute, http.MethodGet, "/", h.overview.overviewPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies", h.policies.policiesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug", h.policies.policyPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/diff", h.policies.diffPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/new", h.policies.newVersionForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions", h.policies.createVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/:version", h.policies.versionPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/:version/edit", h.policies.editVersionForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/edit", h.policies.updateVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/approve", h.policies.approveVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/publish", h.policies.publishVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/reviews", h.policies.recordReview, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/audit", h.exports.auditPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/organization", h.org.organizationPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/organization/edit", h.org.editOrganizationForm, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/organization/edit", h.org.saveOrganization, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/organization/certifications/:id/report", h.org.uploadCertificationReport, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/organization/certifications/:id/report", h.org.certificationReport, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas", h.privacy.dpasPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/new", h.privacy.newDPAForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas", h.privacy.saveDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id", h.privacy.dpaPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id/edit", h.privacy.editDPAForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/edit", h.privacy.saveDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/status", h.privacy.setDPAStatus, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/file", h.privacy.uploadDPAFile, need(auth.Editor))
	// Signed contracts are confidential: auditors and above.
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id/file", h.privacy.dpaFile, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors", h.privacy.subprocessorsAdminPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors/new", h.privacy.newSubprocessorForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/subprocessors", h.privacy.saveSubprocessor, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors/:id", h.privacy.subprocessorPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/privacy/subprocessors/:id/edit", h.privacy.saveSubprocessor, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/notices", h.privacy.announceChange, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/notices/:id", h.privacy.noticePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/privacy/notices/:id/withdraw", h.privacy.withdrawNotice, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/packets", h.packets.packetsPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/packets/nda", h.packets.ndaPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/nda", h.packets.publishNDA, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/packets/requests/:id", h.packets.packetRequestPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/requests/:id/approve", h.packets.approveRequest, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/packets/requests/:id/deny", h.packets.denyRequest, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/packets/:pid", h.packets.packetPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/:pid/revoke", h.packets.revokePacket, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/advisories", h.advisories.advisoriesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/advisories/new", h.advisories.newAdvisoryForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/advisories", h.advisories.saveAdvisory, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/advisories/:id", h.advisories.advisoryPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/advisories/:id", h.advisories.saveAdvisory, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/advisories/:id/publish", h.advisories.publishAdvisory, need(auth.Editor))
	// Reports hold unpublished vulnerabilities: editors and admins only.
	s.add(app, pageRoute, http.MethodGet, "/reports", h.advisories.reportsPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/reports/:ref", h.advisories.reportPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/reports/:ref", h.advisories.updateReport, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/incidents", h.advisories.declareIncident, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/incidents/:id", h.advisories.updateIncident, need(auth.Editor))
	// Privacy requests hold personal data: editors and admins handle them;
	// the yearly figures are for auditors too.
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests", h.dsar.dsarList, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests", h.dsar.createDSAR, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/metrics", h.dsar.dsarMetrics, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/metrics.csv", h.dsar.dsarMetricsCSV, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/:ref", h.dsar.dsarPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests/:ref", h.dsar.actOnDSAR, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests/:ref/response", h.dsar.dsarResponseUpload, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/:ref/response", h.dsar.dsarResponse, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/exports", h.exports.exportsPage, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/exports/:file", h.exports.exportCSV, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/people", h.people.peoplePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/people/new", h.people.newEmployeeForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people", h.people.saveEmployee, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/people/import", h.people.importForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import", h.people.importEmployees, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import/acknowledgements", h.people.importAcknowledgements, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import/training", h.people.importTraining, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/training", h.people.coursesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/training", h.people.createCourse, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/people/:email", h.people.employeePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/people/:email/edit", h.people.editEmployeeForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/edit", h.people.saveEmployee, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/ack-link", h.people.sendAckLink, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/background-check", h.people.setBackgroundCheck, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/training", h.people.recordTraining, need(auth.Editor))
	// Certificates are personal records: auditors and above.
	s.add(app, pageRoute, http.MethodGet, "/people/:email/training/:id/certificate", h.people.trainingCertificate, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodPost, "/people/ack-links", h.people.sendAllAckLinks, need(auth.Editor))
	// The outbox holds live links: editors and admins only.
	s.add(app, pageRoute, http.MethodGet, "/outbox", h.ops.outboxPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/account", h.auth.accountPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/account/password", h.auth.changePasswordForm, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/password", h.auth.changePassword, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/sessions/:id/end", h.auth.endSession, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/account/mfa", h.auth.mfaSetupForm, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/mfa", h.auth.mfaSetup, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/mfa/disable", h.auth.mfaDisable, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/access-review", h.users.accessReviewPage, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodPost, "/access-review", h.users.recordAccessReview, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/users", h.users.usersPage, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users", h.users.createUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/role", h.users.changeRole, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/disable", h.users.disableUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/access-until", h.users.setAccessUntil, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/end-sessions", h.users.endUserSessions, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/sso-only", h.users.setSSOOnly, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/reset-password", h.users.resetUserPassword, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/reset-mfa", h.users.resetUserMFA, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/unlock", h.users.unlockUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/tokens", h.users.createToken, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/tokens/:id/revoke", h.users.revokeToken, need(auth.Admin))

	api := e.Group("/api/v1")
	s.add(api, apiRoute, http.MethodGet, "/policies", h.policies.apiListPolicies, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug", h.policies.apiGetPolicy, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug/versions", h.policies.apiListVersions, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions", h.policies.apiCreateVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug/versions/:version", h.policies.apiGetVersion, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/policies/:slug/versions/:version", h.policies.apiUpdateVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions/:version/approve", h.policies.apiApproveVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions/:version/publish", h.policies.apiPublishVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/reviews", h.policies.apiRecordReview, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/audit-events", h.exports.apiListAudit, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/employees", h.people.apiListEmployees, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/employees", h.people.apiCreateEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/employees/:email", h.people.apiGetEmployee, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPatch, "/employees/:email", h.people.apiUpdateEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/employees/:email", h.people.apiUpsertEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/employees/:email/acknowledgements", h.people.apiAcknowledge, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/employees/:email/background-check", h.people.apiSetBackgroundCheck, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/employees/:email/training", h.people.apiRecordTraining, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/organization", h.org.apiGetOrganization, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/organization", h.org.apiUpdateOrganization, need(auth.Admin))
	s.add(api, apiRoute, http.MethodGet, "/dpas", h.privacy.apiListDPAs, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/dpas", h.privacy.apiCreateDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/dpas/:id", h.privacy.apiGetDPA, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/dpas/:id", h.privacy.apiUpdateDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/dpas/:id/status", h.privacy.apiSetDPAStatus, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/dpas/:id/file", h.privacy.apiUploadDPAFile, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/dpas/:id/file", h.privacy.dpaFile, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessors", h.privacy.apiListSubprocessors, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessors", h.privacy.apiCreateSubprocessor, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessors/:id", h.privacy.apiGetSubprocessor, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/subprocessors/:id", h.privacy.apiUpdateSubprocessor, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessor-notices", h.privacy.apiListNotices, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessor-notices", h.privacy.apiAnnounce, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessor-notices/:id", h.privacy.apiGetNotice, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessor-notices/:id/withdraw", h.privacy.apiWithdrawNotice, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/packet-requests", h.packets.apiListPacketRequests, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/packet-requests/:id", h.packets.apiGetPacketRequest, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/packet-requests/:id/approve", h.packets.apiApproveRequest, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/packet-requests/:id/deny", h.packets.apiDenyRequest, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/packets", h.packets.apiListPackets, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/packets/:pid", h.packets.apiGetPacket, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/packets/:pid/revoke", h.packets.apiRevokePacket, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/exports/:file", h.exports.exportCSV, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/advisories", h.advisories.apiListAdvisories, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/advisories", h.advisories.apiCreateAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/advisories/:id", h.advisories.apiGetAdvisory, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/advisories/:id", h.advisories.apiUpdateAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/advisories/:id/publish", h.advisories.apiPublishAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/vulnerability-reports", h.advisories.apiListReports, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/vulnerability-reports/:ref", h.advisories.apiGetReport, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/vulnerability-reports/:ref", h.advisories.apiUpdateReport, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests", h.dsar.apiListDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/privacy-requests", h.dsar.apiCreateDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests/metrics", h.dsar.apiDSARMetrics, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests/:ref", h.dsar.apiGetDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/privacy-requests/:ref/actions", h.dsar.apiActOnDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/incidents", h.advisories.apiListIncidents, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/incidents", h.advisories.apiDeclareIncident, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/incidents/:id", h.advisories.apiUpdateIncident, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/courses", h.people.apiListCourses, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/courses", h.people.apiCreateCourse, need(auth.Editor))
}
