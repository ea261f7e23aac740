package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/labstack/echo/v4"
)

// userHandlers serve the users, their API tokens, admin recovery and the
// access review.
type userHandlers struct {
	*kit
	users *auth.Service
}

type usersPage struct {
	Users  []auth.User
	Tokens []auth.TokenInfo
	Roles  []auth.Role
	Now    time.Time
	New    newUserForm
	Token  newTokenForm
	// Creating: the refused form is the one adding a user, whose fields
	// share names with the role and access forms of each row.
	Creating bool
	Errors   map[string]string
	Message  string
}

// newUserForm is the form that adds a user (the password is generated).
type newUserForm struct {
	Email       string `form:"email"`
	Name        string `form:"name"`
	Role        string `form:"role"`
	AccessUntil string `form:"access_until"`
}

// toInput reads the optional end date; the service checks the rest.
func (f newUserForm) toInput(password string) (auth.NewUser, error) {
	until, err := parseDay("access_until", f.AccessUntil)
	return auth.NewUser{Email: f.Email, Name: f.Name, Role: auth.Role(f.Role), Password: password, AccessUntil: until}, err
}

// accessUntilRequest sets or, empty, removes a user's last day.
type accessUntilRequest struct {
	AccessUntil string `form:"access_until"`
}

// roleRequest is a user's new role.
type roleRequest struct {
	Role string `form:"role"`
}

// ssoOnlyRequest turns password sign-in off ("yes") or on for a user.
type ssoOnlyRequest struct {
	SSOOnly string `form:"sso_only"`
}

// accessReviewRequest is the note of an access review.
type accessReviewRequest struct {
	Note string `form:"note"`
}

// parseDay reads an optional YYYY-MM-DD into a date, naming field.
func parseDay(field, v string) (*time.Time, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(v))
	if err != nil {
		return nil, apperr.Field(field, "must be a date as YYYY-MM-DD")
	}
	return &t, nil
}

type newTokenForm struct {
	Email   string `form:"token_email"`
	Name    string `form:"token_name"`
	Expires string `form:"token_expires_days"`
}

// secretPage shows a password or token once, right after it was made; it is
// never stored anywhere it could be shown again.
type secretPage struct {
	What, For, Secret, Note string
}

func (h *userHandlers) usersPage(c echo.Context) error {
	return h.showUsers(c, http.StatusOK, usersPage{New: newUserForm{Role: string(auth.Viewer)}, Token: newTokenForm{Expires: "90"}})
}

func (h *userHandlers) showUsers(c echo.Context, status int, p usersPage) error {
	ctx := c.Request().Context()
	var err error
	if p.Users, err = h.users.List(ctx); err != nil {
		return err
	}
	if p.Tokens, err = h.users.ListTokens(ctx, 0); err != nil {
		return err
	}
	p.Roles, p.Now = auth.Roles, h.timeNow()
	return h.render(c, status, "users", "Users and API tokens", p)
}

// usersError shows the users page again with what went wrong: field errors
// beside their fields, conflicts as a message.
func (h *userHandlers) usersError(c echo.Context, p usersPage, err error) error {
	e, ok := apperr.As(err)
	if !ok || (e.Kind != apperr.Invalid && e.Kind != apperr.Conflict && e.Kind != apperr.NotFound) {
		return err
	}
	status, _, msg, fields := classify(e)
	p.Errors, p.Message = fields, formMessage(msg, fields)
	return h.showUsers(c, status, p)
}

func (h *userHandlers) createUser(c echo.Context) error {
	var in newUserForm
	if err := bind(c, &in); err != nil {
		return err
	}
	pw := auth.GeneratePassword()
	nu, err := in.toInput(pw)
	var u *auth.User
	if err == nil {
		u, err = h.users.Create(c.Request().Context(), actor(c), nu)
	}
	if err != nil {
		return h.usersError(c, usersPage{New: in, Token: newTokenForm{Expires: "90"}, Creating: true}, err)
	}
	return h.render(c, http.StatusCreated, "secret", "User added", secretPage{What: "password", For: u.Email + " (" + string(u.Role) + ")", Secret: pw,
		Note: "Give it to them over a channel you trust; they should change it from their account page after signing in."})
}

func userID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "no such user")
	}
	return id, nil
}

func (h *userHandlers) setAccessUntil(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	var req accessUntilRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	until, err := parseDay("access_until", req.AccessUntil)
	var u *auth.User
	if err == nil {
		u, err = h.users.SetAccessUntil(c.Request().Context(), actor(c), id, until)
	}
	if err != nil {
		return h.usersError(c, usersPage{New: newUserForm{Role: string(auth.Viewer)}, Token: newTokenForm{Expires: "90"}}, err)
	}
	if u.AccessUntil != nil {
		h.flash(c, u.Email+" has access until "+u.AccessUntil.Format(time.DateOnly)+" (inclusive).")
	} else {
		h.flash(c, u.Email+" has access with no end date.")
	}
	return seeOther(c, "/app/users")
}

func (h *userHandlers) changeRole(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	var req roleRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	u, err := h.users.SetRole(c.Request().Context(), actor(c), id, auth.Role(req.Role))
	if err != nil {
		return h.usersError(c, usersPage{New: newUserForm{Role: string(auth.Viewer)}, Token: newTokenForm{Expires: "90"}}, err)
	}
	h.flash(c, u.Email+" is now "+string(u.Role)+"; their sessions were ended so the new role applies at once.")
	return seeOther(c, "/app/users")
}

func (h *userHandlers) disableUser(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := h.users.Disable(c.Request().Context(), actor(c), id)
	if err != nil {
		return h.usersError(c, usersPage{New: newUserForm{Role: string(auth.Viewer)}, Token: newTokenForm{Expires: "90"}}, err)
	}
	h.flash(c, u.Email+" is disabled; their sessions and API tokens no longer work.")
	return seeOther(c, "/app/users")
}

// maxTokenDays keeps every API token expiring (SECURITY.md).
const maxTokenDays = 366

func (h *userHandlers) createToken(c echo.Context) error {
	var in newTokenForm
	if err := bind(c, &in); err != nil {
		return err
	}
	page := usersPage{New: newUserForm{Role: string(auth.Viewer)}, Token: in}
	days, err := strconv.Atoi(in.Expires)
	if err != nil || days < 1 || days > maxTokenDays {
		return h.usersError(c, page, apperr.Field("token_expires_days", "must be a number of days from 1 to 366"))
	}
	secret, t, err := h.users.CreateToken(c.Request().Context(), actor(c), in.Email, in.Name, time.Duration(days)*24*time.Hour)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
			// The service names its fields without the form's prefix.
			fields := map[string]string{}
			for k, v := range e.Fields {
				fields["token_"+k] = v
			}
			err = apperr.Fields(fields)
		} else if apperr.Is(err, apperr.NotFound) {
			err = apperr.Field("token_email", "no user has this email")
		}
		return h.usersError(c, page, err)
	}
	return h.render(c, http.StatusCreated, "secret", "API token created", secretPage{What: "API token", For: t.Name + " (acts as " + notify.NormalizeAddress(in.Email) + ")",
		Secret: secret, Note: "Send it as Authorization: Bearer <token>. It expires on " + t.ExpiresAt.UTC().Format("2006-01-02") + "."})
}

func (h *userHandlers) revokeToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return auth.ErrTokenNotFound
	}
	t, err := h.users.RevokeToken(c.Request().Context(), actor(c), id)
	if err != nil {
		return h.usersError(c, usersPage{New: newUserForm{Role: string(auth.Viewer)}, Token: newTokenForm{Expires: "90"}}, err)
	}
	h.flash(c, "Token "+strconv.FormatInt(t.ID, 10)+" ("+t.Name+") revoked.")
	return seeOther(c, "/app/users")
}

// setSSOOnly turns password sign-in off or on for one user (admins).
func (h *userHandlers) setSSOOnly(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	var req ssoOnlyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	on := req.SSOOnly == "yes"
	if err := h.users.SetSSOOnly(c.Request().Context(), actor(c), id, on); err != nil {
		return err
	}
	if on {
		h.flash(c, "That user now signs in only through single sign-on.")
	} else {
		h.flash(c, "That user may sign in with a password again.")
	}
	return seeOther(c, "/app/users")
}

// endUserSessions ends every session of a user (admins).
func (h *userHandlers) endUserSessions(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	n, err := h.users.EndAllSessions(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	h.flash(c, strconv.FormatInt(n, 10)+" session(s) ended.")
	return seeOther(c, "/app/users")
}

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

type accessReviewPage struct {
	Data     *auth.AccessReviewData
	Now      time.Time
	From, To string
	// Note and Errors refill a refused review.
	Note   string
	Errors map[string]string
}

// accessReviewPage shows who can sign in and with what, and the reviews
// recorded so far; the CSV is the access_review export.
func (h *userHandlers) accessReviewPage(c echo.Context) error {
	return h.showAccessReview(c, http.StatusOK, "", nil)
}

func (h *userHandlers) showAccessReview(c echo.Context, status int, note string, errs map[string]string) error {
	d, err := h.users.AccessReviewPage(c.Request().Context())
	if err != nil {
		return err
	}
	now := h.timeNow()
	return h.render(c, status, "access_review", "Access review", accessReviewPage{Data: d, Now: now, Note: note, Errors: errs,
		From: now.AddDate(0, -3, 0).Format(time.DateOnly), To: now.Format(time.DateOnly)})
}

func (h *userHandlers) recordAccessReview(c echo.Context) error {
	var req accessReviewRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	_, err := h.users.RecordAccessReview(c.Request().Context(), actor(c), req.Note)
	if ok, status, _, fields := formFailure(err); ok {
		return h.showAccessReview(c, status, req.Note, fields)
	} else if err != nil {
		return err
	}
	h.flash(c, "Review recorded.")
	return seeOther(c, "/app/access-review")
}
