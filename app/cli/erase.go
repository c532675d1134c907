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

// withAppStore is withAuditStore with the embedding app's schemas, so
// that the store knows the app's tenant tables (a shop's deletion covers
// them).
func withAppStore(c *cobra.Command, load func(*cobra.Command) (app.Config, error), apps []app.AppSchema, fn func(ctx context.Context, cfg app.Config, st ports.Store) error) error {
	cfg, err := load(c)
	if err != nil {
		return err
	}
	if err := app.PrepareDataDir(cfg); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := app.OpenStore(ctx, cfg, nil, apps...)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, cfg, st)
}

// readPasswordAndCode reads an operator's password (first line) and the
// current code of their second factor (second line) from in.
func readPasswordAndCode(in io.Reader) (password, code string, err error) {
	r := bufio.NewReader(io.LimitReader(in, 4096))
	var lines [2]string
	for i := range lines {
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", "", fmt.Errorf("read standard input: %w", err)
		}
		lines[i] = strings.TrimRight(line, "\r\n")
	}
	switch {
	case lines[0] == "":
		return "", "", fmt.Errorf("standard input holds no operator password (first line): %w", ports.ErrInvalid)
	case strings.TrimSpace(lines[1]) == "":
		return "", "", fmt.Errorf("standard input holds no second-factor code (second line): an erasure needs the operator's second factor: %w", ports.ErrInvalid)
	}
	return lines[0], strings.TrimSpace(lines[1]), nil
}

// operatorAtAAL2 signs the operator in with password and code the way
// POST /operator/signin does, requires the session to be AAL2 (the code
// of a confirmed second factor), and ends it again: the CLI's proof that
// the named operator is present and used a second factor. A first code
// that confirms a pending factor prints the recovery codes to out once.
// ErrUnauthenticated for a wrong password or code; ErrForbidden for an
// operator without a second factor.
func operatorAtAAL2(ctx context.Context, out io.Writer, cfg app.Config, st ports.Store, email, password, code string) error {
	svc, err := app.NewAuth(ctx, cfg, app.AuthParts{Store: st, NoProviders: true})
	if err != nil {
		return err
	}
	is, err := svc.OperatorSignIn(ctx, auth.OperatorSignInInput{Email: email, Password: password, Code: code, Client: auth.Client{UserAgent: "stockade-cli"}})
	if err != nil {
		return fmt.Errorf("operator sign-in: %w", err)
	}
	defer func() { _ = svc.OperatorSignOut(context.WithoutCancel(ctx), is.Cookie) }()
	if len(is.RecoveryCodes) > 0 {
		if _, err := fmt.Fprintf(out, "your TOTP factor is confirmed; recovery codes (shown once): %s\n", strings.Join(is.RecoveryCodes, " ")); err != nil {
			return err
		}
	}
	if is.Principal.AAL < ports.AAL2 {
		return fmt.Errorf("an erasure needs an operator who signed in with a second factor; enrol one first (stockade operator create --totp, or POST /operator/2fa/totp/enrol): %w", ports.ErrForbidden)
	}
	return nil
}

// totalRows is the sum of a deletion's row counts.
func totalRows(d ports.ShopDeletion) int64 {
	var n int64
	for _, c := range d.Rows {
		n += c
	}
	return n
}

func newShopEraseCmd(load func(*cobra.Command) (app.Config, error), apps []app.AppSchema) *cobra.Command {
	var slug, operator, reason string
	cmd := &cobra.Command{
		Use:   "erase --shop SLUG --operator EMAIL --reason TEXT < password-and-code",
		Short: "Erase a shop now, on request: destroy its keys, delete its objects and rows (LIFE-3)",
		Long: `Erase a shop now, on its customer's request (LIFE-3): what retention would
delete 60 days after cancellation, deleted now. The operator (an enabled
operator's e-mail address) and a written reason are required, and the operator
proves who they are with a second factor (AAL2, AUTH-18): standard input holds
the operator's password on its first line and the current code of their TOTP
factor on its second; an operator without a second factor cannot erase. The
erasure is
audited before it runs (a shop.erase event in the shop's chain, whose head
the kept deletion record holds), then the shop's encryption keys are
destroyed (every envelope-encrypted object, and every copy of one, is
unreadable from that moment), then its objects and rows, the app's tables
included, are deleted in batches, then its directory row. Nothing of the
shop remains but the platform-level deletion record (who, why, when, the
counts, the chain head and its last signed checkpoint). Interrupted, it
resumes when run again. It cannot be undone.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strings.TrimSpace(reason) == "" {
				return fmt.Errorf("shop erase: a written --reason is required: %w", ports.ErrInvalid)
			}
			if strings.TrimSpace(operator) == "" {
				return fmt.Errorf("shop erase: --operator (the operator asking for it) is required: %w", ports.ErrInvalid)
			}
			password, code, err := readPasswordAndCode(c.InOrStdin())
			if err != nil {
				return fmt.Errorf("shop erase: %w", err)
			}
			return withAppStore(c, load, apps, func(ctx context.Context, cfg app.Config, st ports.Store) error {
				var shop ports.Shop
				var op ports.Operator
				err := st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
					var err error
					if shop, err = tx.Shops().GetBySlug(ctx, strings.ToLower(strings.TrimSpace(slug))); err != nil {
						return fmt.Errorf("shop %q: %w", slug, err)
					}
					ops, err := tx.Operators().List(ctx)
					if err != nil {
						return err
					}
					email := ports.NormalizeEmail(operator)
					for _, o := range ops {
						if o.Email == email && !o.Disabled() {
							op = o
							return nil
						}
					}
					return fmt.Errorf("no enabled operator %q: %w", operator, ports.ErrForbidden)
				}, ports.ReadOnly())
				if err != nil {
					return fmt.Errorf("shop erase: %w", err)
				}
				if err := operatorAtAAL2(ctx, c.OutOrStdout(), cfg, st, op.Email, password, code); err != nil {
					return fmt.Errorf("shop erase: %w", err)
				}
				files, err := app.NewStorage(ctx, cfg, app.StorageParts{Store: st})
				if err != nil {
					return err
				}
				defer files.Close()
				dl, err := app.NewDeleter(cfg, app.DeleterParts{Store: st, Objects: files.Objects, Keys: files.Keys})
				if err != nil {
					return err
				}
				rec, err := dl.Erase(ctx, shop.ID, "operator:"+op.ID.String(), reason)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "erased shop %s (%s): %d objects, %d rows; chain ended at %d\n",
					rec.Slug, rec.Shop, rec.Objects, totalRows(rec), rec.ChainSize)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&slug, "shop", "", "the shop's slug (required)")
	cmd.Flags().StringVar(&operator, "operator", "", "the e-mail address of the operator asking for the erasure (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "the written reason, e.g. the customer's request and ticket (required)")
	_ = cmd.MarkFlagRequired("shop")
	return cmd
}
