package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditlog"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/keys"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/spf13/cobra"
	"gorm.io/gorm"
)

func newMigrateCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply pending database migrations", Args: cobra.NoArgs}
	sc := newStoreCommand(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		st, err := sc.open(cmd.Context(), false)
		if err != nil {
			return err
		}
		defer st.Close()
		v, err := st.Migrate(cmd.Context())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "database schema at version %d (%s)\n", v, st.Dialect)
		return nil
	}
	return cmd
}

func newSeedCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "seed", Short: "Load the policies and organization profile; create the first admin on an empty database", Args: cobra.NoArgs}
	sc := newStoreCommand(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		if err := a.Bootstrap(cmd.Context(), stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "seed loaded")
		return nil
	}
	return cmd
}

func newUserCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage operator accounts"}
	add := &cobra.Command{Use: "add", Short: "Add a user and print a one-time password", Args: cobra.NoArgs}
	sc := newStoreCommand(add)
	var email, role, name string
	add.Flags().StringVar(&email, "email", "", "the user's email (required)")
	add.Flags().StringVar(&role, "role", "", "admin, editor, auditor or viewer (required)")
	add.Flags().StringVar(&name, "name", "", "the user's name")
	var until string
	add.Flags().StringVar(&until, "until", "", "last day the account works, YYYY-MM-DD (an auditor's defaults to 90 days ahead)")
	_ = add.MarkFlagRequired("email")
	_ = add.MarkFlagRequired("role")
	add.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		var last *time.Time
		if until != "" {
			t, err := time.Parse(time.DateOnly, until)
			if err != nil {
				return fmt.Errorf("until: %q is not a date as YYYY-MM-DD", until)
			}
			last = &t
		}
		pw := auth.GeneratePassword()
		u, err := a.Users.Create(cmd.Context(), cliActor(),
			auth.NewUser{Email: email, Name: name, Role: auth.Role(role), Password: pw, AccessUntil: last})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s added with role %s\npassword (shown once): %s\n", u.Email, u.Role, pw)
		if u.AccessUntil != nil {
			fmt.Fprintf(stdout, "access until %s (inclusive)\n", u.AccessUntil.Format(time.DateOnly))
		}
		return nil
	}

	disable := &cobra.Command{Use: "disable", Short: "Disable a user: ends their sessions and revokes their API tokens at once", Args: cobra.NoArgs}
	dsc := newStoreCommand(disable)
	var demail string
	disable.Flags().StringVar(&demail, "email", "", "the user's email (required)")
	_ = disable.MarkFlagRequired("email")
	disable.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := dsc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		users := a.Users
		u, err := users.ByEmail(cmd.Context(), demail)
		if err != nil {
			return err
		}
		if _, err := users.Disable(cmd.Context(), cliActor(), u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s disabled; their sessions and API tokens no longer work\n", u.Email)
		return nil
	}

	list := &cobra.Command{Use: "list", Short: "List users", Args: cobra.NoArgs}
	lsc := newStoreCommand(list)
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := lsc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		us, err := a.Users.List(cmd.Context())
		if err != nil {
			return err
		}
		for _, u := range us {
			state := "active"
			if !u.Active() {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "%-40s %-8s %s\n", u.Email, u.Role, state)
		}
		return nil
	}
	cmd.AddCommand(add, disable, list, newUserRecoveryCmd(stdout, "reset-password",
		"Give a user a new one-time password, printed once; they must replace it at their next sign-in, and their sessions end",
		func(ctx context.Context, users *auth.Service, u *auth.User) (string, error) {
			pw, _, err := users.ResetPassword(ctx, cliActor(), u.ID)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("password of %s reset; their sessions were ended\none-time password (shown once): %s\nthey must choose a new password at their next sign-in\n", u.Email, pw), nil
		}),
		newUserRecoveryCmd(stdout, "reset-mfa",
			"Remove a user's two-factor sign-in and recovery codes so they set it up again (a lost phone); their sessions end",
			func(ctx context.Context, users *auth.Service, u *auth.User) (string, error) {
				if _, err := users.ResetMFA(ctx, cliActor(), u.ID); err != nil {
					return "", err
				}
				return fmt.Sprintf("two-factor sign-in of %s removed; their sessions were ended, and they set it up again at their next sign-in\n", u.Email), nil
			}),
		newUserRecoveryCmd(stdout, "unlock",
			"Forget the failed sign-ins counted against a user's account, so that a throttled account signs in again at once",
			func(ctx context.Context, users *auth.Service, u *auth.User) (string, error) {
				n, err := users.Unlock(ctx, cliActor(), u.ID)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%d counted failed sign-in(s) of %s cleared\n", n, u.Email), nil
			}))
	return cmd
}

// newUserRecoveryCmd is a command acting on one user named by --email:
// do makes the change (audited as the CLI's actor) and says what it did.
func newUserRecoveryCmd(stdout io.Writer, use, short string, do func(context.Context, *auth.Service, *auth.User) (string, error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	sc := newStoreCommand(cmd)
	var email string
	cmd.Flags().StringVar(&email, "email", "", "the user's email (required)")
	_ = cmd.MarkFlagRequired("email")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		users := a.Users
		u, err := users.ByEmail(cmd.Context(), email)
		if err != nil {
			return err
		}
		out, err := do(cmd.Context(), users, u)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, out)
		return nil
	}
	return cmd
}

// parseExpiry reads durations such as 90d, 12h or 30m.
func parseExpiry(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--expires %q: use a number of days such as 90d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: use a duration such as 90d or 12h", s)
	}
	return d, nil
}

// maxTokenLifetime keeps every API token expiring (SECURITY.md).
const maxTokenLifetime = 366 * 24 * time.Hour

func newTokenCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	create := &cobra.Command{Use: "create", Short: "Create an API token for a user and print it once", Args: cobra.NoArgs}
	sc := newStoreCommand(create)
	var email, name, expires string
	create.Flags().StringVar(&email, "email", "", "the user the token acts as (required)")
	create.Flags().StringVar(&name, "name", "", "what the token is for, e.g. \"HRIS sync\" (required)")
	create.Flags().StringVar(&expires, "expires", "90d", "lifetime, such as 90d or 12h; at most 366d")
	_ = create.MarkFlagRequired("email")
	_ = create.MarkFlagRequired("name")
	create.RunE = func(cmd *cobra.Command, _ []string) error {
		ttl, err := parseExpiry(expires)
		if err != nil {
			return err
		}
		if ttl > maxTokenLifetime {
			return fmt.Errorf("--expires %q: at most 366d", expires)
		}
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		secret, t, err := a.Users.CreateToken(cmd.Context(), cliActor(), email, name, ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %q created for %s, expires %s\n%s\n", t.Name, notify.NormalizeAddress(email),
			t.ExpiresAt.UTC().Format(time.RFC3339), secret)
		return nil
	}

	list := &cobra.Command{Use: "list", Short: "List API tokens (never their secrets)", Args: cobra.NoArgs}
	lsc := newStoreCommand(list)
	var listEmail string
	list.Flags().StringVar(&listEmail, "email", "", "only this user's tokens")
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := lsc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		users := a.Users
		var userID int64
		if listEmail != "" {
			u, err := users.ByEmail(cmd.Context(), listEmail)
			if err != nil {
				return err
			}
			userID = u.ID
		}
		tokens, err := users.ListTokens(cmd.Context(), userID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-6s %-30s %-24s %-10s %-20s %s\n", "ID", "USER", "NAME", "STATE", "EXPIRES", "LAST USED")
		for _, t := range tokens {
			state := "active"
			switch {
			case t.RevokedAt != nil:
				state = "revoked"
			case !t.Active(time.Now()):
				state = "expired"
			}
			fmt.Fprintf(stdout, "%-6d %-30s %-24s %-10s %-20s %s\n", t.ID, t.Email, t.Name, state, stamp(t.ExpiresAt), stamp(t.LastUsedAt))
		}
		return nil
	}

	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke an API token; it stops working on its next request", Args: cobra.ExactArgs(1)}
	rsc := newStoreCommand(revoke)
	revoke.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("token ID %q: use the number shown by charter token list", args[0])
		}
		a, err := rsc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		t, err := a.Users.RevokeToken(cmd.Context(), cliActor(), id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d (%q) revoked\n", t.ID, t.Name)
		return nil
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// stamp formats an optional time for listings.
func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func newAuditCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Work with the audit trail and its signed log"}
	verify := &cobra.Command{Use: "verify", Short: "Recompute the audit trail's hash chain and the newest checkpoint's root; report what is broken", Args: cobra.NoArgs}
	sc := newStoreCommand(verify)
	verify.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := sc.services(cmd.Context(), false)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		res, err := audit.Verify(cmd.Context(), a.Store.DB)
		if err != nil {
			return err
		}
		failed := false
		if res.Break != nil {
			fmt.Fprintf(stdout, "FAILED: seq %d: %s (%d events verified before it)\n", res.Break.Seq, res.Break.Reason, res.Events)
			failed = true
		}
		// The chain alone passes when every hash after a rewritten row was
		// recomputed; the signed checkpoints do not.
		checked, bad, err := a.AuditLog.CheckAll(cmd.Context())
		switch {
		case errors.Is(err, auditlog.ErrNoCheckpoint):
			if !failed {
				fmt.Fprintf(stdout, "ok: %d events, head %s\n", res.Events, res.Head)
			}
		case err != nil:
			return err
		case bad.Problem != "":
			fmt.Fprintf(stdout, "FAILED: %s: %s (%d older checkpoint(s) verified)\n", bad.Checkpoint.Name(), bad.Problem, checked)
			failed = true
		case !failed:
			latest, err := a.AuditLog.Latest(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "ok: %d events, head %s\nok: %d checkpoint(s) verified, the newest %s\n", res.Events, res.Head, checked, latest.Name())
		}
		if failed {
			return exitError{}
		}
		return nil
	}

	checkpoint := &cobra.Command{Use: "checkpoint", Short: "Sign a checkpoint of the audit log now and print it (the signed note)",
		Long: "Sign a checkpoint of the audit log now, unless the newest one already covers every event, and print it.\n" +
			"Save the output: charter audit verify-consistency FILE later proves the log still extends it.", Args: cobra.NoArgs}
	csc := newStoreCommand(checkpoint)
	csc.binder.LinkFlags(&csc.cfg) // the base URL names the log in its first checkpoint
	checkpoint.RunE = func(cmd *cobra.Command, _ []string) error {
		a, err := csc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		c, _, err := a.AuditLog.Checkpoint(cmd.Context(), "command")
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, c.Note)
		return nil
	}

	consistency := &cobra.Command{Use: "verify-consistency OLD.checkpoint",
		Short: "Prove that the audit log extends a checkpoint saved earlier",
		Long: "Verify OLD's signature with this log's verifier keys, prove with an RFC 9162 consistency proof that the\n" +
			"newest checkpoint extends it, and recompute both roots from the audit events as they are now. Exits 1 otherwise.",
		Args: cobra.ExactArgs(1)}
	vsc := newStoreCommand(consistency)
	consistency.RunE = func(cmd *cobra.Command, args []string) error {
		old, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		a, err := vsc.services(cmd.Context(), false)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		res, err := a.AuditLog.CheckExtends(cmd.Context(), old)
		if err != nil {
			fmt.Fprintf(stdout, "FAILED: %s: %v\n", args[0], err)
			return exitError{}
		}
		fmt.Fprintf(stdout, "ok: the log at %s extends %s (tree size %d, signed by %s)\n", res.Latest.Name(), args[0], res.Old.TreeSize, res.Old.SignedBy)
		return nil
	}

	rotate := &cobra.Command{Use: "rotate-key --new-key FILE",
		Short: "Rotate the signing key: announce the new key, signed by the current one, and record its fingerprint",
		Long: "Make FILE a new Ed25519 key (kept if it exists), record the rotation as an audit event, sign a last\n" +
			"checkpoint with the current key, and store an announcement naming both verifier keys, signed by both,\n" +
			"with the new key's fingerprint in the same transaction. Instances holding the old key then fail /readyz\n" +
			"and refuse to start: give every instance FILE (CHARTER_SIGNING_KEY_FILE, or the data directory's\n" +
			packet.KeyFile + "; keep the old file) and restart them.", Args: cobra.NoArgs}
	rsc := newStoreCommand(rotate)
	rsc.binder.LinkFlags(&rsc.cfg)
	var newKeyFile string
	rotate.Flags().StringVar(&newKeyFile, "new-key", "", "file of the new key's 32-byte seed (created, mode 0600, if missing)")
	rotate.RunE = func(cmd *cobra.Command, _ []string) error {
		if newKeyFile == "" {
			return errors.New("--new-key is required")
		}
		a, err := rsc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		by := cliActor()
		// The key this command holds must be the recorded one (recorded
		// now if no instance has started since the upgrade).
		if err := a.Keys.Establish(cmd.Context(), by); err != nil {
			return err
		}
		newKey, err := packet.LoadOrCreateKey(newKeyFile)
		if err != nil {
			return err
		}
		fp := keys.SigningFingerprint(newKey.Public().(ed25519.PublicKey))
		ann, err := a.AuditLog.AnnounceKeyAnd(cmd.Context(), by, newKey, func(tx *gorm.DB) error {
			return keys.Replace(tx, by, a.Now(), keys.Signing, fp)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "announced at tree size %d:\n%s\nold verifier key: %s\nnew verifier key: %s\nnew fingerprint: %s\n"+
			"Instances still holding the old key now fail /readyz and refuse to start. Give every instance %s:\n"+
			"set CHARTER_SIGNING_KEY_FILE to it, or (one instance without that setting) keep a copy of %s and move %s there;\n"+
			"then restart them.\n",
			ann.TreeSize, ann.Note, ann.OldKey, ann.NewKey, fp, newKeyFile, app.SigningKeyPath(rsc.cfg), newKeyFile)
		return nil
	}
	cmd.AddCommand(verify, checkpoint, consistency, rotate)
	return cmd
}
