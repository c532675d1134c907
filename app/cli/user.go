package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// operatorActor names the CLI in audit events.
const operatorActor = "operator:cli"

// withAuth opens the configured store (migrating the embedded SQLite
// database like serve does) and the auth service, runs fn, and closes the
// store.
func withAuth(c *cobra.Command, load func(*cobra.Command) (app.Config, error), fn func(ctx context.Context, st ports.Store, svc *auth.Service) error) error {
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
	// The CLI signs nobody in through OpenID Connect: no discovery.
	svc, err := app.NewAuth(ctx, cfg, app.AuthParts{Store: st, NoProviders: true})
	if err != nil {
		return err
	}
	return fn(ctx, st, svc)
}

// readPassword reads one line from in: the password, without its line end.
func readPassword(in io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("--password-stdin: standard input holds no password: %w", ports.ErrInvalid)
	}
	return pw, nil
}

func newUserCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage user accounts", Args: cobra.NoArgs}
	user.AddCommand(newUserCreateCmd(load), newUserListCmd(load), newUserSetPasswordCmd(load), newUserRevokeSessionsCmd(load))
	return user
}

func newUserCreateCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var email, name, shop, role string
	var pwStdin bool
	cmd := &cobra.Command{
		Use:   "create --email ADDRESS [--name NAME] [--password-stdin] [--shop SLUG --role ROLE]",
		Short: "Create a user, optionally as a member of a shop",
		Long: `Create a user account. With --password-stdin the password is read from the
first line of standard input (never from a flag, which would land in shell
history); without it the account signs in by magic link or OpenID Connect.
With --shop the user also becomes a member of that shop with --role
(default viewer), audited in the shop's log. The operator vouches for the
address: the account counts as verified, so its password signs in at once
(accounts made by sign-up prove their mailbox by a mailed link first).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var pw string
			if pwStdin {
				var err error
				if pw, err = readPassword(c.InOrStdin()); err != nil {
					return err
				}
			}
			return withAuth(c, load, func(ctx context.Context, st ports.Store, svc *auth.Service) error {
				if shop != "" {
					if err := ports.ValidateRole(ports.Role(role)); err != nil {
						return err
					}
				}
				u, err := svc.CreateUser(ctx, email, name, pw)
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintf(c.OutOrStdout(), "created user %s <%s>\n", u.ID, u.Email); err != nil {
					return err
				}
				if shop == "" {
					return nil
				}
				s, err := svc.AddMember(ctx, shop, u.ID, ports.Role(role), operatorActor)
				if err != nil {
					return fmt.Errorf("user %s was created but not added to shop %q: %w", u.Email, shop, err)
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "added to shop %s as %s\n", s.Slug, role)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	cmd.Flags().StringVar(&name, "name", "", "display name")
	cmd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")
	cmd.Flags().StringVar(&shop, "shop", "", "slug of a shop to add the user to")
	cmd.Flags().StringVar(&role, "role", string(ports.RoleViewer), "role in --shop: owner, admin, tech, sales or viewer")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func newUserSetPasswordCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "set-password --email ADDRESS < password",
		Short: "Set a user's password (read from standard input)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			pw, err := readPassword(c.InOrStdin())
			if err != nil {
				return err
			}
			return withAuth(c, load, func(ctx context.Context, _ ports.Store, svc *auth.Service) error {
				u, err := svc.SetPassword(ctx, email, pw)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "password set for %s\n", u.Email)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func newUserRevokeSessionsCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var email, shop string
	cmd := &cobra.Command{
		Use:   "revoke-sessions --email ADDRESS --shop SLUG",
		Short: "End every session a user has in a shop",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAuth(c, load, func(ctx context.Context, _ ports.Store, svc *auth.Service) error {
				s, err := svc.ShopBySlug(ctx, shop)
				if err != nil {
					return err
				}
				n, err := svc.RevokeUserSessions(ctx, s.ID, email, operatorActor)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "revoked %d session(s) of %s in shop %s\n", n, ports.NormalizeEmail(email), s.Slug)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	cmd.Flags().StringVar(&shop, "shop", "", "shop slug (required)")
	_ = cmd.MarkFlagRequired("email")
	_ = cmd.MarkFlagRequired("shop")
	return cmd
}
