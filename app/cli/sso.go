package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// newOrgSSOCmd manages an org's single sign-on connection (AUTH-14), as
// its owners do over PUT /org/sso, audited as system:cli in the named
// shop's log.
func newOrgSSOCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	sso := &cobra.Command{
		Use:   "sso",
		Short: "Show, set or delete an org's OpenID Connect single sign-on connection",
		Long: `An org's owners send sign-in for the org's verified e-mail domains to the
org's own identity provider (see "org domain"). The client secret is read from
standard input and sealed at rest; it is never shown again.`,
		Args: cobra.NoArgs,
	}
	var slug string
	show := &cobra.Command{
		Use:   "show --shop SLUG",
		Short: "Show the connection of the org of a shop",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				conn, err := e.auth.SSOConnection(ctx)
				if err != nil {
					return err
				}
				return printConnection(c.OutOrStdout(), conn)
			})
		},
	}
	show.Flags().StringVar(&slug, "shop", "", "a shop of the org (required)")
	_ = show.MarkFlagRequired("shop")

	var in auth.SSOConnectionInput
	var role string
	var secretStdin bool
	set := &cobra.Command{
		Use:   "set --shop SLUG --issuer URL --client-id ID [--client-secret-stdin] --default-role ROLE [--enabled] [--mandatory] [--break-glass EMAIL]",
		Short: "Create or replace the connection of the org of a shop",
		Long: `Without --client-secret-stdin the stored secret is kept, which works only
while the issuer and client ID stay the same. An enabled connection's issuer
is discovered first. --mandatory refuses passwords and magic links for the
org's verified domains on the org's shops, except for the --break-glass
owner.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if secretStdin {
				s, err := readPassword(c.InOrStdin())
				if err != nil {
					return fmt.Errorf("--client-secret-stdin: %w", err)
				}
				in.ClientSecret = s
			}
			in.DefaultRole = ports.Role(role)
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				conn, err := e.auth.PutSSOConnection(ctx, in, auth.Client{})
				if err != nil {
					return err
				}
				return printConnection(c.OutOrStdout(), conn)
			})
		},
	}
	set.Flags().StringVar(&slug, "shop", "", "a shop of the org (required)")
	set.Flags().StringVar(&in.Issuer, "issuer", "", "the IdP's issuer identifier, an https URL (required)")
	set.Flags().StringVar(&in.ClientID, "client-id", "", "Stockade's client ID at the IdP (required)")
	set.Flags().BoolVar(&secretStdin, "client-secret-stdin", false, "read the client secret from standard input")
	set.Flags().StringVar(&role, "default-role", string(ports.RoleViewer), "shop role of a user's first sign-in: owner, admin, tech, sales or viewer")
	set.Flags().BoolVar(&in.Enabled, "enabled", false, "offer single sign-on")
	set.Flags().BoolVar(&in.Mandatory, "mandatory", false, "refuse passwords and magic links for the verified domains")
	set.Flags().StringVar(&in.BreakGlassEmail, "break-glass", "", "the one org owner exempt from --mandatory")
	for _, f := range []string{"shop", "issuer", "client-id"} {
		_ = set.MarkFlagRequired(f)
	}

	del := &cobra.Command{
		Use:   "delete --shop SLUG",
		Short: "Delete the connection of the org of a shop (mandatory SSO ends with it)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				if err := e.auth.DeleteSSOConnection(ctx, auth.Client{}); err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.OutOrStdout(), "single sign-on connection deleted")
				return err
			})
		},
	}
	del.Flags().StringVar(&slug, "shop", "", "a shop of the org (required)")
	_ = del.MarkFlagRequired("shop")
	sso.AddCommand(show, set, del)
	return sso
}

func printConnection(out io.Writer, c auth.SSOConnectionInfo) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "issuer\t%s\n", c.Issuer)
	fmt.Fprintf(tw, "client id\t%s\n", c.ClientID)
	fmt.Fprintf(tw, "default role\t%s\n", c.DefaultRole)
	fmt.Fprintf(tw, "enabled\t%v\n", c.Enabled)
	fmt.Fprintf(tw, "mandatory\t%v\n", c.Mandatory)
	fmt.Fprintf(tw, "break-glass\t%s\n", c.BreakGlassEmail)
	fmt.Fprintf(tw, "updated\t%s by %s\n", c.UpdatedAt.Format("2006-01-02 15:04 MST"), c.UpdatedBy)
	return tw.Flush()
}

// newOrgDomainCmd manages the e-mail domains an org proves it controls
// (AUTH-14), as its owners do over /org/domains.
func newOrgDomainCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	domain := &cobra.Command{
		Use:   "domain",
		Short: "Claim, verify, list or remove an org's e-mail domains",
		Long: `"add" prints a TXT record to publish at _stockade-challenge.<domain>;
"verify" looks it up. A domain verified by one org cannot be verified by
another. Single sign-on applies to verified domains only.`,
		Args: cobra.NoArgs,
	}
	var slug, name string
	run := func(do func(ctx context.Context, c *cobra.Command, e tenancyEnv) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				return do(ctx, c, e)
			})
		}
	}
	add := &cobra.Command{
		Use: "add --shop SLUG --domain DOMAIN", Short: "Claim a domain and print its TXT record", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *cobra.Command, e tenancyEnv) error {
			d, err := e.auth.AddOrgDomain(ctx, name, auth.Client{})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "publish: %s TXT %q\nthen: stockade org domain verify --shop %s --domain %s\n", d.RecordName, d.RecordValue, slug, d.Domain)
			return err
		}),
	}
	verify := &cobra.Command{
		Use: "verify --shop SLUG --domain DOMAIN", Short: "Check a claimed domain's TXT record", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *cobra.Command, e tenancyEnv) error {
			d, err := e.auth.VerifyOrgDomain(ctx, name, auth.Client{})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "%s: verified %s\n", d.Domain, d.VerifiedAt.Format("2006-01-02 15:04 MST"))
			return err
		}),
	}
	remove := &cobra.Command{
		Use: "remove --shop SLUG --domain DOMAIN", Short: "Give a domain up", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *cobra.Command, e tenancyEnv) error {
			if err := e.auth.RemoveOrgDomain(ctx, name, auth.Client{}); err != nil {
				return err
			}
			_, err := fmt.Fprintf(c.OutOrStdout(), "%s: removed\n", ports.NormalizeDomain(name))
			return err
		}),
	}
	list := &cobra.Command{
		Use: "list --shop SLUG", Short: "List the org's domains", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, c *cobra.Command, e tenancyEnv) error {
			ds, err := e.auth.OrgDomains(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DOMAIN\tSTATE\tTXT NAME\tTXT VALUE")
			for _, d := range ds {
				state := "pending"
				if d.Verified() {
					state = "verified"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Domain, state, d.RecordName, d.RecordValue)
			}
			return tw.Flush()
		}),
	}
	for _, cmd := range []*cobra.Command{add, verify, remove, list} {
		cmd.Flags().StringVar(&slug, "shop", "", "a shop of the org (required)")
		_ = cmd.MarkFlagRequired("shop")
		if cmd != list {
			cmd.Flags().StringVar(&name, "domain", "", "the e-mail domain, e.g. example.com (required)")
			_ = cmd.MarkFlagRequired("domain")
		}
	}
	domain.AddCommand(add, verify, list, remove)
	return domain
}
