package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// withLinks opens the store and the link service (file links only: the
// stock binary knows no app record types) and runs fn.
func withLinks(c *cobra.Command, load func(*cobra.Command) (app.Config, error), fn func(ctx context.Context, e tenancyEnv, links *capability.Service) error) error {
	return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
		links, err := app.NewLinks(e.cfg, app.LinksParts{Store: e.store})
		if err != nil {
			return err
		}
		return fn(ctx, e, links)
	})
}

func newLinkCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	link := &cobra.Command{Use: "link", Short: "Manage public capability links", Args: cobra.NoArgs,
		Long: `Public capability links (CAP-1) let whoever holds one do a fixed set of
actions to one record of a shop, without signing in, until the link expires
or is revoked. The stock binary knows file links: --type file, --record the
file's ID, action download.`}
	var slug, recordType, record, actions, ttl, linkID string
	var active bool
	create := &cobra.Command{
		Use:   "create --shop SLUG --record ID [--type file] [--actions download] [--ttl 168h]",
		Short: "Mint a link; its URL (with the token) is printed once",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var d time.Duration
			if ttl != "" {
				var err error
				if d, err = time.ParseDuration(ttl); err != nil || d <= 0 {
					return ports.Invalid("ttl", `must be a positive duration such as "72h"`)
				}
			}
			return withLinks(c, load, func(ctx context.Context, e tenancyEnv, links *capability.Service) error {
				ctx, shop, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				m, err := links.Mint(ctx, capability.MintInput{RecordType: recordType, RecordID: record, Actions: splitList(actions), TTL: d})
				if err != nil {
					return err
				}
				out := c.OutOrStdout()
				if _, err := fmt.Fprintf(out, "link %s to %s %s (%s), expires %s\n", m.Capability.ID, m.Capability.RecordType, m.Capability.RecordID,
					strings.Join(m.Capability.Actions, ", "), m.Capability.ExpiresAt.Format("2006-01-02 15:04 MST")); err != nil {
					return err
				}
				if m.Capability.RecordType == storage.LinkRecordType {
					_, err = fmt.Fprintf(out, "%s?%s=%s\n", e.urls.URL(shop.Slug, "/p/files/"+m.Capability.RecordID), httpapi.LinkTokenParam, m.Token)
				} else {
					_, err = fmt.Fprintf(out, "token %s\n", m.Token)
				}
				return err
			})
		},
	}
	create.Flags().StringVar(&recordType, "type", storage.LinkRecordType, "the record type")
	create.Flags().StringVar(&record, "record", "", "the record's ID (required)")
	create.Flags().StringVar(&actions, "actions", storage.LinkDownload, "comma-separated actions the link grants")
	create.Flags().StringVar(&ttl, "ttl", "", "lifetime, e.g. 72h (default STOCKADE_LINKS_DEFAULT_TTL, at most STOCKADE_LINKS_MAX_TTL)")
	_ = create.MarkFlagRequired("record")

	list := &cobra.Command{
		Use: "list --shop SLUG --record ID [--type file] [--active]", Short: "List a record's links (never their tokens)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withLinks(c, load, func(ctx context.Context, e tenancyEnv, links *capability.Service) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				list, err := links.List(ctx, recordType, record, active)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tACTIONS\tCREATED\tEXPIRES\tREVOKED")
				for _, l := range list {
					revoked := "-"
					if !l.RevokedAt.IsZero() {
						revoked = l.RevokedAt.Format("2006-01-02 15:04 MST")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.ID, strings.Join(l.Actions, ","), l.CreatedAt.Format("2006-01-02 15:04 MST"),
						l.ExpiresAt.Format("2006-01-02 15:04 MST"), revoked)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&recordType, "type", storage.LinkRecordType, "the record type")
	list.Flags().StringVar(&record, "record", "", "the record's ID (required)")
	list.Flags().BoolVar(&active, "active", false, "only links usable now")
	_ = list.MarkFlagRequired("record")

	revoke := &cobra.Command{
		Use: "revoke --shop SLUG --link ID", Short: "Revoke a link", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			id, err := ports.ParseCapabilityID(linkID)
			if err != nil {
				return err
			}
			return withLinks(c, load, func(ctx context.Context, e tenancyEnv, links *capability.Service) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				if _, err := links.Revoke(ctx, id); err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "revoked link %s\n", id)
				return err
			})
		},
	}
	revoke.Flags().StringVar(&linkID, "link", "", "the link's ID (required)")
	_ = revoke.MarkFlagRequired("link")

	sweep := &cobra.Command{
		Use: "sweep --shop SLUG", Short: "Delete the shop's expired links", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withLinks(c, load, func(ctx context.Context, e tenancyEnv, links *capability.Service) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				n, err := links.Sweep(ctx)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "deleted %d expired links\n", n)
				return err
			})
		},
	}
	for _, cmd := range []*cobra.Command{create, list, revoke, sweep} {
		cmd.Flags().StringVar(&slug, "shop", "", "the shop's slug (required)")
		_ = cmd.MarkFlagRequired("shop")
	}
	link.AddCommand(create, list, revoke, sweep)
	return link
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
