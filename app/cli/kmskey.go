package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/adapters/awskms"
	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// newShopKeyCmd manages a shop's customer-managed key (BYOK, STO-4).
func newShopKeyCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	key := &cobra.Command{
		Use:   "key",
		Short: "Manage a shop's customer-managed encryption key (AWS KMS)",
		Args:  cobra.NoArgs,
	}
	var shopArg, arn string
	set := &cobra.Command{
		Use:   "set --shop SLUG|ID --kms-key-arn ARN",
		Short: "Make a KMS key the customer brings the shop's current key-encryption key",
		Long: `Register the AWS KMS key the customer brings (BYOK, see docs/keys.md) as the
shop's current key-encryption key: every data key wrapped from now on is
encrypted under it, with an encryption context naming the shop. Needs
STOCKADE_STORAGE_KEYS=awskms. The key's policy (or a grant) must let the
platform's principal use kms:Encrypt and kms:Decrypt; the command proves it
with a test round trip before recording anything. Files wrapped earlier stay
under the keys that wrapped them. The change is audited in the shop's chain
as system:cli (shop.kms_key.set), attempted before it runs, then its result.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := awskms.ValidKeyARN(strings.TrimSpace(arn)); err != nil {
				return fmt.Errorf("shop key set: --kms-key-arn: %w", err)
			}
			return withAuditStore(c, load, func(ctx context.Context, cfg app.Config, st ports.Store) error {
				if !strings.EqualFold(strings.TrimSpace(cfg.Storage.Keys), app.KeysAWSKMS) {
					return fmt.Errorf("shop key set: STOCKADE_STORAGE_KEYS is not awskms: %w", ports.ErrInvalid)
				}
				shop, err := findShop(ctx, st, shopArg)
				if err != nil {
					return fmt.Errorf("shop key set: %w", err)
				}
				km, err := app.NewAWSKeyManager(ctx, cfg, st)
				if err != nil {
					return err
				}
				arn := strings.TrimSpace(arn)
				if err := auditKeySet(ctx, st, shop.ID, ports.OutcomeAttempted, map[string]string{"kms_key_arn": arn}); err != nil {
					return fmt.Errorf("shop key set: audit: %w", err)
				}
				version, setErr := km.SetCustomerKey(ctx, shop.ID, arn)
				after := map[string]string{"kms_key_arn": arn, "version": version}
				outcome := ports.OutcomeSuccess
				if setErr != nil {
					outcome, after["error"] = ports.OutcomeFailure, setErr.Error()
				}
				if err := auditKeySet(context.WithoutCancel(ctx), st, shop.ID, outcome, after); err != nil {
					return fmt.Errorf("shop key set: audit: %w", err)
				}
				if setErr != nil {
					return fmt.Errorf("shop key set: %w", setErr)
				}
				_, err = fmt.Fprintf(c.OutOrStdout(), "shop %s (%s) now wraps its data keys under %s as key version %s\n", shop.Slug, shop.ID, arn, version)
				return err
			})
		},
	}
	set.Flags().StringVar(&shopArg, "shop", "", "the shop's slug or ID (required)")
	set.Flags().StringVar(&arn, "kms-key-arn", "", "the KMS key's ARN, arn:aws:kms:REGION:ACCOUNT:key/ID (required; not an alias)")
	_ = set.MarkFlagRequired("shop")
	_ = set.MarkFlagRequired("kms-key-arn")
	key.AddCommand(set)
	return key
}

// findShop returns the shop arg names, by ID or by slug.
func findShop(ctx context.Context, st ports.Store, arg string) (ports.Shop, error) {
	var shop ports.Shop
	err := st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if id, perr := ports.ParseShopID(strings.TrimSpace(arg)); perr == nil {
			shop, err = tx.Shops().Get(ctx, id)
		} else {
			shop, err = tx.Shops().GetBySlug(ctx, strings.ToLower(strings.TrimSpace(arg)))
		}
		if err != nil {
			return fmt.Errorf("shop %q: %w", arg, err)
		}
		return nil
	}, ports.ReadOnly())
	return shop, err
}

// auditKeySet appends a shop.kms_key.set event to the shop's chain.
func auditKeySet(ctx context.Context, st ports.Store, shop ports.ShopID, outcome ports.Outcome, after map[string]string) error {
	body, err := json.Marshal(after)
	if err != nil {
		return err
	}
	return st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "system:cli",
			Action: "shop.kms_key.set", Target: "shop:" + shop.String(), Outcome: outcome, After: body})
		return err
	})
}
