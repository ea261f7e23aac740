package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/labstack/echo/v4"
)

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
