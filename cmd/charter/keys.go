package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/keys"
	"github.com/spf13/cobra"
	"gorm.io/gorm"
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

	rotateMFA := &cobra.Command{Use: "rotate-mfa --new-key FILE",
		Short: "Re-encrypt every TOTP secret under a new MFA key and record its fingerprint",
		Long: "Make FILE a new 32-byte key (kept if it exists), re-encrypt every stored TOTP secret and webhook signing\n" +
			"secret under it and record its fingerprint, in one transaction. Instances holding the old key then fail\n" +
			"/readyz and refuse to start: give every instance FILE (CHARTER_MFA_KEY_FILE, or the data directory's " + auth.MFAKeyFile + ") and restart them.\n" +
			"A two-factor enrolment begun before must be started again.",
		Args: cobra.NoArgs}
	msc := newStoreCommand(rotateMFA)
	var newKeyFile string
	rotateMFA.Flags().StringVar(&newKeyFile, "new-key", "", "file of the new 32-byte key (created, mode 0600, if missing)")
	rotateMFA.RunE = func(cmd *cobra.Command, _ []string) error {
		if newKeyFile == "" {
			return errors.New("--new-key is required")
		}
		a, err := msc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		by := cliActor()
		// Only the recorded key opens the stored secrets.
		if err := a.Keys.Establish(cmd.Context(), by); err != nil {
			return err
		}
		newKey, err := auth.LoadOrCreateMFAKey(newKeyFile)
		if err != nil {
			return err
		}
		fp := keys.MFAFingerprint(newKey)
		n, err := a.Users.RotateMFAKey(cmd.Context(), by, newKey, func(tx *gorm.DB) error {
			// Webhook signing secrets are sealed under the same key.
			if _, err := a.Webhooks.Reseal(tx, newKey); err != nil {
				return err
			}
			return keys.Replace(tx, by, a.Now(), keys.MFA, fp)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "re-encrypted %d TOTP secrets under %s (fingerprint %s).\n"+
			"Instances still holding the old key now fail /readyz and refuse to start. Give every instance %s:\n"+
			"set CHARTER_MFA_KEY_FILE to it, or (one instance without that setting) keep a copy of %s and move %s there;\n"+
			"then restart them.\n", n, newKeyFile, fp, newKeyFile, app.MFAKeyPath(msc.cfg), newKeyFile)
		return nil
	}
	cmd.AddCommand(show, rotateMFA)
	return cmd
}
