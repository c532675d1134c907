package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/ports"
)

// withBilling opens the store and the billing service and runs fn. With
// billing off (no STOCKADE_STRIPE_API_KEY) it fails with one line saying
// so.
func withBilling(c *cobra.Command, load func(*cobra.Command) (app.Config, error), fn func(ctx context.Context, e tenancyEnv, svc *billing.Service) error) error {
	return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
		svc, err := app.NewBilling(e.cfg, app.BillingParts{Store: e.store})
		if err != nil {
			return err
		}
		if svc == nil {
			return fmt.Errorf("billing is off: set STOCKADE_STRIPE_API_KEY (and STOCKADE_STRIPE_WEBHOOK_SECRETS): %w", ports.ErrUnavailable)
		}
		return fn(ctx, e, svc)
	})
}

const dateTime = "2006-01-02 15:04 MST"

func newBillingCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "billing", Short: "Billing with Stripe: state, Checkout, portal, Connect, retention", Args: cobra.NoArgs,
		Long: `Billing with Stripe (BIL-1…BIL-4). Card data never passes through
Stockade: these commands print links to Stripe's hosted pages for the
shop's Owner to open. The commands act as "system:cli" and are audited in
the shop's log.`}
	var slug, plan string
	var limit int

	status := &cobra.Command{
		Use: "status --shop SLUG", Short: "Show the shop's plan, subscription, card and Connect status", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withBilling(c, load, func(ctx context.Context, e tenancyEnv, svc *billing.Service) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				st, err := svc.State(ctx)
				if err != nil {
					return err
				}
				return printState(c, st)
			})
		},
	}

	checkout := &cobra.Command{
		Use: "checkout --shop SLUG --plan NAME", Short: "Print a Stripe Checkout link that subscribes the shop to a plan", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withBilling(c, load, func(ctx context.Context, e tenancyEnv, svc *billing.Service) error {
				ctx, shop, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				back := e.urls.URL(shop.Slug, "/billing")
				r, err := svc.StartCheckout(ctx, billing.CheckoutInput{Plan: plan, SuccessURL: back + "?checkout=success", CancelURL: back + "?checkout=cancelled"})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.OutOrStdout(), r.URL)
				return err
			})
		},
	}
	checkout.Flags().StringVar(&plan, "plan", "", "one of STOCKADE_STRIPE_PLANS (required)")
	_ = checkout.MarkFlagRequired("plan")

	portal := &cobra.Command{
		Use: "portal --shop SLUG", Short: "Print a link to the shop's Stripe billing portal", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withBilling(c, load, func(ctx context.Context, e tenancyEnv, svc *billing.Service) error {
				ctx, shop, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				r, err := svc.OpenPortal(ctx, e.urls.URL(shop.Slug, "/billing"))
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.OutOrStdout(), r.URL)
				return err
			})
		},
	}

	connect := &cobra.Command{
		Use: "connect --shop SLUG", Short: "Create the shop's Connect account if needed and print an onboarding link", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withBilling(c, load, func(ctx context.Context, e tenancyEnv, svc *billing.Service) error {
				ctx, shop, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				r, err := svc.ConnectOnboarding(ctx, billing.OnboardingInput{
					RefreshURL: e.urls.URL(shop.Slug, "/billing/connect/refresh"),
					ReturnURL:  e.urls.URL(shop.Slug, "/billing") + "?connect=return",
				})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.OutOrStdout(), r.URL)
				return err
			})
		},
	}

	refresh := &cobra.Command{
		Use: "refresh --shop SLUG", Short: "Re-read the shop's subscription and Connect status from Stripe (after missed webhooks)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withBilling(c, load, func(ctx context.Context, e tenancyEnv, svc *billing.Service) error {
				ctx, _, err := e.inShop(ctx, slug)
				if err != nil {
					return err
				}
				st, err := svc.Refresh(ctx)
				if err != nil {
					return err
				}
				return printState(c, st)
			})
		},
	}

	past := &cobra.Command{
		Use:   "past-retention [--limit N]",
		Short: "List the shops cancelled longer ago than the retention (STOCKADE_STRIPE_RETENTION_DAYS)",
		Long: `List the shops whose subscription ended longer ago than the retention
period (LIFE-2, 60 days by default), longest-cancelled first. Nothing is
deleted: the lifecycle's deletion job acts on this list.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withBilling(c, load, func(ctx context.Context, e tenancyEnv, svc *billing.Service) error {
				list, err := svc.PastRetention(access.With(ctx, access.Scope{System: cliActor}), limit)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SHOP\tSLUG\tCANCELLED\tRETENTION ENDED")
				for _, sc := range list {
					slug := "?"
					if shop, err := shopByID(ctx, e.store, sc.Shop); err == nil {
						slug = shop.Slug
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sc.Shop, slug, sc.CancelledAt.Format(dateTime), svc.RetentionEnds(sc.CancelledAt).Format(dateTime))
				}
				return tw.Flush()
			})
		},
	}
	past.Flags().IntVar(&limit, "limit", 100, "at most this many shops (1 to 1000)")

	for _, sub := range []*cobra.Command{status, checkout, portal, connect, refresh} {
		sub.Flags().StringVar(&slug, "shop", "", "the shop's slug (required)")
		_ = sub.MarkFlagRequired("shop")
	}
	cmd.AddCommand(status, checkout, portal, connect, refresh, past)
	return cmd
}

func shopByID(ctx context.Context, st ports.Store, id ports.ShopID) (ports.Shop, error) {
	var shop ports.Shop
	err := st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.Shops().Get(ctx, id)
		return err
	}, ports.ReadOnly())
	return shop, err
}

// printState prints a billing state, one fact a line.
func printState(c *cobra.Command, st billing.State) error {
	tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	when := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(dateTime)
	}
	or := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	line("customer", or(st.CustomerID))
	plan := or(st.Plan)
	if st.Plan == "" && st.PriceID != "" {
		plan = st.PriceID
	}
	line("plan", plan)
	line("subscription", or(st.SubscriptionID)+" "+or(string(st.SubscriptionStatus)))
	line("period end", when(st.CurrentPeriodEnd))
	line("cancel at period end", fmt.Sprint(st.CancelAtPeriodEnd))
	card := "-"
	if st.CardLast4 != "" {
		card = st.CardBrand + " •••• " + st.CardLast4
	}
	line("card", card)
	connect := "-"
	if st.ConnectAccountID != "" {
		connect = fmt.Sprintf("%s charges=%t payouts=%t details=%t", st.ConnectAccountID, st.ChargesEnabled, st.PayoutsEnabled, st.DetailsSubmitted)
	}
	line("connect", connect)
	line("cancelled", when(st.CancelledAt))
	line("retention ends", when(st.RetentionEndsAt))
	return tw.Flush()
}
