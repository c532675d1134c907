package cli_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// TestBillingCommands runs stockade billing against a real stripe-mock:
// status, checkout (creating the customer), portal, connect, the retention
// listing; bad input and billing switched off fail with one line; no
// output carries the API key.
func TestBillingCommands(t *testing.T) {
	sm := testinfra.StartStripeMock(t)
	const key = "sk_test_CliSecretValue123"
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "STOCKADE_HTTP_PUBLIC_URL=https://example.com",
		"STOCKADE_STRIPE_API_KEY=" + key, "STOCKADE_STRIPE_API_URL=" + sm.URL,
		"STOCKADE_STRIPE_WEBHOOK_SECRETS=whsec_cli_0123456789abcdef", "STOCKADE_STRIPE_PLANS=pro=price_Pro",
	}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.NoError(t, err)

	out, err := runIn(t, env, "", "billing", "status", "--shop", "acme")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^customer\s+-$`, out)

	_, err = runIn(t, env, "", "billing", "portal", "--shop", "acme")
	require.ErrorIs(t, err, ports.ErrConflict, "no customer yet")
	_, err = runIn(t, env, "", "billing", "checkout", "--shop", "acme", "--plan", "gold")
	require.ErrorIs(t, err, ports.ErrInvalid)
	_, err = runIn(t, env, "", "billing", "status", "--shop", "nope")
	require.ErrorIs(t, err, ports.ErrNotFound)

	out, err = runIn(t, env, "", "billing", "checkout", "--shop", "acme", "--plan", "pro")
	require.NoError(t, err)
	assert.Regexp(t, `^https://\S+\n$`, out)
	out, err = runIn(t, env, "", "billing", "status", "--shop", "acme")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^customer\s+(cus_\w+)$`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	customer := m[1]
	out, err = runIn(t, env, "", "billing", "portal", "--shop", "acme")
	require.NoError(t, err)
	assert.Regexp(t, `^https://\S+\n$`, out)
	out, err = runIn(t, env, "", "billing", "connect", "--shop", "acme")
	require.NoError(t, err)
	assert.Regexp(t, `^https://\S+\n$`, out)

	out, err = runIn(t, env, "", "billing", "refresh", "--shop", "acme")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^connect\s+acct_\w+ charges=false payouts=false details=false$`, out, "the account as Stripe (stripe-mock) has it")

	out, err = runIn(t, env, "", "billing", "past-retention")
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(out, "\n"), "only the header: %s", out)

	// The subscription ended 61 days ago (as its webhook would record).
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	var shop ports.Shop
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		shop, err = tx.Shops().GetBySlug(ctx, "acme")
		return err
	}))
	ended := time.Now().Add(-61 * 24 * time.Hour).Truncate(time.Second)
	require.NoError(t, st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Billing().ApplySubscription(ctx, ports.SubscriptionState{ID: "sub_cli", CustomerID: customer,
			Status: ports.SubscriptionCanceled, EndedAt: ended, AsOf: ended})
		return err
	}))
	require.NoError(t, st.Close())
	out, err = runIn(t, env, "", "billing", "past-retention")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^`+shop.ID.String()+`\s+acme\s+`+regexp.QuoteMeta(ended.UTC().Format("2006-01-02 15:04 MST")), out)
	out, err = runIn(t, env, "", "billing", "status", "--shop", "acme")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^subscription\s+sub_cli canceled$`, out)
	assert.NotContains(t, out, key)

	off := []string{env[0], env[1]}
	_, err = runIn(t, off, "", "billing", "status", "--shop", "acme")
	require.ErrorIs(t, err, ports.ErrUnavailable)
	assert.Contains(t, err.Error(), "STOCKADE_STRIPE_API_KEY")

	bad := append([]string{}, env...)
	bad[2] = "STOCKADE_STRIPE_API_KEY=pk_live_" + key[8:]
	_, err = runIn(t, bad, "", "billing", "status", "--shop", "acme")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STOCKADE_STRIPE_API_KEY")
	assert.NotContains(t, err.Error(), key[8:], "the refused key is not echoed")
}
