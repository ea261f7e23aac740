package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/store"
	"github.com/spf13/cobra"
)

func newBackupCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the SQLite database to FILE (safe while the server runs)",
		Long: "Write a consistent copy of the SQLite database with VACUUM INTO: one snapshot, the live file untouched,\n" +
			"safe while serving. The copy is checked with integrity_check. For PostgreSQL use pg_dump (docs/operations.md).",
		Args: cobra.ExactArgs(1),
	}
	sc := newStoreCommand(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := sc.settings(); err != nil {
			return err
		}
		// Said before connecting: the answer does not depend on the server.
		if strings.HasPrefix(sc.cfg.DatabaseURL, "postgres") {
			return store.ErrPostgresBackup
		}
		st, err := sc.open(cmd.Context(), false)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Backup(cmd.Context(), args[0]); err != nil {
			return err
		}
		if err := checkBackup(cmd.Context(), args[0]); err != nil {
			return err
		}
		info, _ := os.Stat(args[0])
		fmt.Fprintf(stdout, "backup written to %s (%d bytes), integrity ok\n", args[0], info.Size())
		return nil
	}
	return cmd
}

// checkBackup opens a copy of a backup and checks its integrity, its
// foreign keys and its audit trail; it returns the number of events.
func checkBackup(ctx context.Context, path string) error {
	_, err := verifyCopy(ctx, path)
	return err
}

func verifyCopy(ctx context.Context, path string) (int64, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".verify-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	copyPath := filepath.Join(dir, "check.db")
	if err := copyFile(path, copyPath); err != nil {
		return 0, err
	}
	st, err := store.Open(ctx, "sqlite://"+copyPath)
	if err != nil {
		return 0, fmt.Errorf("the backup does not open: %w", err)
	}
	defer st.Close()
	if err := st.IntegrityCheck(ctx); err != nil {
		return 0, fmt.Errorf("the backup is damaged: %w", err)
	}
	v, err := audit.Verify(ctx, st.DB)
	if err != nil {
		return 0, fmt.Errorf("the backup's audit trail cannot be read: %w", err)
	}
	if v.Break != nil {
		return 0, fmt.Errorf("the backup's audit trail does not verify: %w", v.Break)
	}
	return v.Events, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func newRestoreCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the SQLite database with a backup, after checking it (the server must be stopped)",
		Long: "Check a backup (integrity_check, foreign keys, the audit trail's hash chain) and put it in place of the\n" +
			"database. Refuses while a server holds the data directory. The replaced database is kept beside it as\n" +
			"charter.db.before-restore-TIMESTAMP.",
		Args: cobra.ExactArgs(1),
	}
	sc := newStoreCommand(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := sc.settings(); err != nil {
			return err
		}
		path, _, err := store.SQLiteDSN(sc.cfg.DatabaseURL)
		if err != nil || strings.HasPrefix(sc.cfg.DatabaseURL, "postgres") {
			return store.ErrPostgresBackup
		}
		lock, err := store.AcquireLock(sc.cfg.DataDir)
		if err != nil {
			return err
		}
		defer lock.Release()
		events, err := verifyCopy(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		staged := path + ".restoring"
		_ = os.Remove(staged)
		if err := copyFile(args[0], staged); err != nil {
			return err
		}
		if _, err := os.Stat(path); err == nil {
			keep := path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
			if err := copyFile(path, keep); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "the replaced database is kept as %s\n", keep)
		}
		if err := store.ReplaceSQLite(staged, path); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restored %s from %s: integrity ok, audit trail ok (%d events)\n", path, args[0], events)
		return nil
	}
	return cmd
}
