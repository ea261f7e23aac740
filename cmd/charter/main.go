// Command charter is Charter's server and its administration commands.
package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		if _, ok := err.(exitError); !ok {
			fmt.Fprintln(stderr, "charter:", err)
		}
		return 1
	}
	return 0
}

// exitError fails a command whose output already said why.
type exitError struct{}

func (exitError) Error() string { return "failed" }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "charter",
		Short:         "Charter: the self-hosted compliance registry behind a Security & Privacy page",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newServeCmd(stdout, stderr),
		newMigrateCmd(stdout),
		newSeedCmd(stdout),
		newUserCmd(stdout),
		newTokenCmd(stdout),
		newAuditCmd(stdout),
		newImportCmd(stdout),
		newPeopleCmd(stdout),
		newSubprocessorsCmd(stdout),
		newKeysCmd(stdout),
		newExportCmd(stdout, stderr),
		newVerifyBundleCmd(stdout),
		newBackupCmd(stdout),
		newRestoreCmd(stdout),
		&cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs,
			Run: func(cmd *cobra.Command, _ []string) { fmt.Fprintln(stdout, "charter", version) }},
	)
	return root
}

// storeCommand gives a command the database settings and opens the store.
type storeCommand struct {
	cfg    config.Config
	binder *config.Binder
}

func newStoreCommand(cmd *cobra.Command) *storeCommand {
	sc := &storeCommand{cfg: config.Defaults(), binder: config.NewBinder(cmd.Flags())}
	sc.binder.StoreFlags(&sc.cfg)
	return sc
}

// settings applies CHARTER_* variables and checks the result.
func (sc *storeCommand) settings() error {
	if err := sc.binder.ApplyEnv(os.LookupEnv); err != nil {
		return err
	}
	return sc.cfg.Finish()
}

// open opens the database and, when migrate is set, brings its schema up to date.
func (sc *storeCommand) open(ctx context.Context, migrate bool) (*store.Store, error) {
	if err := sc.settings(); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, sc.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := st.Migrate(ctx); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	return st, nil
}

// peopleSettings are the people area's settings from the configuration.
func peopleSettings(c config.Config) people.Settings {
	return people.Settings{NewHireDays: c.AckDueNewHireDays, NewVersionDays: c.AckDueNewVersionDays,
		BackgroundCheckDays: c.BackgroundCheckDays, AckLinkTTL: c.AckLinkTTL, BaseURL: c.BaseURL}
}

// privacyService builds the privacy registers; public DPA requests are
// announced to the operations team (editors and admins).
func privacyService(st *store.Store, c config.Config, now func() time.Time, fs *files.Store, orgs *org.Service, users *auth.Service) *privacy.Service {
	return privacy.NewService(st.DB, now, fs, orgs, privacy.Settings{BaseURL: c.BaseURL,
		TeamAddresses: func(ctx context.Context) ([]string, error) { return users.Emails(ctx, auth.Editor) }})
}

// packetService builds the policy packets, with the signing key from the
// data directory (created on first start).
func packetService(st *store.Store, c config.Config, now func() time.Time, orgs *org.Service, users *auth.Service) (*packet.Service, error) {
	key, err := signingKey(c)
	if err != nil {
		return nil, err
	}
	return packet.NewService(st.DB, now, orgs, key, packet.Settings{BaseURL: c.BaseURL,
		AutoApproveDPACustomers: c.PacketAutoApproveDPA, AutoApproveDomains: c.PacketAutoApproveDomains,
		TeamAddresses: func(ctx context.Context) ([]string, error) { return users.Emails(ctx, auth.Editor) }}), nil
}

// signingKey is the Ed25519 key that signs packet manifests and evidence
// bundles, kept in the data directory and created on first use.
func signingKey(c config.Config) (ed25519.PrivateKey, error) {
	return packet.LoadOrCreateKey(filepath.Join(c.DataDir, packet.KeyFile))
}

// evidenceService builds the exports.
func evidenceService(st *store.Store, c config.Config, now func() time.Time) (*evidence.Service, error) {
	key, err := signingKey(c)
	if err != nil {
		return nil, err
	}
	return evidence.NewService(st, now, evidenceRules(c), key), nil
}

// evidenceRules are the people settings that exports compute due dates by.
func evidenceRules(c config.Config) evidence.Rules {
	return evidence.Rules{NewHireDays: c.AckDueNewHireDays, NewVersionDays: c.AckDueNewVersionDays}
}

// advisoryService builds the advisories; their IDs start with the
// company's name, e.g. POSTHOG-SA-2026-0001.
func advisoryService(ctx context.Context, st *store.Store, c config.Config, now func() time.Time, orgs *org.Service, priv *privacy.Service) (*advisory.Service, error) {
	prefix := "CHARTER"
	if o, err := orgs.Get(ctx); err != nil {
		return nil, err
	} else if o != nil {
		if p := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r - 'a' + 'A'
			}
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
				return r
			}
			return -1
		}, o.Name); p != "" {
			prefix = p
		}
	}
	return advisory.NewService(st.DB, now, orgs, priv, advisory.Settings{BaseURL: c.BaseURL, IDPrefix: prefix + "-SA"}), nil
}

// cliActor is the audit actor of changes made from the command line.
func cliActor() audit.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return audit.System("cli:" + name)
}
