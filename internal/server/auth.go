package server

import (
	"html/template"
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

// authHandlers serve sign-in and sign-out, the second factor, SSO, password
// recovery and the account page.
type authHandlers struct {
	*kit
	cfg          config.Config
	users        *auth.Service
	sessionStore *auth.SessionStore
	sso          *auth.SSO
	ssoConfig    auth.SSOConfig
	org          *org.Service
}

type mfaSetupPage struct {
	Enrolment *auth.Enrolment
	QR        template.URL // a data: URL made here, not user input
	Errors    map[string]string
	Required  bool
	// Code is the code typed in a refused confirmation.
	Code string
}

func (h *authHandlers) mfaSetupForm(c echo.Context) error {
	return h.showMFASetup(c, http.StatusOK, mfaSetupRequest{}, nil)
}

// showMFASetup draws the setup page: a new secret, or after a refusal the
// one already scanned, with the code typed.
func (h *authHandlers) showMFASetup(c echo.Context, status int, req mfaSetupRequest, errs map[string]string) error {
	u := currentUser(c)
	if u.HasMFA() {
		return seeOther(c, "/app/account")
	}
	issuer := "Charter"
	if o, err := h.org.Current(c.Request().Context()); err == nil && o.ID != 0 {
		issuer = o.Name + " Charter"
	}
	en, err := h.users.ResumeEnrolment(u, issuer, req.Sealed)
	if err != nil {
		return err
	}
	return h.render(c, status, "mfa_setup", "Set up two-factor sign-in", mfaSetupPage{Enrolment: en, QR: template.URL(en.QRCode), //nolint:gosec // a PNG we encoded
		Errors: errs, Required: h.cfg.MFARequired(string(u.Role)), Code: req.Code})
}

// mfaSetupRequest confirms an enrolment: the password, the sealed secret
// the setup page was drawn with, and the first code from the device.
type mfaSetupRequest struct {
	CurrentPassword string `form:"current_password"`
	Sealed          string `form:"sealed"`
	Code            string `form:"code"`
}

func (h *authHandlers) mfaSetup(c echo.Context) error {
	u := currentUser(c)
	var req mfaSetupRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	codes, err := h.users.ConfirmEnrolment(c.Request().Context(), actor(c), u.ID, req.CurrentPassword, req.Sealed, req.Code)
	if ok, status, msg, fields := formFailure(err); ok {
		if len(fields) == 0 {
			fields = map[string]string{"code": msg}
		}
		return h.showMFASetup(c, status, req, fields)
	} else if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "recovery_codes", "Your recovery codes", codes)
}

// currentPasswordRequest confirms a step with the user's password.
type currentPasswordRequest struct {
	CurrentPassword string `form:"current_password"`
}

func (h *authHandlers) mfaDisable(c echo.Context) error {
	u := currentUser(c)
	if h.cfg.MFARequired(string(u.Role)) {
		return apperr.New(apperr.Forbidden, "your role must use two-factor sign-in; set up a new device instead of turning it off")
	}
	var req currentPasswordRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	err := h.users.DisableMFA(c.Request().Context(), actor(c), u.ID, req.CurrentPassword)
	if ok, status, _, fields := formFailure(err); ok {
		return h.showAccount(c, status, accountPage{Errors: fields})
	} else if err != nil {
		return err
	}
	h.flash(c, "Two-factor sign-in is off.")
	return seeOther(c, "/app/account")
}

type passwordChangePage struct {
	Required bool
	Errors   map[string]string
}

// changePasswordForm is the page a user who must change their password is
// held on; others may use it too.
func (h *authHandlers) changePasswordForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "password_change", "Choose a new password", passwordChangePage{Required: currentUser(c).MustChangePassword})
}

type accountPage struct {
	RecoveryLeft int64
	Tokens       []auth.TokenInfo
	Sessions     []auth.SessionInfo
	Now          time.Time
	Errors       map[string]string
	Message      string
}

func (h *authHandlers) accountPage(c echo.Context) error {
	return h.showAccount(c, http.StatusOK, accountPage{})
}

func (h *authHandlers) showAccount(c echo.Context, status int, p accountPage) error {
	var err error
	ctx := c.Request().Context()
	if p.Tokens, err = h.users.ListTokens(ctx, currentUser(c).ID); err != nil {
		return err
	}
	if p.Sessions, err = h.sessionStore.UserSessions(ctx, currentUser(c).ID, h.sessions.Token(ctx)); err != nil {
		return err
	}
	if p.RecoveryLeft, err = h.users.RecoveryCodesLeft(ctx, currentUser(c).ID); err != nil {
		return err
	}
	p.Now = h.timeNow()
	return h.render(c, status, "account", "Your account", p)
}

// endSession ends one of the user's own sessions.
func (h *authHandlers) endSession(c echo.Context) error {
	if err := h.users.EndSession(c.Request().Context(), actor(c), currentUser(c).ID, c.Param("id")); err != nil {
		return err
	}
	h.flash(c, "That session is ended.")
	return seeOther(c, "/app/account")
}

// passwordChangeRequest is the password change form.
type passwordChangeRequest struct {
	CurrentPassword string `form:"current_password"`
	NewPassword     string `form:"new_password"`
	ConfirmPassword string `form:"confirm_password"`
}

// changePassword checks the current password, sets the new one, ends every
// other session of the user and keeps this browser signed in on a new token.
// A user who must change their password stays on the focused page, and
// goes on to the dashboard once it is done.
func (h *authHandlers) changePassword(c echo.Context) error {
	u := currentUser(c)
	refuse := func(fields map[string]string) error {
		if u.MustChangePassword {
			return h.render(c, http.StatusUnprocessableEntity, "password_change", "Choose a new password", passwordChangePage{Required: true, Errors: fields})
		}
		return h.showAccount(c, http.StatusUnprocessableEntity, accountPage{Errors: fields})
	}
	var req passwordChangeRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.NewPassword != req.ConfirmPassword {
		return refuse(map[string]string{"confirm_password": "does not match the new password"})
	}
	err := h.users.ChangePassword(c.Request().Context(), actor(c), u.ID, req.CurrentPassword, req.NewPassword)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
		return refuse(e.Fields)
	} else if err != nil {
		return err
	}
	h.flash(c, "Password changed. Your other sessions have been signed out.")
	if u.MustChangePassword {
		return h.completeLogin(c, u, "/app/")
	}
	return h.completeLogin(c, u, "/app/account")
}
