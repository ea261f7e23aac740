package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/keys"
	"github.com/spf13/cobra"
)

func newKeysCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Show and rotate the keys every instance shares"}
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the Ed25519 public key that verifies packet manifests (created on first use)",
		Args:  cobra.NoArgs,
	}
	sc := newStoreCommand(show)
	show.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := sc.settings(); err != nil {
			return err
		}
		path, key, err := app.LoadSigningKey(sc.cfg)
		if err != nil {
			return err
		}
		pub := key.Public().(ed25519.PublicKey)
		fmt.Fprintf(stdout, "ed25519 %s\n(private key: %s; fingerprint %s)\n", base64.StdEncoding.EncodeToString(pub), path, keys.SigningFingerprint(pub))
		return nil
	}
	cmd.AddCommand(show)
	return cmd
}
