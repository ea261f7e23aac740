package server

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/labstack/echo/v4"
)

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
	Error string
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
	_, err = h.users.VerifySecondFactor(ctx, actor(c), u.ID, c.FormValue("code"))
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

// mfaExempt are the pages a user who must set up a second factor may
// still use.
func mfaExempt(path string) bool {
	return strings.HasPrefix(path, "/app/account")
}

type mfaSetupPage struct {
	Enrolment *auth.Enrolment
	QR        template.URL // a data: URL made here, not user input
	Errors    map[string]string
	Required  bool
}

func (h *authHandlers) mfaSetupForm(c echo.Context) error {
	return h.showMFASetup(c, http.StatusOK, nil)
}

func (h *authHandlers) showMFASetup(c echo.Context, status int, errs map[string]string) error {
	u := currentUser(c)
	if u.HasMFA() {
		return seeOther(c, "/app/account")
	}
	issuer := "Charter"
	if o, err := h.org.Get(c.Request().Context()); err == nil && o != nil {
		issuer = o.Name + " Charter"
	}
	en, err := h.users.BeginEnrolment(u, issuer)
	if err != nil {
		return err
	}
	return h.render(c, status, "mfa_setup", "Set up two-factor sign-in", mfaSetupPage{Enrolment: en, QR: template.URL(en.QRCode), //nolint:gosec // a PNG we encoded
		Errors: errs, Required: h.cfg.MFARequired(string(u.Role))})
}

func (h *authHandlers) mfaSetup(c echo.Context) error {
	u := currentUser(c)
	codes, err := h.users.ConfirmEnrolment(c.Request().Context(), actor(c), u.ID, c.FormValue("current_password"), c.FormValue("sealed"), c.FormValue("code"))
	if ok, status, msg, fields := formFailure(err); ok {
		if len(fields) == 0 {
			fields = map[string]string{"code": msg}
		}
		return h.showMFASetup(c, status, fields)
	} else if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "recovery_codes", "Your recovery codes", codes)
}

func (h *authHandlers) mfaDisable(c echo.Context) error {
	u := currentUser(c)
	if h.cfg.MFARequired(string(u.Role)) {
		return apperr.New(apperr.Forbidden, "your role must use two-factor sign-in; set up a new device instead of turning it off")
	}
	err := h.users.DisableMFA(c.Request().Context(), actor(c), u.ID, c.FormValue("current_password"))
	if ok, status, _, fields := formFailure(err); ok {
		return h.showAccount(c, status, accountPage{Errors: fields})
	} else if err != nil {
		return err
	}
	h.flash(c, "Two-factor sign-in is off.")
	return seeOther(c, "/app/account")
}
