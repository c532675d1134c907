package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// newOperatorCmd manages platform operators (AUD-5). Operators are
// managed here only: there is no HTTP route that creates or disables one.
func newOperatorCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	op := &cobra.Command{
		Use:   "operator",
		Short: "Manage platform operators (support staff who may impersonate members, audited)",
		Long: `Platform operators are identities apart from users: members of no shop,
signing in on the platform's own host (POST /operator/signin) with a
session that grants nothing in any shop. They reach a shop's data only by
impersonating one of its members, with a written reason, for at most an
hour at a time, every step in that shop's audit log.`,
		Args: cobra.NoArgs,
	}
	op.AddCommand(newOperatorCreateCmd(load), newOperatorListCmd(load), newOperatorDisableCmd(load))
	return op
}

func newOperatorCreateCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var email, name, qr string
	var withTOTP bool
	cmd := &cobra.Command{
		Use:   "create --email ADDRESS [--name NAME] [--totp [--qr FILE]] < password",
		Short: "Create an operator; the password is read from standard input",
		Long: `Create an operator. Operators must use a second factor (AUTH-18): with
--totp a TOTP factor is enrolled now (its secret and otpauth URI are printed
once, the QR code written to --qr) and the first sign-in with a code from
it confirms it; without it, the operator's first sign-in may only enrol one.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			pw, err := readPassword(c.InOrStdin())
			if err != nil {
				return err
			}
			return withAuth(c, load, func(ctx context.Context, _ ports.Store, svc *auth.Service) error {
				o, err := svc.CreateOperator(ctx, email, name, pw)
				if err != nil {
					return err
				}
				if _, err = fmt.Fprintf(c.OutOrStdout(), "created operator %s <%s>\n", o.ID, o.Email); err != nil || !withTOTP {
					return err
				}
				en, err := svc.EnrolOperatorTOTPByEmail(ctx, o.Email)
				if err != nil {
					return err
				}
				return printEnrolment(c.OutOrStdout(), en, qr)
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	cmd.Flags().StringVar(&name, "name", "", "display name")
	cmd.Flags().BoolVar(&withTOTP, "totp", false, "enrol a TOTP second factor now")
	cmd.Flags().StringVar(&qr, "qr", "", "with --totp: write the QR code (PNG) to this file")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func newOperatorListCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the operators",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAuth(c, load, func(ctx context.Context, _ ports.Store, svc *auth.Service) error {
				ops, err := svc.ListOperators(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tCREATED\tSTATUS")
				for _, o := range ops {
					status := "active"
					if o.Disabled() {
						status = "disabled " + o.DisabledAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.ID, o.Email, o.Name, o.CreatedAt.Format(time.RFC3339), status)
				}
				return tw.Flush()
			})
		},
	}
}

func newOperatorDisableCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "disable --email ADDRESS",
		Short: "Disable an operator: their sessions and impersonations end at once",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAuth(c, load, func(ctx context.Context, _ ports.Store, svc *auth.Service) error {
				o, err := svc.DisableOperator(ctx, email)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "disabled operator %s <%s>\n", o.ID, o.Email)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}
