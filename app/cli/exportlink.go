package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/ports"
)

func newExportLinkCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var slug, reason string
	cmd := &cobra.Command{
		Use:   "link --shop SLUG --reason TEXT",
		Short: "Export a shop as an operator into the object store and print an expiring download link",
		Long: `Requests an export of the shop as an operator (audited with the reason
before it runs, like export create), writes the archive into the file
storage's object store now, and prints a signed link to it on the shop's
host, valid for STOCKADE_LINKS_EXPORT_TTL (24 hours by default). The link is
a secret: whoever holds it downloads the shop's data. Housekeeping deletes
the archive when it expires.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strings.TrimSpace(reason) == "" {
				return fmt.Errorf("--reason is required: %w", ports.ErrInvalid)
			}
			return withAuditStore(c, load, func(ctx context.Context, cfg app.Config, st ports.Store) error {
				shop, err := shopBySlug(ctx, st, slug)
				if err != nil {
					return err
				}
				files, err := app.NewStorage(ctx, cfg, app.StorageParts{Store: st})
				if err != nil {
					return err
				}
				defer files.Close()
				d, err := app.NewExportDelivery(cfg, app.ExportParts{Store: st, Files: files})
				if err != nil {
					return err
				}
				ctx = systemScope(ctx, shop)
				id, err := d.Request(ctx, export.Options{Reason: strings.TrimSpace(reason)})
				if err != nil {
					return err
				}
				var job ports.Job
				err = st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
					var err error
					job, err = tx.Jobs().Get(ctx, id)
					return err
				}, ports.ReadOnly())
				if err != nil {
					return err
				}
				// Written now; the queued job, when a server claims it,
				// finds the archive stored and ends.
				if err := d.RunJob(ctx, job); err != nil {
					return err
				}
				token, exp, err := d.Link(ctx, shop.ID, id)
				if err != nil {
					return err
				}
				urls, err := httpapi.NewHostShops(st, cfg.HTTP.PublicURL, nil)
				if err != nil {
					return err
				}
				link := urls.TokenLink(shop.Slug, httpapi.ExportDownloadPath) + token
				fmt.Fprintf(c.ErrOrStderr(), "exported shop %s (export %s); the link expires %s\n", shop.Slug, id, exp.Format("2006-01-02T15:04:05Z07:00"))
				_, err = fmt.Fprintln(c.OutOrStdout(), link)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&slug, "shop", "", "the shop's slug")
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the shop's audit log; required)")
	return cmd
}
