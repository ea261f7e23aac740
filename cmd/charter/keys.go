package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"path/filepath"

	"github.com/charter-registry/charter/internal/packet"
	"github.com/spf13/cobra"
)

func newKeysCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Show the key that signs packet manifests"}
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
		path := filepath.Join(sc.cfg.DataDir, packet.KeyFile)
		key, err := packet.LoadOrCreateKey(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ed25519 %s\n(private key: %s)\n", base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)), path)
		return nil
	}
	cmd.AddCommand(show)
	return cmd
}
