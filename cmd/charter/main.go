// Command charter is Charter's server and its administration commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/config"
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
		newPoliciesCmd(stdout),
		newExceptionsCmd(stdout),
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

// services opens the store (migrated first when migrate is set) and builds
// every service on it; closing a.Store is the caller's.
func (sc *storeCommand) services(ctx context.Context, migrate bool) (*app.App, error) {
	st, err := sc.open(ctx, migrate)
	if err != nil {
		return nil, err
	}
	a, err := app.New(sc.cfg, st, app.Deps{})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	// A command that writes signs and reads second factors with the same
	// keys as the instances, or not at all.
	if migrate {
		if err := a.Keys.Check(ctx); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	return a, nil
}

// cliActor is the audit actor of changes made from the command line.
func cliActor() audit.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return audit.System("cli:" + name)
}
