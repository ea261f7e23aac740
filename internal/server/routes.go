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
// Each area's handlers get the kit and only their area's services.
func (s *Server) routes(a *app.App) {
	k := s.kit
	signIn := &authHandlers{kit: k, cfg: a.Config, users: a.Users, sessionStore: a.Sessions, sso: a.SSO, ssoConfig: a.SSOConfig, org: a.Org}
	users := &userHandlers{kit: k, users: a.Users}
	overview := &overviewHandlers{kit: k, policies: a.Policies, people: a.People, privacy: a.Privacy, packets: a.Packets, dsar: a.DSAR, worklist: a.Worklist}
	waiting := &waitingHandlers{kit: k, worklist: a.Worklist}
	policies := &policyHandlers{kit: k, policies: a.Policies, exceptions: a.Exceptions}
	people := &peopleHandlers{kit: k, people: a.People, files: a.Files}
	org := &orgHandlers{kit: k, org: a.Org, files: a.Files}
	privacy := &privacyHandlers{kit: k, privacy: a.Privacy, org: a.Org, files: a.Files}
	trust := &trustHandlers{kit: k, cfg: a.Config, org: a.Org, policies: a.Policies, privacy: a.Privacy, advisories: a.Advisories, documents: a.Documents, files: a.Files,
		public: s.public, answers: a.Answers}
	packets := &packetHandlers{kit: k, packets: a.Packets, policies: a.Policies, documents: a.Documents, privacy: a.Privacy, answers: a.Answers}
	advisories := &advisoryHandlers{kit: k, advisories: a.Advisories, org: a.Org}
	dsar := &dsarHandlers{kit: k, dsar: a.DSAR, org: a.Org, users: a.Users, files: a.Files}
	documents := &documentHandlers{kit: k, documents: a.Documents, files: a.Files}
	exceptions := &exceptionHandlers{kit: k, exceptions: a.Exceptions, policies: a.Policies}
	answers := &answerHandlers{kit: k, answers: a.Answers}
	exports := &exportHandlers{kit: k, evidence: a.Evidence, org: a.Org, store: a.Store}
	snapshots := &snapshotHandlers{kit: k, snapshots: a.Snapshots}
	ops := &opsHandlers{kit: k, cfg: a.Config, store: a.Store, outbox: a.Outbox, keys: a.Keys}
	search := &searchHandlers{kit: k, search: a.Search}
	auditLog := &auditLogHandlers{kit: k, log: a.AuditLog, public: a.Config.PublicCheckpoint}
	webhooks := &webhookHandlers{kit: k, webhooks: a.Webhooks}
	e := s.e
	root := e.Group("")
	s.add(root, pageRoute, http.MethodGet, "/healthz", ops.healthz, public)
	s.add(root, pageRoute, http.MethodGet, "/readyz", ops.readyz, public)
	if s.cfg.MetricsAddr == "" {
		// Public to the router; the bearer token, when set, is checked by
		// the handler itself, which also serves the separate address.
		s.add(root, pageRoute, http.MethodGet, "/metrics", echo.WrapHandler(s.metrics), public)
	}
	s.add(root, pageRoute, http.MethodGet, "/.well-known/security.txt", trust.securityTxt, public)
	s.add(root, pageRoute, http.MethodGet, "/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(web.Static()))), public)
	s.add(root, pageRoute, http.MethodGet, "/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/app/") }, public)

	// Browser routes: session cookie and CSRF token.
	web := e.Group("", s.sessionMiddleware, s.csrfMiddleware())
	s.add(web, pageRoute, http.MethodGet, "/login", signIn.loginForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login", signIn.login, public)
	s.add(web, pageRoute, http.MethodPost, "/logout", signIn.logout, public)
	s.add(web, pageRoute, http.MethodGet, "/login/sso", signIn.ssoStart, public)
	s.add(web, pageRoute, http.MethodGet, "/login/sso/callback", signIn.ssoCallback, public)
	s.add(web, pageRoute, http.MethodGet, "/login/mfa", signIn.mfaLoginForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/mfa", signIn.mfaLogin, public)
	// Forgotten passwords: the form is a public form (CSRF, rate limit);
	// the emailed link carries its credential, and its form a CSRF token.
	s.add(web, pageRoute, http.MethodGet, "/login/forgot", signIn.forgotPasswordForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/forgot", signIn.forgotPassword, public)
	s.add(web, pageRoute, http.MethodGet, "/login/reset/:token", signIn.resetPasswordForm, public)
	s.add(web, pageRoute, http.MethodPost, "/login/reset/:token", signIn.resetPassword, public)

	// Share links: the token in the path is the credential, so these need
	// neither a session nor a CSRF token (a forger would need the token).
	s.add(root, pageRoute, http.MethodGet, "/ack/:token", people.ackPage, public)
	s.add(root, pageRoute, http.MethodPost, "/ack/:token", people.acknowledgeByLink, public)

	// The public Security & Privacy pages. Forms that a page carries use
	// the CSRF cookie; links from emails carry their credential.
	s.add(root, pageRoute, http.MethodGet, "/trust", trust.trustHome, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors", trust.trustSubprocessors, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors.json", trust.trustSubprocessorsJSON, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subprocessors.atom", trust.trustSubprocessorsAtom, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/certifications/:id/report", trust.trustReport, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/logo", trust.trustLogo, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/documents/:slug", documents.publicFile, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/answers", trust.trustAnswers, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories", trust.trustAdvisories, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories.json", trust.trustAdvisoriesJSON, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories.atom", trust.trustAdvisoriesAtom, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/advisories/:id", trust.trustAdvisory, public)
	// Public only when the operator opts in (CHARTER_PUBLIC_CHECKPOINT); 404 otherwise.
	s.add(root, pageRoute, http.MethodGet, "/trust/audit/checkpoint", auditLog.publicCheckpoint, public)
	forms := e.Group("", s.csrfMiddleware())
	s.add(forms, pageRoute, http.MethodGet, "/trust/subscribe", privacy.subscribeForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/subscribe", privacy.subscribe, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/dpa", privacy.dpaRequestForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/dpa", privacy.requestDPA, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/dpa/sign", privacy.signDPA, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/dpa/sign/confirm/:token", privacy.signDPAConfirmPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/dpa/sign/confirm/:token", privacy.signDPAConfirm, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/subscribe/confirm/:token", privacy.confirmSubscriptionPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/subscribe/confirm/:token", privacy.confirmSubscription, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/unsubscribe/:token", privacy.unsubscribePage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/unsubscribe/:token", privacy.unsubscribe, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/objections/:token", privacy.objectionForm, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/objections/:token", privacy.object, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/request", packets.requestForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/request", packets.submitRequest, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/request/confirm/:token", packets.confirmRequestPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/request/confirm/:token", packets.confirmRequest, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/security", advisories.reportForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/security", advisories.submitReport, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/privacy-request", dsar.dsarForm, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/privacy-request", dsar.submitDSAR, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/privacy-request/confirm/:token", dsar.dsarConfirmPage, public)
	s.add(root, pageRoute, http.MethodPost, "/trust/privacy-request/confirm/:token", dsar.dsarConfirm, public)
	s.add(forms, pageRoute, http.MethodGet, "/trust/verify", packets.verifyForm, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/signing-key.pem", packets.signingKeyPEM, public)
	// The promises in force on a date, as a page or (with .json) JSON.
	s.add(root, pageRoute, http.MethodGet, "/trust/as-of/:date", snapshots.trustAsOf, public)
	s.add(root, pageRoute, http.MethodGet, "/trust/snapshots/:id", snapshots.trustSnapshot, public)
	s.add(forms, pageRoute, http.MethodPost, "/trust/verify", packets.verify, public)
	// Policy packets: the link is the credential (SECURITY.md, share links).
	s.add(root, pageRoute, http.MethodGet, "/p/:token", packets.packetLinkPage, public)
	s.add(root, pageRoute, http.MethodPost, "/p/:token/nda", packets.acceptPacketNDA, public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/packet.pdf", packets.packetDownload(packet.PacketFileName), public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/policies/:file", packets.packetDownload(""), public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/documents/:file", packets.packetDocumentDownload, public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/manifest.json", packets.packetManifest, public)
	s.add(root, pageRoute, http.MethodGet, "/p/:token/manifest.sig", packets.packetManifestSignature, public)

	// The dashboard's address without its slash, as people type it.
	s.add(root, pageRoute, http.MethodGet, "/app", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/app/") }, public)
	app := web.Group("/app")
	s.add(app, pageRoute, http.MethodGet, "/search", search.searchPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/", overview.overviewPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/waiting", waiting.waitingPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies", policies.policiesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug", policies.policyPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/diff", policies.diffPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/new", policies.newVersionForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions", policies.createVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/:version", policies.versionPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/policies/:slug/versions/:version/edit", policies.editVersionForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/edit", policies.updateVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/approve", policies.approveVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/versions/:version/publish", policies.publishVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/policies/:slug/reviews", policies.recordReview, need(auth.Editor))
	// Policy exceptions: editors request them; another editor or admin
	// approves (the register refuses the requester).
	s.add(app, pageRoute, http.MethodGet, "/exceptions", exceptions.listPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/exceptions/new", exceptions.newForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/exceptions", exceptions.create, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/exceptions/:id", exceptions.page, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/exceptions/:id/approve", exceptions.decide("approve", "Exception approved; it is in force.", approveException), need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/exceptions/:id/reject", exceptions.decide("reject", "Exception rejected.", rejectException), need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/exceptions/:id/revoke", exceptions.decide("revoke", "Exception revoked; the policy applies in full.", revokeException), need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/exceptions/:id/renew", exceptions.renewForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/exceptions/:id/renew", exceptions.renew, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/audit", exports.auditPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/organization", org.organizationPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/organization/edit", org.editOrganizationForm, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/organization/edit", org.saveOrganization, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/organization/logo", org.uploadLogo, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/documents", documents.listPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/documents/new", documents.newForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/documents", documents.create, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/documents/:slug", documents.page, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/documents/:slug", documents.update, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/documents/:slug/versions", documents.addVersion, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/documents/:slug/versions/:id/file", documents.versionFile, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/answers", answers.listPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/answers/new", answers.newForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/answers", answers.create, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/answers/import", answers.fillPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/answers/questionnaire", answers.fill, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/answers/import", answers.importDrafts, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/answers/:id", answers.page, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/answers/:id", answers.update, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/answers/:id/approve", answers.approve, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/answers/:id/review", answers.review, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas", privacy.dpasPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/new", privacy.newDPAForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas", privacy.saveDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id", privacy.dpaPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id/edit", privacy.editDPAForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/edit", privacy.saveDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/status", privacy.setDPAStatus, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/dpas/:id/file", privacy.uploadDPAFile, need(auth.Editor))
	// Signed contracts are confidential: auditors and above.
	s.add(app, pageRoute, http.MethodGet, "/privacy/dpas/:id/file", privacy.dpaFile, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/standard-dpa", privacy.standardDPAPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/standard-dpa/new", privacy.newStandardDPAForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/standard-dpa", privacy.createStandardDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/standard-dpa/:number", privacy.standardDPAVersionPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/standard-dpa/:number/edit", privacy.editStandardDPAForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/standard-dpa/:number/edit", privacy.updateStandardDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/standard-dpa/:number/approve", privacy.approveStandardDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/standard-dpa/:number/publish", privacy.publishStandardDPA, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors", privacy.subprocessorsAdminPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors/new", privacy.newSubprocessorForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/subprocessors", privacy.saveSubprocessor, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/subprocessors/:id", privacy.subprocessorPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/privacy/subprocessors/:id/edit", privacy.saveSubprocessor, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy/notices", privacy.announceChange, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy/notices/:id", privacy.noticePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/privacy/notices/:id/withdraw", privacy.withdrawNotice, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/packets", packets.packetsPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/packets/nda", packets.ndaPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/nda", packets.publishNDA, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/packets/requests/:id", packets.packetRequestPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/requests/:id/approve", packets.approveRequest, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/packets/requests/:id/deny", packets.denyRequest, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/packets/:pid", packets.packetPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/packets/:pid/revoke", packets.revokePacket, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/packets/:pid/change-notices", packets.packetChangeNotices, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/advisories", advisories.advisoriesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/advisories/new", advisories.newAdvisoryForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/advisories", advisories.saveAdvisory, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/advisories/:id", advisories.advisoryPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/advisories/:id", advisories.saveAdvisory, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/advisories/:id/publish", advisories.publishAdvisory, need(auth.Editor))
	// Reports hold unpublished vulnerabilities: editors and admins only.
	s.add(app, pageRoute, http.MethodGet, "/reports", advisories.reportsPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/reports/:ref", advisories.reportPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/reports/:ref", advisories.updateReport, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/incidents", advisories.declareIncident, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/incidents/:id", advisories.updateIncident, need(auth.Editor))
	// Privacy requests hold personal data: editors and admins handle them;
	// the yearly figures are for auditors too.
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests", dsar.dsarList, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests", dsar.createDSAR, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/metrics", dsar.dsarMetrics, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/metrics.csv", dsar.dsarMetricsCSV, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/:ref", dsar.dsarPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests/:ref", dsar.actOnDSAR, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/privacy-requests/:ref/response", dsar.dsarResponseUpload, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/privacy-requests/:ref/response", dsar.dsarResponse, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/exports", exports.exportsPage, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/exports/:file", exports.exportCSV, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/people", people.peoplePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/people/new", people.newEmployeeForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people", people.saveEmployee, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/people/import", people.importForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import", people.importEmployees, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import/acknowledgements", people.importAcknowledgements, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/import/training", people.importTraining, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/training", people.coursesPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/training", people.createCourse, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/people/:email", people.employeePage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/people/:email/edit", people.editEmployeeForm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/edit", people.saveEmployee, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/ack-link", people.sendAckLink, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/background-check", people.setBackgroundCheck, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/:email/training", people.recordTraining, need(auth.Editor))
	// Certificates are personal records: auditors and above.
	s.add(app, pageRoute, http.MethodGet, "/people/:email/training/:id/certificate", people.trainingCertificate, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodGet, "/people/ack-links", people.ackLinksConfirm, need(auth.Editor))
	s.add(app, pageRoute, http.MethodPost, "/people/ack-links", people.sendAllAckLinks, need(auth.Editor))
	// The outbox holds live links: editors and admins only.
	s.add(app, pageRoute, http.MethodGet, "/outbox", ops.outboxPage, need(auth.Editor))
	s.add(app, pageRoute, http.MethodGet, "/snapshots", snapshots.snapshotsPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/account", signIn.accountPage, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/account/password", signIn.changePasswordForm, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/password", signIn.changePassword, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/sessions/:id/end", signIn.endSession, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/account/mfa", signIn.mfaSetupForm, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/mfa", signIn.mfaSetup, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodPost, "/account/mfa/disable", signIn.mfaDisable, need(auth.Viewer))
	s.add(app, pageRoute, http.MethodGet, "/access-review", users.accessReviewPage, need(auth.Auditor))
	s.add(app, pageRoute, http.MethodPost, "/access-review", users.recordAccessReview, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/users", users.usersPage, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users", users.createUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/role", users.changeRole, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/disable", users.disableUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/access-until", users.setAccessUntil, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/end-sessions", users.endUserSessions, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/sso-only", users.setSSOOnly, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/reset-password", users.resetUserPassword, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/reset-mfa", users.resetUserMFA, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/users/:id/unlock", users.unlockUser, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/tokens", users.createToken, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/tokens/:id/revoke", users.revokeToken, need(auth.Admin))
	// Webhook endpoints send register events outside Charter: admins only.
	s.add(app, pageRoute, http.MethodGet, "/webhooks", webhooks.webhooksPage, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/webhooks", webhooks.createWebhook, need(auth.Admin))
	s.add(app, pageRoute, http.MethodGet, "/webhooks/:id", webhooks.webhookPage, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/webhooks/:id/enable", webhooks.enableWebhook, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/webhooks/:id/disable", webhooks.disableWebhook, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/webhooks/:id/delete", webhooks.deleteWebhook, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/webhooks/:id/test", webhooks.testWebhook, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/webhooks/:id/rotate-secret", webhooks.rotateWebhookSecret, need(auth.Admin))
	s.add(app, pageRoute, http.MethodPost, "/webhooks/:id/deliveries/:delivery/retry", webhooks.retryDelivery, need(auth.Admin))

	api := e.Group("/api/v1")
	s.add(api, apiRoute, http.MethodGet, "/policies", policies.apiListPolicies, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug", policies.apiGetPolicy, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug/versions", policies.apiListVersions, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions", policies.apiCreateVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/policies/:slug/versions/:version", policies.apiGetVersion, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/policies/:slug/versions/:version", policies.apiUpdateVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions/:version/approve", policies.apiApproveVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/versions/:version/publish", policies.apiPublishVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/policies/:slug/reviews", policies.apiRecordReview, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/exceptions", exceptions.apiList, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/exceptions", exceptions.apiCreate, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/exceptions/:id", exceptions.apiGet, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/exceptions/:id/approve", exceptions.apiDecide(approveException), need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/exceptions/:id/reject", exceptions.apiDecide(rejectException), need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/exceptions/:id/revoke", exceptions.apiDecide(revokeException), need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/exceptions/:id/renew", exceptions.apiRenew, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/audit-events", exports.apiListAudit, need(auth.Viewer))
	// The audit log's checkpoints and proofs are for those who check the
	// trail: auditors and above.
	s.add(api, apiRoute, http.MethodGet, "/audit/checkpoint", auditLog.apiCheckpoint, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/audit/checkpoints", auditLog.apiCheckpoints, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/audit/verifier-key", auditLog.apiVerifierKey, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/audit/proof/inclusion", auditLog.apiInclusionProof, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/audit/proof/consistency", auditLog.apiConsistencyProof, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/employees", people.apiListEmployees, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/employees", people.apiCreateEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/employees/:email", people.apiGetEmployee, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPatch, "/employees/:email", people.apiUpdateEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/employees/:email", people.apiUpsertEmployee, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/employees/:email/acknowledgements", people.apiAcknowledge, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/employees/:email/background-check", people.apiSetBackgroundCheck, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/employees/:email/training", people.apiRecordTraining, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/organization", org.apiGetOrganization, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/organization", org.apiUpdateOrganization, need(auth.Admin))
	s.add(api, apiRoute, http.MethodGet, "/documents", documents.apiList, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/documents", documents.apiCreate, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/documents/:slug", documents.apiGet, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/documents/:slug", documents.apiUpdate, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/documents/:slug/versions", documents.apiAddVersion, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/documents/:slug/versions/:id/file", documents.versionFile, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/answers", answers.apiList, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/answers", answers.apiCreate, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/answers/questionnaire", answers.apiFill, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/answers/import", answers.apiImport, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/answers/:id", answers.apiGet, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/answers/:id", answers.apiUpdate, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/answers/:id/approve", answers.apiApprove, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/answers/:id/review", answers.apiReview, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/dpas", privacy.apiListDPAs, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/dpas", privacy.apiCreateDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/dpas/:id", privacy.apiGetDPA, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/dpas/:id", privacy.apiUpdateDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/dpas/:id/status", privacy.apiSetDPAStatus, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/dpas/:id/file", privacy.apiUploadDPAFile, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/dpas/:id/file", privacy.dpaFile, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/standard-dpa", privacy.apiListStandardDPA, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/standard-dpa", privacy.apiCreateStandardDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/standard-dpa/current", privacy.apiCurrentStandardDPA, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/standard-dpa/:number", privacy.apiGetStandardDPA, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/standard-dpa/:number", privacy.apiUpdateStandardDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/standard-dpa/:number/approve", privacy.apiApproveStandardDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/standard-dpa/:number/publish", privacy.apiPublishStandardDPA, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessors", privacy.apiListSubprocessors, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessors", privacy.apiCreateSubprocessor, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessors/:id", privacy.apiGetSubprocessor, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/subprocessors/:id", privacy.apiUpdateSubprocessor, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessor-notices", privacy.apiListNotices, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessor-notices", privacy.apiAnnounce, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/subprocessor-notices/:id", privacy.apiGetNotice, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/subprocessor-notices/:id/withdraw", privacy.apiWithdrawNotice, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/packet-requests", packets.apiListPacketRequests, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/packet-requests/:id", packets.apiGetPacketRequest, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/packet-requests/:id/approve", packets.apiApproveRequest, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/packet-requests/:id/deny", packets.apiDenyRequest, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/packets", packets.apiListPackets, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/packets/:pid", packets.apiGetPacket, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/packets/:pid/revoke", packets.apiRevokePacket, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/packets/:pid/change-notices", packets.apiGetChangeNotices, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/packets/:pid/change-notices", packets.apiSetChangeNotices, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/exports/:file", exports.exportCSV, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/snapshots", snapshots.apiListSnapshots, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/snapshots/:id", snapshots.apiGetSnapshot, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodGet, "/advisories", advisories.apiListAdvisories, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/advisories", advisories.apiCreateAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/advisories/:id", advisories.apiGetAdvisory, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPut, "/advisories/:id", advisories.apiUpdateAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/advisories/:id/publish", advisories.apiPublishAdvisory, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/vulnerability-reports", advisories.apiListReports, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/vulnerability-reports/:ref", advisories.apiGetReport, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/vulnerability-reports/:ref", advisories.apiUpdateReport, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests", dsar.apiListDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/privacy-requests", dsar.apiCreateDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests/metrics", dsar.apiDSARMetrics, need(auth.Auditor))
	s.add(api, apiRoute, http.MethodGet, "/privacy-requests/:ref", dsar.apiGetDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPost, "/privacy-requests/:ref/actions", dsar.apiActOnDSAR, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/incidents", advisories.apiListIncidents, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/incidents", advisories.apiDeclareIncident, need(auth.Editor))
	s.add(api, apiRoute, http.MethodPut, "/incidents/:id", advisories.apiUpdateIncident, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/courses", people.apiListCourses, need(auth.Viewer))
	s.add(api, apiRoute, http.MethodPost, "/courses", people.apiCreateCourse, need(auth.Editor))
	s.add(api, apiRoute, http.MethodGet, "/webhooks", webhooks.apiListWebhooks, need(auth.Admin))
	s.add(api, apiRoute, http.MethodPost, "/webhooks", webhooks.apiCreateWebhook, need(auth.Admin))
	s.add(api, apiRoute, http.MethodGet, "/webhooks/:id", webhooks.apiGetWebhook, need(auth.Admin))
	s.add(api, apiRoute, http.MethodDelete, "/webhooks/:id", webhooks.apiDeleteWebhook, need(auth.Admin))
	s.add(api, apiRoute, http.MethodPost, "/webhooks/:id/enable", webhooks.apiEnableWebhook, need(auth.Admin))
	s.add(api, apiRoute, http.MethodPost, "/webhooks/:id/disable", webhooks.apiDisableWebhook, need(auth.Admin))
	s.add(api, apiRoute, http.MethodPost, "/webhooks/:id/test", webhooks.apiTestWebhook, need(auth.Admin))
	s.add(api, apiRoute, http.MethodPost, "/webhooks/:id/rotate-secret", webhooks.apiRotateWebhookSecret, need(auth.Admin))
	s.add(api, apiRoute, http.MethodGet, "/webhooks/:id/deliveries", webhooks.apiListDeliveries, need(auth.Admin))
	s.add(api, apiRoute, http.MethodPost, "/webhooks/:id/deliveries/:delivery/retry", webhooks.apiRetryDelivery, need(auth.Admin))
}
