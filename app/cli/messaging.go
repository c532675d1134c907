package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

// withMessaging opens the store, the tenancy environment and the
// messaging service, and runs fn in the shop with slug under the CLI's
// system scope (audited as system:cli).
func withMessaging(c *cobra.Command, load func(*cobra.Command) (app.Config, error), slug string,
	fn func(ctx context.Context, svc *messaging.Service) error) error {
	if slug == "" {
		return fmt.Errorf("--shop is required: %w", ports.ErrInvalid)
	}
	return withTenancy(c, load, func(ctx context.Context, e tenancyEnv) error {
		svc, err := app.NewMessaging(e.cfg, app.MessagingParts{Store: e.store})
		if err != nil {
			return err
		}
		ctx, _, err = e.inShop(ctx, slug)
		if err != nil {
			return err
		}
		return fn(ctx, svc)
	})
}

func newMessagingCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "messaging", Short: "Contacts, consent and messaging settings of a shop", Args: cobra.NoArgs}
	var slug string
	cmd.PersistentFlags().StringVar(&slug, "shop", "", "the shop's slug")

	show := &cobra.Command{
		Use:   "consent --shop SLUG PHONE|EMAIL",
		Short: "Show a contact's consent",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withMessaging(c, load, slug, func(ctx context.Context, svc *messaging.Service) error {
				st, err := svc.FindContact(ctx, args[0])
				if err != nil {
					return err
				}
				printConsent(c.OutOrStdout(), st)
				return nil
			})
		},
	}

	var topic string
	var optOut, optIn bool
	set := &cobra.Command{
		Use:   "set-consent --shop SLUG --topic sms|email|marketing --opt-out|--opt-in PHONE|EMAIL",
		Short: "Record a contact's consent change (source admin, audited)",
		Long: `Record that a contact withdrew or gave consent on a topic, as a shop
admin would (source "admin", audited as system:cli). Withdrawing
"marketing" stops marketing on every channel.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if optOut == optIn {
				return fmt.Errorf("give exactly one of --opt-out and --opt-in: %w", ports.ErrInvalid)
			}
			return withMessaging(c, load, slug, func(ctx context.Context, svc *messaging.Service) error {
				st, err := svc.FindContact(ctx, args[0])
				if err != nil {
					return err
				}
				st, err = svc.SetConsent(ctx, messaging.ConsentChange{Contact: st.Contact.ID, Topic: ports.ConsentTopic(topic), OptedOut: optOut, Source: ports.SourceAdmin})
				if err != nil {
					return err
				}
				printConsent(c.OutOrStdout(), st)
				return nil
			})
		},
	}
	set.Flags().StringVar(&topic, "topic", "", "sms, email or marketing")
	set.Flags().BoolVar(&optOut, "opt-out", false, "the contact withdrew consent")
	set.Flags().BoolVar(&optIn, "opt-in", false, "the contact gave consent")

	var service, helpText, window, zone string
	settings := &cobra.Command{
		Use:   "settings --shop SLUG [--messaging-service SID] [--help-text TEXT] [--window 08:00-21:00] [--time-zone ZONE]",
		Short: "Show or change the shop's messaging settings",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withMessaging(c, load, slug, func(ctx context.Context, svc *messaging.Service) error {
				cur, err := svc.Settings(ctx)
				if err != nil {
					return err
				}
				f := c.Flags()
				if f.Changed("messaging-service") || f.Changed("help-text") || f.Changed("window") || f.Changed("time-zone") {
					if f.Changed("messaging-service") {
						cur.MessagingServiceSID = service
					}
					if f.Changed("help-text") {
						cur.HelpText = helpText
					}
					if f.Changed("window") {
						if cur.SendFrom, cur.SendUntil, err = parseWindow(window); err != nil {
							return err
						}
					}
					if f.Changed("time-zone") {
						cur.TimeZone = zone
					}
					if cur, err = svc.SaveSettings(ctx, cur); err != nil {
						return err
					}
				}
				w := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintf(w, "messaging service\t%s\n", orDash(cur.MessagingServiceSID))
				fmt.Fprintf(w, "marketing SMS window\t%02d:%02d-%02d:%02d\n", cur.SendFrom/60, cur.SendFrom%60, cur.SendUntil/60, cur.SendUntil%60)
				fmt.Fprintf(w, "time zone\t%s\n", orDash(cur.TimeZone))
				fmt.Fprintf(w, "help text\t%s\n", orDash(cur.HelpText))
				return w.Flush()
			})
		},
	}
	settings.Flags().StringVar(&service, "messaging-service", "", "the shop's Twilio Messaging Service SID (empty: none)")
	settings.Flags().StringVar(&helpText, "help-text", "", "the answer to HELP and INFO")
	settings.Flags().StringVar(&window, "window", "", "when marketing SMS may go out, HH:MM-HH:MM in the recipient's zone")
	settings.Flags().StringVar(&zone, "time-zone", "", "the shop's IANA time zone")

	cmd.AddCommand(show, set, settings)
	return cmd
}

// parseWindow parses "HH:MM-HH:MM" into minutes after midnight.
func parseWindow(s string) (int, int, error) {
	from, until, ok := strings.Cut(s, "-")
	a, err1 := time.Parse("15:04", strings.TrimSpace(from))
	b, err2 := time.Parse("15:04", strings.TrimSpace(until))
	if !ok || err1 != nil || err2 != nil {
		if strings.TrimSpace(until) == "24:00" && err1 == nil {
			return a.Hour()*60 + a.Minute(), 24 * 60, nil
		}
		return 0, 0, ports.Invalid("window", "want HH:MM-HH:MM, e.g. 08:00-21:00")
	}
	return a.Hour()*60 + a.Minute(), b.Hour()*60 + b.Minute(), nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printConsent(out io.Writer, st messaging.ConsentState) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "contact\t%s\n", st.Contact.ID)
	fmt.Fprintf(w, "phone\t%s\n", orDash(st.Contact.Phone))
	fmt.Fprintf(w, "email\t%s\n", orDash(st.Contact.Email))
	for _, topic := range []ports.ConsentTopic{ports.TopicEmail, ports.TopicMarketing, ports.TopicSMS} {
		state := "given"
		for _, r := range st.Records {
			if r.Topic == topic {
				if r.OptedOut {
					state = "withdrawn"
				}
				state += fmt.Sprintf(" (%s, %s)", r.Source, r.ChangedAt.Format(time.RFC3339))
			}
		}
		fmt.Fprintf(w, "%s\t%s\n", topic, state)
	}
	_ = w.Flush()
}
