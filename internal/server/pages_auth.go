package server

import (
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/labstack/echo/v4"
)

type loginPage struct {
	Email string
	Next  string
	Error string
	// SSO offers single sign-on; Passwords shows the password form.
	SSO       bool
	Passwords bool
}

// loginView fills in which ways to sign in this server offers.
func (s *Server) loginView(p loginPage) loginPage {
	p.SSO, p.Passwords = s.sso != nil, s.cfg.PasswordSignIn
	return p
}

type loginInput struct {
	Email    string `form:"email"`
	Password string `form:"password"`
	Next     string `form:"next"`
}

func (s *Server) loginForm(c echo.Context) error {
	if s.sessions.GetInt64(c.Request().Context(), auth.SessionUserKey) != 0 {
		return seeOther(c, localPath(c.QueryParam("next"), "/app/"))
	}
	return s.render(c, http.StatusOK, "login", "Sign in", s.loginView(loginPage{Next: localPath(c.QueryParam("next"), "")}))
}

// login checks the password, then asks for the second factor when the
// user has one, and starts the session.
func (s *Server) login(c echo.Context) error {
	var in loginInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	u, err := s.users.Authenticate(c.Request().Context(), in.Email, in.Password, actor(c))
	var throttled *auth.ThrottledError
	if errors.As(err, &throttled) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds()+0.999)))
		return s.render(c, http.StatusTooManyRequests, "login", "Sign in",
			s.loginView(loginPage{Email: in.Email, Next: localPath(in.Next, ""), Error: err.Error()}))
	}
	if apperr.Is(err, apperr.Unauthorized) {
		return s.render(c, http.StatusUnauthorized, "login", "Sign in",
			s.loginView(loginPage{Email: in.Email, Next: localPath(in.Next, ""), Error: err.Error()}))
	} else if err != nil {
		return err
	}
	if u.HasMFA() {
		return s.startSecondFactor(c, u, in.Next)
	}
	return s.completeLogin(c, u, in.Next)
}

// completeLogin issues a new session token (so a token planted before
// sign-in is worthless) and records the user in it.
func (s *Server) completeLogin(c echo.Context, u *auth.User, next string) error {
	ctx := c.Request().Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, auth.SessionUserKey, u.ID)
	// Unix nanoseconds: gob cannot encode a time.Time in scs's value map
	// without a global gob.Register.
	now := s.timeNow().UnixNano()
	s.sessions.Put(ctx, sessionSignedInKey, now)
	s.sessions.Put(ctx, sessionSeenKey, now)
	s.sessions.Put(ctx, auth.SessionIPKey, c.RealIP())
	s.sessions.Put(ctx, auth.SessionAgentKey, truncateRunes(c.Request().UserAgent(), 300))
	return seeOther(c, localPath(next, "/app/"))
}

func (s *Server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	if id := s.sessions.GetInt64(ctx, auth.SessionUserKey); id != 0 {
		if u, err := s.users.Get(ctx, id); err == nil {
			c.Set(userKey, u)
			if err := s.users.RecordLogout(ctx, actor(c)); err != nil {
				return err
			}
		}
	}
	if err := s.sessions.Destroy(ctx); err != nil {
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
