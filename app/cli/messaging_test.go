package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// inShopDir runs fn in the unit of work of the shop with slug, through
// the same data directory as the CLI.
func inShopDir(t *testing.T, env []string, slug string, fn func(ctx context.Context, tx ports.ShopTx) error) {
	t.Helper()
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	defer st.Close()
	var shop ports.Shop
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		shop, err = tx.Shops().GetBySlug(ctx, slug)
		return err
	}))
	require.NoError(t, st.InShop(ctx, shop.ID, fn))
}

// TestMessagingCommands: an operator reads a contact's consent, records
// an opt-out for a contact (source admin, audited as system:cli) and sets
// the shop's messaging settings; bad input fails with one line and
// changes nothing.
func TestMessagingCommands(t *testing.T) {
	env := []string{"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "STOCKADE_MESSAGING_DEFAULT_COUNTRY_CODE=1"}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.NoError(t, err)
	inShopDir(t, env, "acme", func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Consent().CreateContact(ctx, ports.Contact{ID: ports.NewContactID(), Phone: "+15551230001", Email: "ann@example.com"})
		return err
	})

	out, err := runIn(t, env, "", "messaging", "consent", "--shop", "acme", "(555) 123-0001")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^marketing\s+given$`, out)
	assert.Contains(t, out, "ann@example.com")

	out, err = runIn(t, env, "", "messaging", "set-consent", "--shop", "acme", "--topic", "marketing", "--opt-out", "ANN@example.com")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^marketing\s+withdrawn \(admin, `, out)
	assert.Regexp(t, `(?m)^sms\s+given$`, out)

	out, err = runIn(t, env, "", "messaging", "settings", "--shop", "acme", "--window", "09:00-20:30", "--time-zone", "America/Chicago", "--messaging-service", "MGacme")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^marketing SMS window\s+09:00-20:30$`, out)
	assert.Regexp(t, `(?m)^messaging service\s+MGacme$`, out)

	for _, bad := range [][]string{
		{"messaging", "consent", "--shop", "acme", "+15559999999"},
		{"messaging", "consent", "--shop", "nope", "+15551230001"},
		{"messaging", "consent", "+15551230001"},
		{"messaging", "set-consent", "--shop", "acme", "--topic", "fax", "--opt-out", "+15551230001"},
		{"messaging", "set-consent", "--shop", "acme", "--topic", "sms", "+15551230001"},
		{"messaging", "settings", "--shop", "acme", "--window", "21:00-08:00"},
		{"messaging", "settings", "--shop", "acme", "--window", "soon"},
		{"messaging", "settings", "--shop", "acme", "--time-zone", "Mars/Olympus"},
	} {
		_, err := runIn(t, env, "", bad...)
		require.Error(t, err, "%v", bad)
		assert.NotContains(t, strings.TrimSpace(err.Error()), "\n", "one line: %v", bad)
	}

	var events []ports.AuditEvent
	var settings ports.MessagingSettings
	inShopDir(t, env, "acme", func(ctx context.Context, tx ports.ShopTx) error {
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 100})
		for _, ev := range evs {
			if strings.HasPrefix(ev.Action, "messaging.") {
				events = append(events, ev)
			}
		}
		if err != nil {
			return err
		}
		settings, err = tx.MessagingSettings().Get(ctx)
		return err
	})
	require.Len(t, events, 2, "the opt-out and the settings change, nothing from the refused commands")
	assert.Equal(t, "messaging.consent.withdrawn", events[0].Action)
	assert.Equal(t, "system:cli", events[0].Actor)
	assert.JSONEq(t, `{"topic":"marketing","opted_out":true,"source":"admin","via":"admin"}`, string(events[0].After))
	assert.Equal(t, "messaging.settings.changed", events[1].Action)
	assert.Equal(t, "America/Chicago", settings.TimeZone, "the refused changes left the settings alone")
	assert.Equal(t, [2]int{540, 1230}, [2]int{settings.SendFrom, settings.SendUntil})
}
