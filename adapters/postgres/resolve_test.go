package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/ports"
)

// resolveSelect is ResolveSession's SELECT without the set_config in
// front of it.
func resolveSelect(shop ports.ShopID, id ports.SessionID) string {
	return `SELECT s.id::text, m.role FROM sessions s JOIN memberships m ON (m.shop_id, m.user_id) = (s.shop_id, s.user_id) ` +
		`WHERE s.shop_id = '` + shop.String() + `' AND s.id = '` + id.String() + `'`
}

// TestResolveSessionKeepsRowLevelSecurity shows that ResolveSession's one
// round trip does not step around the tenant boundary: its SELECT finds
// the row only because the set_config travelling in the same message binds
// it, the setting ends with the message, and another shop's session is
// not found.
func TestResolveSessionKeepsRowLevelSecurity(t *testing.T) {
	s, _ := fresh(t, postgres.WithMaxConns(1)) // one connection: later checks see the same session
	a, b := twoShops(t, s)
	aAuth := withAuth(t, s, a, tokenHash("a"))
	bAuth := withAuth(t, s, b, tokenHash("b"))
	ctx := context.Background()
	db := s.DB()

	got, err := s.ResolveSession(ctx, a, aAuth.session.ID)
	require.NoError(t, err)
	assert.Equal(t, aAuth.session, got.Session)
	assert.Equal(t, ports.RoleOwner, got.Role)

	t.Run("TheSelectAloneFindsNothing", func(t *testing.T) {
		var id, role string
		err := db.QueryRowContext(ctx, resolveSelect(a, aAuth.session.ID)).Scan(&id, &role)
		require.ErrorIs(t, err, sql.ErrNoRows, "without the GUC, RLS hides the row from the application role")
	})

	t.Run("TheSameSelectAfterSetConfigFindsIt", func(t *testing.T) {
		rows, err := db.QueryContext(ctx, `SELECT set_config('app.shop_id', '`+a.String()+`', true); `+resolveSelect(a, aAuth.session.ID))
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
		}
		require.True(t, rows.NextResultSet(), "lib/pq hands over the second result set")
		require.True(t, rows.Next())
		var id, role string
		require.NoError(t, rows.Scan(&id, &role))
		assert.Equal(t, aAuth.session.ID.String(), id)
		assert.False(t, rows.Next())
		require.NoError(t, rows.Err())
	})

	t.Run("TheSettingEndsWithTheMessage", func(t *testing.T) {
		_, err := s.ResolveSession(ctx, a, aAuth.session.ID)
		require.NoError(t, err)
		var setting string
		require.NoError(t, db.GetContext(ctx, &setting, `SELECT current_setting('app.shop_id', true)`))
		assert.Equal(t, "", setting, "the pool's only connection carries no tenant afterwards")
		assert.Zero(t, count(t, db, `SELECT count(*) FROM sessions`))
	})

	t.Run("AnErrorLeavesTheConnectionClean", func(t *testing.T) {
		_, err := db.ExecContext(ctx, `SELECT set_config('app.shop_id', '`+a.String()+`', true); SELECT 1/0`)
		require.Error(t, err)
		assert.Equal(t, "22012", sqlState(err), "division_by_zero")
		var setting string
		require.NoError(t, db.GetContext(ctx, &setting, `SELECT current_setting('app.shop_id', true)`))
		assert.Equal(t, "", setting)
		_, err = s.ResolveSession(ctx, a, aAuth.session.ID)
		require.NoError(t, err, "the connection went back to the pool usable")
	})

	t.Run("AnotherShopsSessionIsNotFound", func(t *testing.T) {
		_, err := s.ResolveSession(ctx, a, bAuth.session.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = s.ResolveSession(ctx, b, aAuth.session.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = s.ResolveSession(ctx, b, bAuth.session.ID)
		require.NoError(t, err)
	})

	t.Run("ContractErrors", func(t *testing.T) {
		_, err := s.ResolveSession(ctx, ports.ShopID{}, aAuth.session.ID)
		require.ErrorIs(t, err, ports.ErrInvalid)
		_, err = s.ResolveSession(ctx, a, ports.SessionID{})
		require.ErrorIs(t, err, ports.ErrInvalid)
		_, err = s.ResolveSession(ctx, a, ports.NewSessionID())
		require.ErrorIs(t, err, ports.ErrNotFound)
		err = s.InShop(ctx, a, func(ctx context.Context, _ ports.ShopTx) error {
			_, err := s.ResolveSession(ctx, a, aAuth.session.ID)
			return err
		})
		require.ErrorIs(t, err, ports.ErrNestedUnitOfWork, "refused, not deadlocked on the single connection")
	})

	t.Run("ACancelledContextIsReported", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.ResolveSession(cctx, a, aAuth.session.ID)
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.ResolveSession(ctx, a, aAuth.session.ID)
		require.NoError(t, err)
	})
}
