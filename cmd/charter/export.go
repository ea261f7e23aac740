package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/spf13/cobra"
)

func newExportCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export DATASET|bundle --from YYYY-MM-DD --to YYYY-MM-DD [-o FILE]",
		Short: "Export an evidence dataset as CSV, or the signed evidence bundle, for an audit period",
		Long: "Export one evidence dataset as CSV, from one consistent snapshot, every cell escaped against spreadsheet formulas;\n" +
			"or, with \"bundle\", a zip of every dataset, the policy PDFs in force, a signed manifest, SHA256SUMS and a README\n" +
			"(check it with charter verify-bundle). Every export is recorded in the audit trail.\n" +
			"Datasets: " + strings.Join(evidence.Names(), ", ") + ".",
		Args: cobra.ExactArgs(1),
	}
	sc := newStoreCommand(cmd)
	sc.binder.PeopleFlags(&sc.cfg)
	// A bundle signs an audit log checkpoint; the base URL names the log
	// in the first one.
	sc.binder.LinkFlags(&sc.cfg)
	var from, to, out, role string
	var bom bool
	cmd.Flags().StringVar(&from, "from", "", "first day of the audit period (YYYY-MM-DD)")
	cmd.Flags().StringVar(&to, "to", "", "last day of the audit period (YYYY-MM-DD)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	cmd.Flags().BoolVar(&bom, "bom", false, "start with a UTF-8 byte-order mark, for Excel")
	// The operator holds the database, so the CLI exports for admins unless
	// told whom the file is for.
	cmd.Flags().StringVar(&role, "role", string(auth.Admin), "the role the export is for: the audit_log withholds what it may not see (admin, editor, auditor, viewer)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		forRole := auth.Role(role)
		if !forRole.Valid() {
			return fmt.Errorf("--role must be admin, editor, auditor or viewer, not %q", role)
		}
		bundle := args[0] == "bundle"
		if !bundle {
			if _, err := evidence.Find(args[0]); err != nil {
				return err
			}
		}
		period, err := evidence.ParsePeriod(from, to)
		if err != nil {
			return err
		}
		a, err := sc.services(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer a.Store.Close()
		w := stdout
		var f *os.File
		if out != "" {
			if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
				return err
			}
			w = f
		}
		svc := a.Evidence
		var summary string
		if bundle {
			o, oerr := a.Org.Current(cmd.Context())
			company := "The company"
			if oerr == nil && o.ID != 0 {
				company = o.Name
			}
			var m *evidence.BundleManifest
			m, err = svc.Bundle(cmd.Context(), cliActor(), forRole, period, company, w)
			if err == nil {
				summary = fmt.Sprintf("evidence bundle: %d files, audit head %d", len(m.Files), m.AuditHead.Seq)
			}
		} else {
			var res *evidence.Result
			res, err = svc.Export(cmd.Context(), cliActor(), args[0], period, evidence.Options{BOM: bom, Role: forRole}, w)
			if err == nil {
				summary = fmt.Sprintf("%s: %d rows, sha256 %s", res.Dataset, res.Rows, res.SHA256)
			}
		}
		if f != nil {
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stderr, summary)
		return nil
	}
	return cmd
}

func newVerifyBundleCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify-bundle FILE.zip",
		Short: "Check an evidence bundle offline: every file's SHA-256, the manifest's signature, the audit log checkpoint and its proofs",
		Long: "Check an evidence bundle offline and print a line per file. The signature is checked against --public-key\n" +
			"(base64, as on /trust/verify), or else this installation's key (charter keys show); so is the audit log checkpoint\n" +
			"the bundle carries, and every inclusion proof must lead to its root. A changed file is named with its changed byte\n" +
			"(offset and old value), or the offsets of its first changed block when several bytes changed. Exits 1 if anything fails.",
		Args: cobra.ExactArgs(1),
	}
	sc := newStoreCommand(cmd)
	var publicKey string
	cmd.Flags().StringVar(&publicKey, "public-key", "", "the company's published Ed25519 public key, base64")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		data, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		var pub ed25519.PublicKey
		if publicKey != "" {
			raw, err := base64.StdEncoding.DecodeString(publicKey)
			if err != nil || len(raw) != ed25519.PublicKeySize {
				return fmt.Errorf("public-key: not a base64 Ed25519 public key")
			}
			pub = raw
		} else {
			if err := sc.settings(); err != nil {
				return err
			}
			key, err := packet.LoadOrCreateKey(filepath.Join(sc.cfg.DataDir, packet.KeyFile))
			if err != nil {
				return err
			}
			pub = key.Public().(ed25519.PublicKey)
		}
		checks, ok, err := evidence.VerifyBundle(data, pub)
		if err != nil {
			return err
		}
		for _, c := range checks {
			if c.OK {
				fmt.Fprintf(stdout, "ok      %s\n", c.Name)
			} else {
				fmt.Fprintf(stdout, "FAILED  %s: %s\n", c.Name, c.Problem)
			}
		}
		if !ok {
			return errors.New("the bundle does not verify")
		}
		fmt.Fprintf(stdout, "verified: %d files\n", len(checks))
		return nil
	}
	return cmd
}
