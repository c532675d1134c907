package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/ports"
)

func newExportCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export a whole shop as one verifiable archive, and verify one offline",
		Long: `An export is a ZIP archive of every row of the shop in every table
(Stockade's and the app's) as JSON Lines, every file decrypted, the audit log
up to a signed checkpoint and a signed manifest with the SHA-256 of each
part. See docs/export.md.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newExportCreateCmd(load), newExportLinkCmd(load), newExportVerifyCmd(load))
	return cmd
}

func newExportCreateCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var slug, reason, out string
	cmd := &cobra.Command{
		Use:   "create --shop SLUG --reason TEXT --out FILE",
		Short: "Export a shop as an operator (audited before it runs)",
		Long: `Writes the shop's archive to FILE (it appears only on success). A
"shop.exported" event naming the reason is committed to the shop's audit log
before anything is read, the chain's head is signed with {data dir}/audit.key,
and the outcome is recorded after.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strings.TrimSpace(reason) == "" {
				return fmt.Errorf("--reason is required: %w", ports.ErrInvalid)
			}
			if out == "" || out == "-" {
				return fmt.Errorf("--out FILE is required: %w", ports.ErrInvalid)
			}
			file, err := os.CreateTemp(filepath.Dir(out), ".shop-export-*")
			if err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			defer os.Remove(file.Name()) // after a successful rename, a no-op
			defer file.Close()
			var m export.Manifest
			err = withAuditStore(c, load, func(ctx context.Context, cfg app.Config, st ports.Store) error {
				shop, err := shopBySlug(ctx, st, slug)
				if err != nil {
					return err
				}
				keys, err := app.LoadAuditKeys(cfg)
				if err != nil {
					return err
				}
				files, err := app.NewStorage(ctx, cfg, app.StorageParts{Store: st})
				if err != nil {
					return err
				}
				defer files.Close()
				x, err := export.New(export.Deps{Store: st, Files: files.Service, Signer: keys.Signer, Verifiers: keys.Verifiers})
				if err != nil {
					return err
				}
				m, err = x.Export(systemScope(ctx, shop), file, export.Options{Reason: strings.TrimSpace(reason)})
				return err
			})
			if err != nil {
				return err
			}
			if err := file.Close(); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			if err := os.Rename(file.Name(), out); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(c.ErrOrStderr(), "exported shop %s: %d tables, %d rows, %d files (%d bytes), audit log to seq %d\n",
				m.Slug, m.Tables, m.Rows, m.Objects, m.Bytes, m.Audit.Size)
			return nil
		},
	}
	cmd.Flags().StringVar(&slug, "shop", "", "the shop's slug")
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the shop's audit log; required)")
	cmd.Flags().StringVar(&out, "out", "", "write the archive to this file")
	return cmd
}

func newExportVerifyCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var vkeys []string
	cmd := &cobra.Command{
		Use:   "verify ARCHIVE [--verifier-key KEY]...",
		Short: "Verify an export offline with the audit public key alone",
		Long: `Checks the manifest's signature, every part's SHA-256, size and line
count, that every row belongs to the exported shop, that every file hashes to
the digest recorded at upload, and the exported audit chain up to its signed
checkpoint. Give the public key (stockade audit public-key) with
--verifier-key; without it the keys of {data dir}/audit.key are used. Needs no
database. Exits non-zero on any problem, listing them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var cfg app.Config
			if len(vkeys) == 0 {
				var err error
				if cfg, err = load(c); err != nil {
					return err
				}
			}
			verifiers, err := auditVerifiers(cfg, vkeys)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			rep, err := export.Verify(c.Context(), f, st.Size(), verifiers)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			m := rep.Manifest
			if !rep.OK() {
				for _, p := range rep.Problems {
					fmt.Fprintln(w, "PROBLEM", p)
				}
				return fmt.Errorf("export %s does not verify: %d problems", args[0], len(rep.Problems))
			}
			fmt.Fprintf(w, "ok: shop %s (%s) exported %s: %d tables, %d rows, %d files (%d bytes); audit chain verified to seq %d (%s), signed\n",
				m.Slug, m.Shop, m.CreatedAt.Format(time.RFC3339), m.Tables, m.Rows, m.Objects, m.Bytes, m.Audit.Size, m.Audit.Head)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&vkeys, "verifier-key", nil, "a note verifier key (stockade audit public-key); repeatable")
	return cmd
}

func newAuditAccessReviewCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var slug, since, until, format, out string
	cmd := &cobra.Command{
		Use:   "access-review --shop SLUG [--since T] [--until T] [--format jsonl|csv]",
		Short: "List every access to a shop from outside its membership",
		Long: `Operator impersonations (with their reasons) and what was done under them,
HQ access by org owners and admins, exports, erasures, operators' and the
platform's own events, oldest first, each with its audit event's seq, ID and
chain hash. --since is inclusive, --until exclusive (RFC 3339).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var s, u time.Time
			for _, p := range []struct {
				name, v string
				dst     *time.Time
			}{{"--since", since, &s}, {"--until", until, &u}} {
				if p.v == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339Nano, p.v)
				if err != nil {
					return fmt.Errorf("%s must be an RFC 3339 time: %w", p.name, ports.ErrInvalid)
				}
				*p.dst = t
			}
			w := c.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer f.Close()
				w = f
			}
			aw, err := audit.NewAccessWriter(format, w)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			var n int
			err = withAuditReader(c, load, slug, func(ctx context.Context, r *audit.Reader) error {
				n, err = r.AccessReview(ctx, s, u, aw.Write)
				return err
			})
			if err != nil {
				return err
			}
			if err := aw.Close(); err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "%d accesses from outside the membership\n", n)
			return nil
		},
	}
	cmd.Flags().StringVar(&slug, "shop", "", "the shop's slug")
	cmd.Flags().StringVar(&since, "since", "", "from this time (RFC 3339, inclusive)")
	cmd.Flags().StringVar(&until, "until", "", "before this time (RFC 3339, exclusive)")
	cmd.Flags().StringVar(&format, "format", audit.FormatJSONLines, `"jsonl" or "csv"`)
	cmd.Flags().StringVar(&out, "out", "", "write to this file (default: standard output)")
	return cmd
}

// shopBySlug reads the shop named by slug (--shop); ErrInvalid when empty.
func shopBySlug(ctx context.Context, st ports.Store, slug string) (ports.Shop, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	if slug == "" {
		return ports.Shop{}, fmt.Errorf("--shop is required: %w", ports.ErrInvalid)
	}
	var shop ports.Shop
	err := st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.Shops().GetBySlug(ctx, slug)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.Shop{}, fmt.Errorf("shop %s: %w", slug, err)
	}
	return shop, nil
}

// systemScope is ctx with the CLI's system scope in shop.
func systemScope(ctx context.Context, shop ports.Shop) context.Context {
	return access.System(ctx, shop.ID, shop.OrgID, cliActor)
}
