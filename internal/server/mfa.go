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
func (s *Server) startSecondFactor(c echo.Context, u *auth.User, next string) error {
	ctx := c.Request().Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, mfaPendingUserKey, u.ID)
	s.sessions.Put(ctx, mfaPendingAtKey, s.timeNow().UnixNano())
	s.sessions.Put(ctx, mfaPendingNextKey, localPath(next, ""))
	return seeOther(c, "/login/mfa")
}

type mfaLoginPage struct {
	Error string
}

// pendingUser returns the user waiting for a second factor, if the wait
// has not expired.
func (s *Server) pendingUser(c echo.Context) (*auth.User, error) {
	ctx := c.Request().Context()
	id := s.sessions.GetInt64(ctx, mfaPendingUserKey)
	at := time.Unix(0, s.sessions.GetInt64(ctx, mfaPendingAtKey))
	if id == 0 || s.timeNow().Sub(at) > mfaPendingTTL {
		return nil, nil
	}
	u, err := s.users.Get(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	return u, err
}

func (s *Server) mfaLoginForm(c echo.Context) error {
	u, err := s.pendingUser(c)
	if err != nil {
		return err
	}
	if u == nil {
		return seeOther(c, "/login")
	}
	return s.render(c, http.StatusOK, "login_mfa", "Two-factor sign-in", mfaLoginPage{})
}

func (s *Server) mfaLogin(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.pendingUser(c)
	if err != nil {
		return err
	}
	if u == nil {
		s.flash(c, "The sign-in took too long; please start again.")
		return seeOther(c, "/login")
	}
	_, err = s.users.VerifySecondFactor(ctx, actor(c), u.ID, c.FormValue("code"))
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds()+0.999)))
		return s.render(c, http.StatusTooManyRequests, "login_mfa", "Two-factor sign-in", mfaLoginPage{Error: err.Error()})
	case apperr.Is(err, apperr.Invalid):
		return s.render(c, http.StatusUnauthorized, "login_mfa", "Two-factor sign-in", mfaLoginPage{Error: "That code is wrong, expired or already used."})
	case err != nil:
		return err
	}
	next := s.sessions.GetString(ctx, mfaPendingNextKey)
	for _, k := range []string{mfaPendingUserKey, mfaPendingAtKey, mfaPendingNextKey} {
		s.sessions.Remove(ctx, k)
	}
	return s.completeLogin(c, u, next)
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

func (s *Server) mfaSetupForm(c echo.Context) error {
	return s.showMFASetup(c, http.StatusOK, nil)
}

func (s *Server) showMFASetup(c echo.Context, status int, errs map[string]string) error {
	u := currentUser(c)
	if u.HasMFA() {
		return seeOther(c, "/app/account")
	}
	issuer := "Charter"
	if o, err := s.org.Get(c.Request().Context()); err == nil && o != nil {
		issuer = o.Name + " Charter"
	}
	en, err := s.users.BeginEnrolment(u, issuer)
	if err != nil {
		return err
	}
	return s.render(c, status, "mfa_setup", "Set up two-factor sign-in", mfaSetupPage{Enrolment: en, QR: template.URL(en.QRCode), //nolint:gosec // a PNG we encoded
		Errors: errs, Required: s.cfg.MFARequired(string(u.Role))})
}

func (s *Server) mfaSetup(c echo.Context) error {
	u := currentUser(c)
	codes, err := s.users.ConfirmEnrolment(c.Request().Context(), actor(c), u.ID, c.FormValue("current_password"), c.FormValue("sealed"), c.FormValue("code"))
	if ok, status, msg, fields := formFailure(err); ok {
		if len(fields) == 0 {
			fields = map[string]string{"code": msg}
		}
		return s.showMFASetup(c, status, fields)
	} else if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "recovery_codes", "Your recovery codes", codes)
}

func (s *Server) mfaDisable(c echo.Context) error {
	u := currentUser(c)
	if s.cfg.MFARequired(string(u.Role)) {
		return apperr.New(apperr.Forbidden, "your role must use two-factor sign-in; set up a new device instead of turning it off")
	}
	err := s.users.DisableMFA(c.Request().Context(), actor(c), u.ID, c.FormValue("current_password"))
	if ok, status, _, fields := formFailure(err); ok {
		return s.showAccount(c, status, accountPage{Errors: fields})
	} else if err != nil {
		return err
	}
	s.flash(c, "Two-factor sign-in is off.")
	return seeOther(c, "/app/account")
}
