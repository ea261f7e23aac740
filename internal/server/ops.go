package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/keys"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/labstack/echo/v4"
)

// opsHandlers serve the operational endpoints and the outbox.
type opsHandlers struct {
	*kit
	cfg    config.Config
	store  *store.Store
	outbox *notify.Outbox
	keys   *keys.Registry
}

// healthJSON is the answer of /healthz.
type healthJSON struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// readyJSON is the answer of /readyz; Database names the engine when it
// answered.
type readyJSON struct {
	Database string `json:"database,omitempty"`
	Status   string `json:"status"`
	// Key names the key this instance holds that differs from the
	// database's record (signing or mfa).
	Key string `json:"key,omitempty"`
}

func (h *opsHandlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, healthJSON{Status: "ok", Version: h.version})
}

// readyz answers 200 only when the database answers within two seconds
// and this instance's keys are still the ones the database records (an
// instance left with the old key after a rotation must take no traffic:
// its signatures would not verify and it could not read second factors).
func (h *opsHandlers) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.log.Warn("readiness check failed", "error", err)
		return c.JSON(http.StatusServiceUnavailable, readyJSON{Status: "database unreachable"})
	}
	if err := h.keys.Check(ctx); err != nil {
		h.log.Warn("readiness check failed", "error", err)
		var mismatch *keys.MismatchError
		if errors.As(err, &mismatch) {
			return c.JSON(http.StatusServiceUnavailable, readyJSON{Status: "the " + mismatch.Key + " key differs from the one the database records",
				Key: mismatch.Key, Database: string(h.store.Dialect)})
		}
		return c.JSON(http.StatusServiceUnavailable, readyJSON{Status: "database unreachable"})
	}
	return c.JSON(http.StatusOK, readyJSON{Status: "ready", Database: string(h.store.Dialect)})
}

type outboxPage struct {
	SMTPHost string
	Messages []notify.Message
	Counts   map[string]int64
	State    string
	To       string
}

func (h *opsHandlers) outboxPage(c echo.Context) error {
	ctx := c.Request().Context()
	state := c.QueryParam("state")
	if state != "" && state != notify.Pending && state != notify.Sent && state != notify.Failed {
		return apperr.Field("state", "must be pending, sent or failed")
	}
	ob := h.outbox
	msgs, err := ob.List(ctx, notify.Filter{State: state, To: c.QueryParam("to")})
	if err != nil {
		return err
	}
	counts, err := ob.Counts(ctx)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "outbox", "Outbox", outboxPage{SMTPHost: h.cfg.SMTPHost, Messages: msgs, Counts: counts, State: state, To: c.QueryParam("to")})
}
