package server

import (
	"context"
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store"
	"github.com/labstack/echo/v4"
)

// opsHandlers serve the operational endpoints and the outbox.
type opsHandlers struct {
	*kit
	cfg   config.Config
	store *store.Store
}

func (h *opsHandlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": h.version})
}

// readyz answers 200 only when the database answers within two seconds.
func (h *opsHandlers) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.log.Warn("readiness check failed", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready", "database": string(h.store.Dialect)})
}
