package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// newTwoFactorCmd manages second factors (AUTH-11, AUTH-13, AUTH-18):
// each shop's two-factor policy, and resets for members and operators
// who lost their device.
func newTwoFactorCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	tf := &cobra.Command{
		Use:   "two-factor",
		Short: "Manage second factors: shop policies, resets",
		Long: `Members enrol TOTP over the API (POST /auth/2fa/totp/enrol); operators at
"stockade operator create --totp" or on first sign-in. A shop's Owner sets
who must use a second factor (PUT /shop/2fa-policy), as this command does
for the operator of the installation, audited as system:cli.`,
		Args: cobra.NoArgs,
	}
	policy := &cobra.Command{Use: "policy", Short: "Show or set a shop's two-factor policy", Args: cobra.NoArgs}
	var slug, roles string
	var all bool
	show := &cobra.Command{
		Use:   "show --shop SLUG",
		Short: "Show who must use a second factor in a shop",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				p, err := e.auth.TwoFactorPolicy(ctx)
				if err != nil {
					return err
				}
				return printPolicy(c.OutOrStdout(), p)
			})
		},
	}
	show.Flags().StringVar(&slug, "shop", "", "the shop's slug (required)")
	_ = show.MarkFlagRequired("shop")
	set := &cobra.Command{
		Use:   "set --shop SLUG (--all | --roles ROLE,... | --none)",
		Short: "Require a second factor of every member, or of members with the given roles",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			none, _ := c.Flags().GetBool("none")
			if n := countTrue(all, roles != "", none); n != 1 {
				return fmt.Errorf("give exactly one of --all, --roles and --none: %w", ports.ErrInvalid)
			}
			in := ports.TwoFactorPolicy{AllMembers: all}
			for _, r := range strings.Split(roles, ",") {
				if r = strings.TrimSpace(r); r != "" {
					in.Roles = append(in.Roles, ports.Role(strings.ToLower(r)))
				}
			}
			return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				p, err := e.auth.SetTwoFactorPolicy(ctx, in, auth.Client{})
				if err != nil {
					return err
				}
				return printPolicy(c.OutOrStdout(), p)
			})
		},
	}
	set.Flags().StringVar(&slug, "shop", "", "the shop's slug (required)")
	set.Flags().BoolVar(&all, "all", false, "every member must use a second factor")
	set.Flags().StringVar(&roles, "roles", "", "comma-separated roles whose members must use a second factor")
	set.Flags().Bool("none", false, "nobody is required to")
	_ = set.MarkFlagRequired("shop")
	policy.AddCommand(show, set)

	var email string
	resetUser := &cobra.Command{
		Use:   "reset-user --email ADDRESS",
		Short: "Remove a member's second factors, TOTP and passkeys (lost device), and end the member's sessions everywhere",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAuth(c, load, func(ctx context.Context, _ ports.Store, svc *auth.Service) error {
				u, err := svc.ResetUserSecondFactor(ctx, email)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "removed the second factors (TOTP, passkeys) of %s <%s>; their sessions ended\n", u.ID, u.Email)
				return err
			})
		},
	}
	resetUser.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	_ = resetUser.MarkFlagRequired("email")
	resetOp := &cobra.Command{
		Use:   "reset-operator --email ADDRESS",
		Short: "Remove an operator's second factor and end their sessions; their next sign-in may only enrol",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAuth(c, load, func(ctx context.Context, _ ports.Store, svc *auth.Service) error {
				o, err := svc.ResetOperatorSecondFactor(ctx, email)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "removed the second factor of operator %s <%s>; their sessions ended\n", o.ID, o.Email)
				return err
			})
		},
	}
	resetOp.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	_ = resetOp.MarkFlagRequired("email")
	tf.AddCommand(policy, resetUser, resetOp)
	return tf
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func printPolicy(w io.Writer, p ports.TwoFactorPolicy) error {
	var who string
	switch {
	case p.AllMembers:
		who = "every member"
	case len(p.Roles) > 0:
		rs := make([]string, len(p.Roles))
		for i, r := range p.Roles {
			rs[i] = string(r)
		}
		who = "members with role " + strings.Join(rs, ", ")
	default:
		who = "nobody"
	}
	_, err := fmt.Fprintf(w, "second factor required of: %s\n", who)
	return err
}

// printEnrolment shows an operator's TOTP enrolment once: the secret and
// URI to add to an authenticator app, and the QR code written to qrFile
// when given (mode 0600).
func printEnrolment(w io.Writer, en auth.TOTPEnrolment, qrFile string) error {
	if qrFile != "" {
		if err := os.WriteFile(qrFile, en.QRPNG, 0o600); err != nil {
			return fmt.Errorf("write the QR code: %w", err)
		}
	}
	_, err := fmt.Fprintf(w, "TOTP secret (shown once): %s\notpauth URI: %s\n", en.Secret, en.URI)
	if err == nil && qrFile != "" {
		_, err = fmt.Fprintf(w, "QR code written to %s\n", qrFile)
	}
	if err == nil {
		_, err = fmt.Fprintln(w, "Add it to an authenticator app; the first sign-in with a code from it confirms the factor.")
	}
	return err
}
