package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/labstack/echo/v4"
)

// Account recovery: the admins' buttons on the Users page, the forgotten-
// password form and its emailed link, and the forced password change
// after an admin's reset.

// changePasswordPath is where a user who must change their password is
// sent before any other page.
const changePasswordPath = "/app/account/password"

// mustChangeExempt are the pages a user who must change their password
// may still use.
func mustChangeExempt(path string) bool { return path == changePasswordPath }

func (h *userHandlers) defaultUsersPage() usersPage {
	return usersPage{New: newUserForm{Role: string(auth.Viewer)}, Token: newTokenForm{Expires: "90"}}
}

// resetUserPassword gives a user a new one-time password, shown once.
func (h *userHandlers) resetUserPassword(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	pw, u, err := h.users.ResetPassword(c.Request().Context(), actor(c), id)
	if err != nil {
		return h.usersError(c, h.defaultUsersPage(), err)
	}
	return h.render(c, http.StatusOK, "secret", "Password reset", secretPage{What: "one-time password", For: u.Email + " (" + string(u.Role) + ")", Secret: pw,
		Note: "Give it to them over a channel you trust. It works once, to choose a new password when they sign in; their sessions were ended."})
}

// resetUserMFA removes a user's second factor so that they enrol again.
func (h *userHandlers) resetUserMFA(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := h.users.ResetMFA(c.Request().Context(), actor(c), id)
	if err != nil {
		return h.usersError(c, h.defaultUsersPage(), err)
	}
	h.flash(c, "Two-factor sign-in of "+u.Email+" is removed and their sessions ended; they set it up again at their next sign-in.")
	return seeOther(c, "/app/users")
}

// unlockUser forgets the failed sign-ins counted against a user's account.
func (h *userHandlers) unlockUser(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	n, err := h.users.Unlock(c.Request().Context(), actor(c), id)
	if err != nil {
		return h.usersError(c, h.defaultUsersPage(), err)
	}
	h.flash(c, strconv.FormatInt(n, 10)+" counted failed sign-in(s) cleared; the account can sign in again at once.")
	return seeOther(c, "/app/users")
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

type forgotPage struct {
	Email   string
	Errors  map[string]string
	Sent    bool
	LinkTTL string
}

func (h *authHandlers) forgotPasswordForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "login_forgot", "Forgot your password?", forgotPage{})
}

// forgotPassword emails a reset link. The page that follows is the same
// whether or not the address has an account.
func (h *authHandlers) forgotPassword(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
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

// resetPassword sets the new password through the emailed link, which
// then stops working, and sends the user to sign in with it.
func (h *authHandlers) resetPassword(c echo.Context) error {
	shareHeaders(c)
	token := c.Param("token")
	next := c.FormValue("new_password")
	if next != c.FormValue("confirm_password") {
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
