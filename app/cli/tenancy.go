package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// cliActor is the system scope name the CLI acts under: audit events name
// it "system:cli".
const cliActor = "cli"

// tenancyEnv is what the tenancy commands work with.
type tenancyEnv struct {
	cfg   app.Config
	store ports.Store
	auth  *auth.Service
	svc   *tenancy.Service
	urls  *httpapi.HostShops
}

// withTenancy opens the store and the auth and tenancy services and runs
// fn. Invitations are enqueued; the server's auth mail worker sends them.
func withTenancy(c *cobra.Command, load func(*cobra.Command) (app.Config, error), fn func(ctx context.Context, e tenancyEnv) error) error {
	cfg, err := load(c)
	if err != nil {
		return err
	}
	return withAuth(c, func(*cobra.Command) (app.Config, error) { return cfg, nil }, func(ctx context.Context, st ports.Store, svc *auth.Service) error {
		ten, err := app.NewTenancy(cfg, app.TenancyParts{Store: st, Auth: svc})
		if err != nil {
			return err
		}
		urls, err := httpapi.NewHostShops(st, cfg.HTTP.PublicURL, nil)
		if err != nil {
			return err
		}
		return fn(ctx, tenancyEnv{cfg: cfg, store: st, auth: svc, svc: ten, urls: urls})
	})
}

// inShop returns ctx carrying the CLI's system scope in the shop with slug.
func (e tenancyEnv) inShop(ctx context.Context, slug string) (context.Context, ports.Shop, error) {
	shop, err := e.auth.ShopBySlug(ctx, strings.ToLower(strings.TrimSpace(slug)))
	if err != nil {
		return ctx, ports.Shop{}, err
	}
	return access.System(ctx, shop.ID, shop.OrgID, cliActor), shop, nil
}

func newShopCmd(load func(*cobra.Command) (app.Config, error), apps []app.AppSchema) *cobra.Command {
	shop := &cobra.Command{Use: "shop", Short: "Manage shops", Args: cobra.NoArgs}
	var slug, name, owner, org string
	create := &cobra.Command{
		Use:   "create --slug SLUG --name NAME [--owner ADDRESS] [--org NAME]",
		Short: "Create a shop in a new org",
		Long: `Create an org and its first shop, reachable at {slug}.{host of
STOCKADE_HTTP_PUBLIC_URL} (by default http://{slug}.localhost:8080). With
--owner, the existing user with that e-mail becomes the org's owner and the
shop's Owner. The org is named --org, or like the shop.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				var ownerID ports.UserID
				if owner != "" {
					u, err := e.auth.UserByEmail(ctx, owner)
					if err != nil {
						return err
					}
					ownerID = u.ID
				}
				orgName := org
				if orgName == "" {
					orgName = name
				}
				ctx = access.With(ctx, access.Scope{System: cliActor})
				_, s, err := e.svc.CreateOrg(ctx, tenancy.NewOrg{Name: orgName, Slug: slug, ShopName: name, Owner: ownerID})
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
	create.Flags().StringVar(&org, "org", "", "the org's name (default: the shop's)")
	_ = create.MarkFlagRequired("slug")
	_ = create.MarkFlagRequired("name")

	var rslug, rname string
	rename := &cobra.Command{
		Use:   "rename --shop SLUG --name NAME",
		Short: "Rename a shop",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, rslug)
				if err != nil {
					return err
				}
				s, err := e.svc.Rename(ctx, rname)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "renamed shop %s to %q\n", s.Slug, s.Name)
				return err
			})
		},
	}
	rename.Flags().StringVar(&rslug, "shop", "", "the shop's slug (required)")
	rename.Flags().StringVar(&rname, "name", "", "the new name (required)")
	_ = rename.MarkFlagRequired("shop")
	_ = rename.MarkFlagRequired("name")

	shop.AddCommand(create, newShopListCmd(load), rename, statusCmd(load, "suspend", ports.ShopSuspended), statusCmd(load, "reactivate", ports.ShopActive), newShopEraseCmd(load, apps), newShopKeyCmd(load))
	return shop
}

func statusCmd(load func(*cobra.Command) (app.Config, error), verb string, status ports.ShopStatus) *cobra.Command {
	var slug string
	cmd := &cobra.Command{
		Use:   verb + " --shop SLUG",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a shop (a suspended shop keeps its data and serves nothing)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, shop, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				s, err := e.svc.SetShopStatus(ctx, shop.Slug, status)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "shop %s is %s\n", s.Slug, s.Status)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&slug, "shop", "", "the shop's slug (required)")
	_ = cmd.MarkFlagRequired("shop")
	return cmd
}

func newMemberCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	member := &cobra.Command{Use: "member", Short: "Manage a shop's members", Args: cobra.NoArgs}
	var slug, email, role string
	run := func(fn func(ctx context.Context, c *cobra.Command, e tenancyEnv) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				return fn(ctx, c, e)
			})
		}
	}
	list := &cobra.Command{Use: "list --shop SLUG", Short: "List members", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *cobra.Command, e tenancyEnv) error {
			ms, err := e.svc.ListMembers(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tROLE\tUSER ID")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Email, m.Role, m.UserID)
			}
			return tw.Flush()
		})}
	add := &cobra.Command{Use: "add --shop SLUG --email ADDRESS --role ROLE", Short: "Add an existing user as a member (no invitation)", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *cobra.Command, e tenancyEnv) error {
			if _, err := e.svc.AddMember(ctx, email, ports.Role(role)); err != nil {
				return err
			}
			_, err := fmt.Fprintf(c.OutOrStdout(), "added %s as %s\n", ports.NormalizeEmail(email), role)
			return err
		})}
	setRole := &cobra.Command{Use: "role --shop SLUG --email ADDRESS --role ROLE", Short: "Change a member's role", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *cobra.Command, e tenancyEnv) error {
			u, err := e.auth.UserByEmail(ctx, email)
			if err != nil {
				return err
			}
			if _, err := e.svc.ChangeRole(ctx, u.ID, ports.Role(role)); err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "%s is now %s\n", u.Email, role)
			return err
		})}
	remove := &cobra.Command{Use: "remove --shop SLUG --email ADDRESS", Short: "Remove a member (and end their sessions there)", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *cobra.Command, e tenancyEnv) error {
			u, err := e.auth.UserByEmail(ctx, email)
			if err != nil {
				return err
			}
			if err := e.svc.RemoveMember(ctx, u.ID); err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "removed %s\n", u.Email)
			return err
		})}
	for _, cmd := range []*cobra.Command{list, add, setRole, remove} {
		cmd.Flags().StringVar(&slug, "shop", "", "the shop's slug (required)")
		_ = cmd.MarkFlagRequired("shop")
		if cmd != list {
			cmd.Flags().StringVar(&email, "email", "", "the member's e-mail (required)")
			_ = cmd.MarkFlagRequired("email")
		}
		if cmd == add || cmd == setRole {
			cmd.Flags().StringVar(&role, "role", "", "owner, admin, tech, sales or viewer (required)")
			_ = cmd.MarkFlagRequired("role")
		}
	}
	member.AddCommand(list, add, setRole, remove)
	return member
}

func newInviteCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	invite := &cobra.Command{Use: "invite", Short: "Invite people to a shop", Args: cobra.NoArgs}
	var slug, email, role, id string
	create := &cobra.Command{
		Use:   "create --shop SLUG --email ADDRESS --role ROLE",
		Short: "Invite an address (the server mails the link through the configured e-mail provider)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, shop, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				inv, err := e.svc.Invite(ctx, tenancy.InviteInput{
					Email: email, Role: ports.Role(role), ShopName: shop.Name,
					LinkPrefix: e.urls.TokenLink(shop.Slug, httpapi.InvitationLinkPath),
				})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "invited %s as %s (invitation %s, expires %s)\n", inv.Email, inv.Role, inv.ID, inv.ExpiresAt.Format("2006-01-02 15:04 MST"))
				return err
			})
		},
	}
	create.Flags().StringVar(&email, "email", "", "the address to invite (required)")
	create.Flags().StringVar(&role, "role", "", "owner, admin, tech, sales or viewer (required)")
	_ = create.MarkFlagRequired("email")
	_ = create.MarkFlagRequired("role")
	list := &cobra.Command{
		Use: "list --shop SLUG", Short: "List pending invitations", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				list, err := e.svc.ListInvitations(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tEXPIRES")
				for _, inv := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", inv.ID, inv.Email, inv.Role, inv.ExpiresAt.Format("2006-01-02 15:04 MST"))
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use: "revoke --shop SLUG --id INVITATION", Short: "Revoke a pending invitation", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			invID, err := ports.ParseInvitationID(id)
			if err != nil {
				return err
			}
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				if err := e.svc.RevokeInvitation(ctx, invID); err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "revoked invitation %s\n", invID)
				return err
			})
		},
	}
	revoke.Flags().StringVar(&id, "id", "", "the invitation's ID (required)")
	_ = revoke.MarkFlagRequired("id")
	for _, cmd := range []*cobra.Command{create, list, revoke} {
		cmd.Flags().StringVar(&slug, "shop", "", "the shop's slug (required)")
		_ = cmd.MarkFlagRequired("shop")
	}
	invite.AddCommand(create, list, revoke)
	return invite
}

func newOrgCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	org := &cobra.Command{Use: "org", Short: "List orgs; manage an org's owners and admins (HQ), single sign-on and domains", Args: cobra.NoArgs}
	var slug, email, role string
	setRole := &cobra.Command{
		Use:   "set-role --shop SLUG --email ADDRESS --role owner|admin|none",
		Short: "Give a user a role in the org of a shop (none removes it)",
		Long: `Org owners and admins reach every shop of the org through HQ access
(/hq/shops/{slug}/…), which is audited in each shop's log; they are not
members of those shops. This is the operator's path: the role is given at
once to the existing account, without asking its owner (over HTTP, org
owners send an invitation the invitee accepts; see "org invite").`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r := ports.OrgRole(role)
			if role == "none" {
				r = ""
			}
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				if err := e.svc.SetOrgRole(ctx, email, r); err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "%s: org role %s\n", ports.NormalizeEmail(email), role)
				return err
			})
		},
	}
	setRole.Flags().StringVar(&slug, "shop", "", "a shop of the org (required)")
	setRole.Flags().StringVar(&email, "email", "", "the user's e-mail (required)")
	setRole.Flags().StringVar(&role, "role", "", "owner, admin or none (required)")
	for _, f := range []string{"shop", "email", "role"} {
		_ = setRole.MarkFlagRequired(f)
	}
	var invEmail, invRole, invSlug string
	invite := &cobra.Command{
		Use:   "invite --shop SLUG --email ADDRESS --role owner|admin",
		Short: "Offer a role in the org of a shop; the invitee accepts it signed in on a shop of the org",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, shop, err := e.inShop(ctx, invSlug)
				if err != nil {
					return err
				}
				inv, err := e.svc.OfferOrgRole(ctx, tenancy.OrgRoleInput{Email: invEmail, Role: ports.OrgRole(invRole),
					LinkPrefix: e.urls.TokenLink(shop.Slug, httpapi.OrgInvitationLinkPath)})
				if err != nil {
					return err
				}
				if inv.ID.IsZero() {
					_, err = fmt.Fprintf(c.OutOrStdout(), "%s: org role %s (already an org member: changed)\n", ports.NormalizeEmail(invEmail), invRole)
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "invited %s as org %s (invitation %s, expires %s)\n", inv.Email, inv.Role, inv.ID, inv.ExpiresAt.Format("2006-01-02 15:04 MST"))
				return err
			})
		},
	}
	invite.Flags().StringVar(&invSlug, "shop", "", "a shop of the org; the link points to its host (required)")
	invite.Flags().StringVar(&invEmail, "email", "", "the address to invite (required)")
	invite.Flags().StringVar(&invRole, "role", "", "owner or admin (required)")
	for _, f := range []string{"shop", "email", "role"} {
		_ = invite.MarkFlagRequired(f)
	}
	org.AddCommand(newOrgListCmd(load), setRole, invite, newOrgSSOCmd(load), newOrgDomainCmd(load), newOrgSCIMCmd(load))
	return org
}
