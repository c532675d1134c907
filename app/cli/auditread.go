package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// auditFilterFlags are the filter flags of audit list and audit export.
type auditFilterFlags struct {
	slug, actor, action, target, since, until string
}

func (f *auditFilterFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.slug, "shop", "", "the shop (required)")
	cmd.Flags().StringVar(&f.actor, "actor", "", `only this actor, e.g. "user:<id>" or "system:cli"`)
	cmd.Flags().StringVar(&f.action, "action", "", `only this action, or a prefix ending in ".*", e.g. "membership.*"`)
	cmd.Flags().StringVar(&f.target, "target", "", `only this target, e.g. "user:<id>"`)
	cmd.Flags().StringVar(&f.since, "since", "", "only events at or after this RFC 3339 time")
	cmd.Flags().StringVar(&f.until, "until", "", "only events before this RFC 3339 time")
}

func (f *auditFilterFlags) filter() (ports.AuditFilter, error) {
	out := ports.AuditFilter{Actor: f.actor, Action: f.action, Target: f.target}
	for name, pair := range map[string]struct {
		v   string
		dst *time.Time
	}{"since": {f.since, &out.Since}, "until": {f.until, &out.Until}} {
		if pair.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, pair.v)
		if err != nil {
			return out, fmt.Errorf("--%s %q is not an RFC 3339 time (e.g. 2026-11-23T09:00:00Z): %w", name, pair.v, ports.ErrInvalid)
		}
		*pair.dst = t
	}
	return out, out.Validate()
}

// withAuditReader opens the store and runs fn with an audit.Reader and a
// context carrying the CLI's system scope in the --shop shop.
func withAuditReader(c *cobra.Command, load func(*cobra.Command) (app.Config, error), slug string, fn func(ctx context.Context, r *audit.Reader) error) error {
	if strings.TrimSpace(slug) == "" {
		return fmt.Errorf("--shop is required: %w", ports.ErrInvalid)
	}
	return withAuditStore(c, load, func(ctx context.Context, _ app.Config, st ports.Store) error {
		var shop ports.Shop
		err := st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			shop, err = tx.Shops().GetBySlug(ctx, strings.ToLower(strings.TrimSpace(slug)))
			return err
		}, ports.ReadOnly())
		if err != nil {
			return fmt.Errorf("shop %s: %w", slug, err)
		}
		ctx = access.System(ctx, shop.ID, shop.OrgID, cliActor)
		return fn(ctx, audit.NewReader(audit.ReaderDeps{Store: st}))
	})
}

func newAuditListCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var f auditFilterFlags
	var limit int
	var oldest bool
	cmd := &cobra.Command{
		Use:   "list --shop SLUG [filters]",
		Short: "List a shop's audit events, newest first",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			flt, err := f.filter()
			if err != nil {
				return err
			}
			if limit < 1 || limit > 1000 {
				return fmt.Errorf("--limit must be 1 to 1000: %w", ports.ErrInvalid)
			}
			flt.Limit, flt.Newest = limit, !oldest
			return withAuditReader(c, load, f.slug, func(ctx context.Context, r *audit.Reader) error {
				page, err := r.Search(ctx, flt)
				if err != nil {
					return err
				}
				return printEvents(c.OutOrStdout(), page.Events)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many events")
	cmd.Flags().BoolVar(&oldest, "oldest", false, "oldest first")
	return cmd
}

func newAuditExportCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var f auditFilterFlags
	var format, out string
	cmd := &cobra.Command{
		Use:   "export --shop SLUG [--format jsonl|csv] [--out FILE] [filters]",
		Short: "Export a shop's audit events, oldest first (audited before it starts)",
		Long: `Writes every matching event, oldest first, as JSON Lines (the faithful
form: the hash chain can be re-verified from it) or CSV (for spreadsheets;
cells that would run as formulas are prefixed with a quote). The export is
itself audited: an "audit.exported" event is committed before any event is
read, and the export covers the log up to and including it.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			flt, err := f.filter()
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			var file *os.File
			if out != "" && out != "-" {
				// Write beside the target and rename on success, so a failed
				// export leaves no half-written file.
				file, err = os.CreateTemp(filepath.Dir(out), ".audit-export-*")
				if err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer os.Remove(file.Name()) // after a successful rename, a no-op
				defer file.Close()
				w = file
			}
			enc, err := audit.NewEncoder(format, w)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			var n int
			err = withAuditReader(c, load, f.slug, func(ctx context.Context, r *audit.Reader) error {
				var err error
				n, err = r.Export(ctx, flt, enc)
				return err
			})
			if err != nil {
				return err
			}
			if file != nil {
				if err := file.Close(); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				if err := os.Rename(file.Name(), out); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
			}
			fmt.Fprintf(c.ErrOrStderr(), "exported %d events\n", n)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", audit.FormatJSONLines, `"jsonl" or "csv"`)
	cmd.Flags().StringVar(&out, "out", "", "write to this file (default: standard output)")
	return cmd
}

// printEvents prints events as an aligned table.
func printEvents(w io.Writer, evs []ports.AuditEvent) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tOUTCOME")
	for _, e := range evs {
		actor := e.Actor
		if e.Impersonator != "" {
			actor += " (by " + e.Impersonator + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.UTC().Format(time.RFC3339), actor, e.Action, e.Target, e.Outcome)
	}
	return tw.Flush()
}
