package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/labstack/echo/v4"
)

type loginPage struct {
	Email string
	Next  string
	Error string
	// Errors are the fields left empty; a wrong email or password is
	// only ever the generic Error, which does not say which was wrong.
	Errors map[string]string
	// SSO offers single sign-on; Passwords shows the password form.
	SSO       bool
	Passwords bool
}

// loginView fills in which ways to sign in this server offers.
func (h *authHandlers) loginView(p loginPage) loginPage {
	p.SSO, p.Passwords = h.sso != nil, h.cfg.PasswordSignIn
	return p
}

// loginRequest is the sign-in form.
type loginRequest struct {
	Email    string `form:"email"`
	Password string `form:"password"`
	Next     string `form:"next"`
}

func (h *authHandlers) loginForm(c echo.Context) error {
	if h.sessions.GetInt64(c.Request().Context(), auth.SessionUserKey) != 0 {
		return seeOther(c, localPath(c.QueryParam("next"), "/app/"))
	}
	return h.render(c, http.StatusOK, "login", "Sign in", h.loginView(loginPage{Next: localPath(c.QueryParam("next"), "")}))
}

// login checks the password, then asks for the second factor when the
// user has one, and starts the session.
func (h *authHandlers) login(c echo.Context) error {
	var in loginRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if missing := requiredFields(map[string]string{"email": strings.TrimSpace(in.Email), "password": in.Password}); len(missing) > 0 {
		return h.render(c, http.StatusUnprocessableEntity, "login", "Sign in",
			h.loginView(loginPage{Email: in.Email, Next: localPath(in.Next, ""), Errors: missing}))
	}
	u, err := h.users.Authenticate(c.Request().Context(), in.Email, in.Password, actor(c))
	var throttled *auth.ThrottledError
	if errors.As(err, &throttled) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds()+0.999)))
		return h.render(c, http.StatusTooManyRequests, "login", "Sign in",
			h.loginView(loginPage{Email: in.Email, Next: localPath(in.Next, ""), Error: err.Error()}))
	}
	if apperr.Is(err, apperr.Unauthorized) {
		return h.render(c, http.StatusUnauthorized, "login", "Sign in",
			h.loginView(loginPage{Email: in.Email, Next: localPath(in.Next, ""), Error: err.Error()}))
	} else if err != nil {
		return err
	}
	if u.HasMFA() {
		return h.startSecondFactor(c, u, in.Next)
	}
	return h.completeLogin(c, u, in.Next)
}

// requiredFields is an error for each of the named values left empty.
func requiredFields(values map[string]string) map[string]string {
	missing := map[string]string{}
	for name, v := range values {
		if v == "" {
			missing[name] = "is required"
		}
	}
	return missing
}

// completeLogin issues a new session token (so a token planted before
// sign-in is worthless) and records the user in it.
func (h *authHandlers) completeLogin(c echo.Context, u *auth.User, next string) error {
	ctx := c.Request().Context()
	if err := h.sessions.RenewToken(ctx); err != nil {
		return err
	}
	h.sessions.Put(ctx, auth.SessionUserKey, u.ID)
	// Unix nanoseconds: gob cannot encode a time.Time in scs's value map
	// without a global gob.Register.
	now := h.timeNow().UnixNano()
	h.sessions.Put(ctx, sessionSignedInKey, now)
	h.sessions.Put(ctx, sessionSeenKey, now)
	h.sessions.Put(ctx, auth.SessionIPKey, c.RealIP())
	h.sessions.Put(ctx, auth.SessionAgentKey, truncateRunes(c.Request().UserAgent(), 300))
	return seeOther(c, localPath(next, "/app/"))
}

func (h *authHandlers) logout(c echo.Context) error {
	ctx := c.Request().Context()
	if id := h.sessions.GetInt64(ctx, auth.SessionUserKey); id != 0 {
		if u, err := h.users.Get(ctx, id); err == nil {
			c.Set(userKey, u)
			if err := h.users.RecordLogout(ctx, actor(c)); err != nil {
				return err
			}
		}
	}
	if err := h.sessions.Destroy(ctx); err != nil {
		return err
	}
	return seeOther(c, "/login")
}

// truncateRunes keeps at most n bytes of s without splitting a character.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Session keys of a sign-in waiting for its second factor.
const (
	mfaPendingUserKey = "mfa_pending_user"
	mfaPendingAtKey   = "mfa_pending_at"
	mfaPendingNextKey = "mfa_pending_next"
)

// mfaPendingTTL is how long the code form waits after the password.
const mfaPendingTTL = 5 * time.Minute

// startSecondFactor keeps the user half signed-in and asks for the code.
func (h *authHandlers) startSecondFactor(c echo.Context, u *auth.User, next string) error {
	ctx := c.Request().Context()
	if err := h.sessions.RenewToken(ctx); err != nil {
		return err
	}
	h.sessions.Put(ctx, mfaPendingUserKey, u.ID)
	h.sessions.Put(ctx, mfaPendingAtKey, h.timeNow().UnixNano())
	h.sessions.Put(ctx, mfaPendingNextKey, localPath(next, ""))
	return seeOther(c, "/login/mfa")
}

type mfaLoginPage struct {
	Error  string
	Errors map[string]string
}

// pendingUser returns the user waiting for a second factor, if the wait
// has not expired.
func (h *authHandlers) pendingUser(c echo.Context) (*auth.User, error) {
	ctx := c.Request().Context()
	id := h.sessions.GetInt64(ctx, mfaPendingUserKey)
	at := time.Unix(0, h.sessions.GetInt64(ctx, mfaPendingAtKey))
	if id == 0 || h.timeNow().Sub(at) > mfaPendingTTL {
		return nil, nil
	}
	u, err := h.users.Get(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	return u, err
}

func (h *authHandlers) mfaLoginForm(c echo.Context) error {
	u, err := h.pendingUser(c)
	if err != nil {
		return err
	}
	if u == nil {
		return seeOther(c, "/login")
	}
	return h.render(c, http.StatusOK, "login_mfa", "Two-factor sign-in", mfaLoginPage{})
}

// mfaCodeRequest is the second factor: a code from the device or a
// recovery code.
type mfaCodeRequest struct {
	Code string `form:"code"`
}

func (h *authHandlers) mfaLogin(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := h.pendingUser(c)
	if err != nil {
		return err
	}
	if u == nil {
		h.flash(c, "The sign-in took too long; please start again.")
		return seeOther(c, "/login")
	}
	var req mfaCodeRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if missing := requiredFields(map[string]string{"code": strings.TrimSpace(req.Code)}); len(missing) > 0 {
		return h.render(c, http.StatusUnprocessableEntity, "login_mfa", "Two-factor sign-in", mfaLoginPage{Errors: missing})
	}
	_, err = h.users.VerifySecondFactor(ctx, actor(c), u.ID, req.Code)
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds()+0.999)))
		return h.render(c, http.StatusTooManyRequests, "login_mfa", "Two-factor sign-in", mfaLoginPage{Error: err.Error()})
	case apperr.Is(err, apperr.Invalid):
		return h.render(c, http.StatusUnauthorized, "login_mfa", "Two-factor sign-in", mfaLoginPage{Error: "That code is wrong, expired or already used."})
	case err != nil:
		return err
	}
	next := h.sessions.GetString(ctx, mfaPendingNextKey)
	for _, k := range []string{mfaPendingUserKey, mfaPendingAtKey, mfaPendingNextKey} {
		h.sessions.Remove(ctx, k)
	}
	return h.completeLogin(c, u, next)
}

// Session keys of a single sign-on in progress.
const (
	ssoStateKey    = "sso_state"
	ssoNonceKey    = "sso_nonce"
	ssoVerifierKey = "sso_verifier"
	ssoNextKey     = "sso_next"
)

// ssoStart sends the browser to the provider, remembering state, nonce
// and the PKCE verifier in its session.
func (h *authHandlers) ssoStart(c echo.Context) error {
	if h.sso == nil {
		return echo.ErrNotFound
	}
	start, err := h.sso.Start()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	h.sessions.Put(ctx, ssoStateKey, start.State)
	h.sessions.Put(ctx, ssoNonceKey, start.Nonce)
	h.sessions.Put(ctx, ssoVerifierKey, start.Verifier)
	h.sessions.Put(ctx, ssoNextKey, localPath(c.QueryParam("next"), ""))
	return c.Redirect(http.StatusFound, start.URL)
}

// ssoCallback finishes the sign-in: the state must match the one this
// browser was sent with, then the code is exchanged and the ID token
// checked.
func (h *authHandlers) ssoCallback(c echo.Context) error {
	if h.sso == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	start := auth.SSOStart{State: h.sessions.PopString(ctx, ssoStateKey), Nonce: h.sessions.PopString(ctx, ssoNonceKey),
		Verifier: h.sessions.PopString(ctx, ssoVerifierKey)}
	next := h.sessions.PopString(ctx, ssoNextKey)
	fail := func(msg string) error {
		return h.render(c, http.StatusUnauthorized, "login", "Sign in", loginPage{Error: msg, SSO: true, Passwords: h.cfg.PasswordSignIn})
	}
	if start.State == "" || c.QueryParam("state") != start.State {
		return fail("The single sign-on could not be matched to this browser; please start again.")
	}
	if e := c.QueryParam("error"); e != "" {
		return fail("The identity provider refused the sign-in (" + e + ").")
	}
	id, refusal, err := h.sso.Finish(ctx, c.QueryParam("code"), start)
	if err != nil && refusal == "" {
		return err
	}
	u, err := h.users.SignInSSO(ctx, actor(c), h.ssoConfig, id, refusal)
	if err != nil {
		if refusal != "" || err == auth.ErrSSORefused {
			return fail(auth.ErrSSORefused.Error())
		}
		return err
	}
	return h.completeLogin(c, u, next)
}

type forgotPage struct {
	Email   string
	Errors  map[string]string
	Sent    bool
	LinkTTL string
}

func (h *authHandlers) forgotPasswordForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "login_forgot", "Forgot your password?", forgotPage{})
}

// forgotPasswordRequest is the address a reset link is asked for.
type forgotPasswordRequest struct {
	Email string `form:"email"`
}

// forgotPassword emails a reset link. The page that follows is the same
// whether or not the address has an account.
func (h *authHandlers) forgotPassword(c echo.Context) error {
	var req forgotPasswordRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	email := strings.TrimSpace(req.Email)
	if err := h.admitPublic(c, formPasswordReset, email); err != nil {
		return err
	}
	err := h.users.RequestPasswordReset(c.Request().Context(), actor(c), email)
	if fields, _, ok := formErrors(err); ok {
		return h.render(c, http.StatusUnprocessableEntity, "login_forgot", "Forgot your password?", forgotPage{Email: email, Errors: fields})
	} else if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "login_forgot", "Check your email", forgotPage{Sent: true, LinkTTL: h.users.ResetLinkLifetime()})
}

type resetPage struct {
	Token  string
	Errors map[string]string
}

func (h *authHandlers) resetPasswordForm(c echo.Context) error {
	shareHeaders(c)
	token := c.Param("token")
	if err := h.users.CheckPasswordReset(c.Request().Context(), token); err != nil {
		return h.shareLinkError(c, err)
	}
	return h.render(c, http.StatusOK, "login_reset", "Choose a new password", resetPage{Token: token})
}

// passwordResetRequest is the new password, typed twice.
type passwordResetRequest struct {
	NewPassword     string `form:"new_password"`
	ConfirmPassword string `form:"confirm_password"`
}

// resetPassword sets the new password through the emailed link, which
// then stops working, and sends the user to sign in with it.
func (h *authHandlers) resetPassword(c echo.Context) error {
	shareHeaders(c)
	token := c.Param("token")
	var req passwordResetRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	next := req.NewPassword
	if next != req.ConfirmPassword {
		if err := h.users.CheckPasswordReset(c.Request().Context(), token); err != nil {
			return h.shareLinkError(c, err)
		}
		return h.render(c, http.StatusUnprocessableEntity, "login_reset", "Choose a new password",
			resetPage{Token: token, Errors: map[string]string{"confirm_password": "does not match the new password"}})
	}
	_, err := h.users.CompletePasswordReset(c.Request().Context(), actor(c), token, next)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
		return h.render(c, http.StatusUnprocessableEntity, "login_reset", "Choose a new password", resetPage{Token: token, Errors: e.Fields})
	} else if err != nil {
		return h.shareLinkError(c, err)
	}
	// This browser's session, if any, ended with all the others.
	if err := h.sessions.RenewToken(c.Request().Context()); err != nil {
		return err
	}
	h.sessions.Remove(c.Request().Context(), auth.SessionUserKey)
	h.flash(c, "Your new password is set and you are signed out everywhere; sign in with it.")
	return seeOther(c, "/login")
}
