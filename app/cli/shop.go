package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

func newShopCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	shop := &cobra.Command{Use: "shop", Short: "Manage shops", Args: cobra.NoArgs}
	var slug, name, owner string
	create := &cobra.Command{
		Use:   "create --slug SLUG --name NAME [--owner ADDRESS]",
		Short: "Create a shop (in a new org of the same name)",
		Long: `Create a shop, reachable at {slug}.{host of STOCKADE_HTTP_PUBLIC_URL}
(by default http://{slug}.localhost:8080). With --owner, the existing user
with that e-mail becomes the shop's Owner.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAuth(c, load, func(ctx context.Context, st ports.Store, svc *auth.Service) error {
				var ownerID ports.UserID
				if owner != "" {
					u, err := svc.UserByEmail(ctx, owner)
					if err != nil {
						return err
					}
					ownerID = u.ID
				}
				s, err := tenancy.CreateShop(ctx, st, ports.SystemClock{}, tenancy.NewShop{Slug: slug, Name: name, Owner: ownerID, Actor: operatorActor})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "created shop %s (%s)\n", s.Slug, s.ID)
				return err
			})
		},
	}
	create.Flags().StringVar(&slug, "slug", "", "the shop's DNS label (required)")
	create.Flags().StringVar(&name, "name", "", "the shop's name (required)")
	create.Flags().StringVar(&owner, "owner", "", "e-mail of an existing user to make Owner")
	_ = create.MarkFlagRequired("slug")
	_ = create.MarkFlagRequired("name")
	shop.AddCommand(create)
	return shop
}
