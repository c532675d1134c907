package cli_test

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// TestHousekeepingCommand: one pass deletes a session idle for longer than
// the configured idle timeout and signs the shop's chain head; the second
// pass has nothing to do. A bad setting fails with one line.
func TestHousekeepingCommand(t *testing.T) {
	env := []string{"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "STOCKADE_AUTH_SESSION_IDLE_TIMEOUT=1h"}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.NoError(t, err)

	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	var shop ports.Shop
	var u ports.User
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if shop, err = tx.Shops().GetBySlug(ctx, "acme"); err != nil {
			return err
		}
		u, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "ann@example.com"})
		return err
	}))
	require.NoError(t, st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Add(ctx, u.ID, ports.RoleTech); err != nil {
			return err
		}
		s, err := tx.Sessions().Create(ctx, ports.Session{ID: ports.NewSessionID(), UserID: u.ID, TokenHash: make([]byte, ports.TokenHashSize),
			Method: "password", ExpiresAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			return err
		}
		return tx.Sessions().Touch(ctx, s.ID, time.Now().Add(-2*time.Hour)) // idle for longer than 1h
	}))
	require.NoError(t, st.Close())

	out, err := runIn(t, env, "", "housekeeping")
	require.NoError(t, err, out)
	assert.Regexp(t, regexp.MustCompile(`^shops 1: deleted 1 sessions, 0 magic links, 0 invitations, 0 links, 0 done jobs, 0 messages, 0 messaging events, 0 pending uploads, 0 staging objects, 0 partial objects, 0 operator sessions, 0 rate-limit counters; 1 checkpoints signed; 0 shops failed\n$`), out)
	out, err = runIn(t, env, "", "housekeeping")
	require.NoError(t, err, out)
	assert.Contains(t, out, "deleted 0 sessions", out)
	assert.Contains(t, out, "; 0 checkpoints signed", "the head did not move")

	_, err = runIn(t, append(env, "STOCKADE_HOUSEKEEPING_GRACE=-1h"), "", "housekeeping")
	require.ErrorContains(t, err, "STOCKADE_HOUSEKEEPING_GRACE")
	_, err = runIn(t, append(env, "STOCKADE_HOUSEKEEPING_UPLOAD_GRACE=10m"), "", "housekeeping")
	require.ErrorContains(t, err, "STOCKADE_HOUSEKEEPING_UPLOAD_GRACE", "shorter than an upload URL lives")
}
