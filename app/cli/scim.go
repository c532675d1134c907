package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/scim"
	"github.com/stockadehq/stockade/ports"
)

// newOrgSCIMCmd is `stockade org scim`: the operator's path to an org's
// SCIM provisioning (AUTH-14), acting as the CLI in a shop of the org,
// audited as "system:cli" in that shop's log.
func newOrgSCIMCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	root := &cobra.Command{Use: "scim", Short: "Manage an org's SCIM provisioning: tokens and group-to-role mappings", Args: cobra.NoArgs}
	token := &cobra.Command{Use: "token", Short: "Create, list and revoke an org's SCIM bearer tokens", Args: cobra.NoArgs}
	var slug, id string
	withSCIM := func(c *cobra.Command, fn func(ctx context.Context, svc *scim.Service) error) error {
		return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
			ctx, _, err := e.inShop(ctx, slug)
			if err != nil {
				return err
			}
			svc, err := scim.New(scim.Deps{Store: e.store})
			if err != nil {
				return err
			}
			return fn(ctx, svc)
		})
	}
	create := &cobra.Command{
		Use:   "create --shop SLUG",
		Short: "Make a SCIM token for the org of a shop; it is printed once",
		Long: `Make a bearer token for the org's identity provider (Okta, Microsoft
Entra ID, …) to provision users and groups at {STOCKADE_HTTP_PUBLIC_URL}/scim/v2.
The token is printed this once and kept only as its SHA-256; it alone names
the org. Revoke it with "org scim token revoke".`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withSCIM(c, func(ctx context.Context, svc *scim.Service) error {
				tok, secret, err := svc.CreateToken(ctx)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "token %s (shown once): %s\n", tok.ID, secret)
				return err
			})
		},
	}
	list := &cobra.Command{
		Use: "list --shop SLUG", Short: "List the org's SCIM tokens (never their secrets)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withSCIM(c, func(ctx context.Context, svc *scim.Service) error {
				toks, err := svc.ListTokens(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCREATED\tREVOKED")
				for _, t := range toks {
					revoked := "-"
					if !t.RevokedAt.IsZero() {
						revoked = t.RevokedAt.Format("2006-01-02 15:04 MST")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.CreatedAt.Format("2006-01-02 15:04 MST"), revoked)
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use: "revoke --shop SLUG --id ID", Short: "Revoke one of the org's SCIM tokens at once", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			tid, err := ports.ParseSCIMTokenID(id)
			if err != nil {
				return err
			}
			return withSCIM(c, func(ctx context.Context, svc *scim.Service) error {
				if err := svc.RevokeToken(ctx, tid); err != nil {
					return err
				}
				_, err := fmt.Fprintf(c.OutOrStdout(), "revoked token %s\n", tid)
				return err
			})
		},
	}
	revoke.Flags().StringVar(&id, "id", "", "the token's ID (required)")
	_ = revoke.MarkFlagRequired("id")
	var group, target, role string
	mapCmd := &cobra.Command{
		Use:   "map --shop SLUG --group NAME|ID --target SLUG --role ROLE",
		Short: "Give the members of a SCIM group a role in a shop of the org",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withSCIM(c, func(ctx context.Context, svc *scim.Service) error {
				m, err := svc.CreateMapping(ctx, scim.MappingInput{Group: group, Shop: target, Role: ports.Role(role)})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "mapping %s: group %q → %s in %s\n", m.ID, m.GroupName, m.Role, m.ShopSlug)
				return err
			})
		},
	}
	mapCmd.Flags().StringVar(&group, "group", "", "the SCIM group's displayName or id (required)")
	mapCmd.Flags().StringVar(&target, "target", "", "the slug of the shop of the org the role is in (required)")
	mapCmd.Flags().StringVar(&role, "role", "", "owner, admin, tech, sales or viewer (required)")
	for _, f := range []string{"group", "target", "role"} {
		_ = mapCmd.MarkFlagRequired(f)
	}
	for _, cmd := range []*cobra.Command{create, list, revoke, mapCmd} {
		cmd.Flags().StringVar(&slug, "shop", "", "a shop of the org; the change is audited in its log (required)")
		_ = cmd.MarkFlagRequired("shop")
	}
	token.AddCommand(create, list, revoke)
	root.AddCommand(token, mapCmd)
	return root
}
