package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

func newAuditCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read, export, verify and checkpoint the shops' audit logs",
		Long: `Each shop's audit log is a hash chain; checkpoints are signed notes of a
chain's head, kept next to the log. The signing key lives in
{data dir}/audit.key, created on first use (keep it out of the database's
backups).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newAuditVerifyCmd(load), newAuditCheckpointCmd(load), newAuditPublicKeyCmd(load),
		newAuditListCmd(load), newAuditExportCmd(load), newAuditAccessReviewCmd(load))
	return cmd
}

func newAuditVerifyCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var slug string
	var vkeys []string
	cmd := &cobra.Command{
		Use:   "verify [--shop SLUG] [--verifier-key KEY…]",
		Short: "Verify the audit logs of one shop or of all shops",
		Long: `Walk each shop's audit log and check its hash chain and its signed
checkpoints. Prints one line per shop; on tampering, exits non-zero with one
line naming the shop, the first bad event's sequence number and the kind:
edited, deleted, inserted, reordered, truncated, checkpoint-mismatch,
checkpoint-regression, bad-signature or prefix-changed.

Checkpoints are checked with the key in {data dir}/audit.key, or only with
the --verifier-key public keys given (as printed by audit public-key).
Verify only reads keys: without either, a shop with checkpoints is
reported NOT VERIFIED and the command fails, but not as tampering.

Events from before the hash chain (schema version 7) are accepted only as
each shop's first events, as many as were fixed when the chain began; an
unhashed event after them is reported as edited, a changed prefix as
prefix-changed.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAuditStore(c, load, func(ctx context.Context, cfg app.Config, st ports.Store) error {
				verifiers, noKey := auditVerifiers(cfg, vkeys)
				if noKey != nil && !errors.Is(noKey, ports.ErrNotFound) {
					return noKey
				}
				var first error
				err := eachShop(ctx, st, slug, func(sh ports.Shop) error {
					if noKey != nil {
						// No key to check checkpoints with: chains without
						// any still verify; a shop with some is not judged.
						n, err := latestCheckpoint(ctx, st, sh.ID)
						if err != nil {
							return err
						}
						if n > 0 {
							if _, err := fmt.Fprintf(c.OutOrStdout(), "%s: NOT VERIFIED: %d checkpoint(s) and no key to check them\n", sh.Slug, n); err != nil {
								return err
							}
							if first == nil {
								first = fmt.Errorf("shop %s: cannot check its checkpoints: %w; give the public key with --verifier-key (audit public-key prints it where the key is)", sh.Slug, noKey)
							}
							return nil
						}
						verifiers = note.VerifierList()
					}
					rep, err := audit.Verify(ctx, st, sh.ID, verifiers)
					if err != nil {
						return err
					}
					if err := printReport(c.OutOrStdout(), sh, rep); err != nil {
						return err
					}
					if !rep.OK() && first == nil {
						first = fmt.Errorf("%w: shop %s: %s", audit.ErrTampered, sh.Slug, rep.Problems[0])
					}
					return nil
				})
				if err != nil {
					return err
				}
				return first
			})
		},
	}
	cmd.Flags().StringVar(&slug, "shop", "", "verify this shop only (default: every shop)")
	cmd.Flags().StringArrayVar(&vkeys, "verifier-key", nil, "a note verifier key to check checkpoints with, instead of the key file (repeatable)")
	return cmd
}

func newAuditCheckpointCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var slug string
	var printNote bool
	cmd := &cobra.Command{
		Use:   "checkpoint [--shop SLUG] [--note]",
		Short: "Sign and store a checkpoint of one shop's or every shop's audit log",
		Long: `Sign the head of each shop's audit log with the key in {data dir}/audit.key
and store the checkpoint, after checking the events since the previous one.
A log that fails the check is not signed: the command stops with one line
naming the shop, the sequence number and the kind of tampering. Run it
periodically; with --note it also prints each signed note, to keep outside
the database.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAuditStore(c, load, func(ctx context.Context, cfg app.Config, st ports.Store) error {
				keys, err := app.LoadAuditKeys(cfg)
				if err != nil {
					return err
				}
				out := c.OutOrStdout()
				return eachShop(ctx, st, slug, func(sh ports.Shop) error {
					before, err := latestCheckpoint(ctx, st, sh.ID)
					if err != nil {
						return err
					}
					cp, err := audit.Checkpoint(ctx, st, sh.ID, keys.Signer, keys.Verifiers)
					var te *audit.TamperError
					switch {
					case errors.As(err, &te):
						return fmt.Errorf("%w: shop %s: %s (not signed)", audit.ErrTampered, sh.Slug, te.Problem)
					case err != nil:
						return fmt.Errorf("shop %s: %w", sh.Slug, err)
					case cp.N == 0:
						_, err = fmt.Fprintf(out, "%s: nothing to sign yet\n", sh.Slug)
					case cp.N == before:
						_, err = fmt.Fprintf(out, "%s: checkpoint %d at seq %d (unchanged)\n", sh.Slug, cp.N, cp.Size)
					default:
						_, err = fmt.Fprintf(out, "%s: checkpoint %d at seq %d\n", sh.Slug, cp.N, cp.Size)
					}
					if err == nil && printNote && cp.N != 0 {
						_, err = io.WriteString(out, cp.Note)
					}
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&slug, "shop", "", "checkpoint this shop only (default: every shop)")
	cmd.Flags().BoolVar(&printNote, "note", false, "print each signed note after its line")
	return cmd
}

func newAuditPublicKeyCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "public-key",
		Short: "Print the verifier key of the audit checkpoints (for audit verify --verifier-key)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load(c)
			if err != nil {
				return err
			}
			if err := app.PrepareDataDir(cfg); err != nil {
				return err
			}
			keys, err := app.LoadAuditKeys(cfg)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(c.OutOrStdout(), keys.VerifierKey)
			return err
		},
	}
}

// withAuditStore opens the configured store (migrating the embedded
// SQLite database like serve does), runs fn and closes the store.
func withAuditStore(c *cobra.Command, load func(*cobra.Command) (app.Config, error), fn func(ctx context.Context, cfg app.Config, st ports.Store) error) error {
	cfg, err := load(c)
	if err != nil {
		return err
	}
	if err := app.PrepareDataDir(cfg); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := app.OpenStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, cfg, st)
}

// auditVerifiers returns the verifiers for the given public keys, or those
// of the key file when none are given. It never creates the key file: an
// error matching ports.ErrNotFound when there is none.
func auditVerifiers(cfg app.Config, vkeys []string) (note.Verifiers, error) {
	if len(vkeys) == 0 {
		keys, err := app.ReadAuditKeys(cfg)
		return keys.Verifiers, err
	}
	var list []note.Verifier
	for i, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("--verifier-key %d: not a note verifier key: %w", i+1, ports.ErrInvalid)
		}
		list = append(list, v)
	}
	return note.VerifierList(list...), nil
}

// eachShop calls fn with the shop named by slug, or with every shop in ID
// order when slug is empty.
func eachShop(ctx context.Context, st ports.Store, slug string, fn func(ports.Shop) error) error {
	if slug != "" {
		var sh ports.Shop
		err := st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			sh, err = tx.Shops().GetBySlug(ctx, slug)
			return err
		}, ports.ReadOnly())
		if err != nil {
			return fmt.Errorf("shop %s: %w", slug, err)
		}
		return fn(sh)
	}
	lister, ok := st.(ports.AuditShopLister)
	if !ok {
		return fmt.Errorf("this store cannot list its shops; name one with --shop: %w", ports.ErrUnsupported)
	}
	for after := (ports.ShopID{}); ; {
		ids, err := lister.AuditShops(ctx, after, 100)
		if err != nil || len(ids) == 0 {
			return err
		}
		shops := make([]ports.Shop, len(ids))
		err = st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			for i, id := range ids {
				if shops[i], err = tx.Shops().Get(ctx, id); err != nil {
					return err
				}
			}
			return nil
		}, ports.ReadOnly())
		if err != nil {
			return err
		}
		for _, sh := range shops {
			if err := fn(sh); err != nil {
				return err
			}
		}
		after = ids[len(ids)-1]
	}
}

// latestCheckpoint returns the N of shop's latest checkpoint, 0 if none.
func latestCheckpoint(ctx context.Context, st ports.Store, shop ports.ShopID) (int64, error) {
	var n int64
	err := st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		c, err := tx.AuditCheckpoints().Latest(ctx)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		n = c.N
		return err
	}, ports.ReadOnly())
	return n, err
}

// printReport writes one line for a shop's verification.
func printReport(w io.Writer, sh ports.Shop, rep audit.Report) error {
	status := "ok"
	if !rep.OK() {
		status = "TAMPERED: " + rep.Problems[0].String()
	}
	line := fmt.Sprintf("%s: %s; %d events", sh.Slug, status, rep.Events)
	if rep.Unhashed > 0 {
		line += fmt.Sprintf(" (%d from before the chain, unhashed)", rep.Unhashed)
	}
	if rep.Checkpoint.N != 0 {
		line += fmt.Sprintf("; checkpoint %d at seq %d", rep.Checkpoint.N, rep.Checkpoint.Size)
	} else {
		line += "; no checkpoint"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
