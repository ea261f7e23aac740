package server

import (
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

// authHandlers serve sign-in and sign-out, the second factor, SSO, password recovery and the account page.
type authHandlers struct {
	*kit
	cfg          config.Config
	users        *auth.Service
	sessionStore *auth.SessionStore
	sso          *auth.SSO
	ssoConfig    auth.SSOConfig
	org          *org.Service
}

type loginPage struct {
	Email string
	Next  string
	Error string
	// SSO offers single sign-on; Passwords shows the password form.
	SSO       bool
	Passwords bool
}

// loginView fills in which ways to sign in this server offers.
func (h *authHandlers) loginView(p loginPage) loginPage {
	p.SSO, p.Passwords = h.sso != nil, h.cfg.PasswordSignIn
	return p
}

type loginInput struct {
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
	var in loginInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
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
