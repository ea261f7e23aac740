package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/server"
	"github.com/charter-registry/charter/internal/store"
	"github.com/spf13/cobra"
)

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Migrate the database, load the seed on first start, and serve the dashboard, API and public pages",
		Args:  cobra.NoArgs,
	}
	sc := newStoreCommand(cmd)
	sc.binder.ServeFlags(&sc.cfg)
	sc.binder.PeopleFlags(&sc.cfg)
	sc.binder.ExceptionFlags(&sc.cfg)
	sc.binder.MailFlags(&sc.cfg)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		st, err := sc.open(ctx, true)
		if err != nil {
			return err
		}
		defer st.Close()
		// One server per SQLite file, and no restore under it.
		if st.Dialect == store.SQLite {
			lock, err := store.AcquireLock(sc.cfg.DataDir)
			if err != nil {
				return err
			}
			defer lock.Release()
		}
		logger := sc.cfg.Logger(stderr)
		a, err := app.New(sc.cfg, st, app.Deps{Logger: logger})
		if err != nil {
			return err
		}
		// One instance at a time: record the keys' fingerprints on first
		// start and refuse keys that differ from the recorded ones (another
		// instance's, or old ones), import files, load the seed.
		if err := st.Exclusively(ctx, func() error {
			if err := a.Keys.Establish(ctx, audit.System("system:keys")); err != nil {
				return err
			}
			if err := a.ImportDiskFiles(ctx); err != nil {
				return err
			}
			return a.Bootstrap(ctx, stdout)
		}); err != nil {
			return err
		}
		if err := a.SignOn(ctx); err != nil {
			return err
		}
		srv, err := server.New(server.Options{App: a, Version: version, PublicCacheTTL: time.Second})
		if err != nil {
			return err
		}
		servers := []*http.Server{newHTTPServer(sc.cfg.Addr, srv.Handler())}
		if sc.cfg.MetricsAddr != "" {
			servers = append(servers, newHTTPServer(sc.cfg.MetricsAddr, srv.MetricsHandler()))
		}
		// Bind every address before serving any, so that a taken port
		// fails the start instead of leaving half a server running.
		listeners := make([]net.Listener, 0, len(servers))
		for _, hs := range servers {
			ln, err := net.Listen("tcp", hs.Addr)
			if err != nil {
				for _, l := range listeners {
					l.Close()
				}
				return fmt.Errorf("listening on %s: %w", hs.Addr, err)
			}
			listeners = append(listeners, ln)
		}
		go sweepSessions(ctx, a.Sessions, logger.Error)
		// Ticking every lease, the scheduler takes over a dead instance's
		// run within about two leases of its death.
		go jobs.NewScheduler(st.DB, a.Now, logger, a.Jobs()...).WithLease(sc.cfg.Lease).Run(ctx, sc.cfg.Lease)
		if sender := a.Sender(); sender != nil {
			go sender.Run(ctx, 15*time.Second)
			logger.Info("sending email", "smtp_host", sc.cfg.SMTPHost, "smtp_port", sc.cfg.SMTPPort)
		} else {
			logger.Info("no SMTP server configured: emails wait in the outbox at /app/outbox")
		}
		go a.WebhookSender().Run(ctx, 15*time.Second)
		errc := make(chan error, len(servers))
		for i, hs := range servers {
			go func() {
				if err := hs.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
					errc <- fmt.Errorf("serving %s: %w", hs.Addr, err)
				}
			}()
		}
		if warning := baseURLWarning(sc.cfg.BaseURL); warning != "" {
			logger.Warn(warning, "base_url", sc.cfg.BaseURL)
		}
		logger.Info("charter listening", "addr", sc.cfg.Addr, "base_url", sc.cfg.BaseURL, "database", string(st.Dialect), "version", version)
		if sc.cfg.MetricsAddr != "" {
			logger.Info("serving /metrics on its own address", "metrics_addr", sc.cfg.MetricsAddr, "token", sc.cfg.MetricsToken != "")
		}
		fmt.Fprintf(stdout, "Charter %s is serving %s (listening on %s, %s database)\n", version, sc.cfg.BaseURL, sc.cfg.Addr, st.Dialect)
		var serveErr error
		select {
		case serveErr = <-errc:
		case <-ctx.Done():
		}
		logger.Info("shutting down: draining requests", "timeout", sc.cfg.ShutdownTimeout.String())
		shutCtx, cancel := context.WithTimeout(context.Background(), sc.cfg.ShutdownTimeout)
		defer cancel()
		// Both servers drain at once, within the one timeout.
		shutErrs := make(chan error, len(servers))
		for _, hs := range servers {
			go func() { shutErrs <- hs.Shutdown(shutCtx) }()
		}
		for range servers {
			if err := <-shutErrs; err != nil && serveErr == nil {
				serveErr = fmt.Errorf("shutting down: %w", err)
			}
		}
		srv.FlushHitCounts()
		if serveErr != nil {
			return serveErr
		}
		logger.Info("stopped")
		return nil
	}
	return cmd
}

// newHTTPServer is an HTTP server on addr with the timeouts and header
// limit every listener of Charter has.
func newHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// baseURLWarning is the warning serve logs for a base URL that is not
// https, or "" for one that is: security.txt then carries http URIs,
// which RFC 9116 forbids, and links in emails and cookies are not
// protected in transit.
func baseURLWarning(baseURL string) string {
	if strings.HasPrefix(strings.ToLower(baseURL), "https://") {
		return ""
	}
	return "the base URL is not https: security.txt lists http URIs, which RFC 9116 forbids, and emailed links and " +
		"session cookies travel unencrypted; this is fine for a local trial, but serve Charter behind TLS and set " +
		"--base-url (CHARTER_BASE_URL) to its https:// address for real use"
}

// sweepSessions deletes expired sessions every ten minutes until ctx ends.
func sweepSessions(ctx context.Context, s *auth.SessionStore, logError func(string, ...any)) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
				logError("deleting expired sessions", "error", err)
			}
		}
	}
}
