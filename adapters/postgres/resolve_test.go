package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/ports"
)

// pipeline sends setSQL (with setArg) and query in one pgx batch — one
// pipeline ended by one Sync, as the store sends a read — on one pooled
// connection of db, and hands the results to read.
func pipeline(ctx context.Context, db *sql.DB, read func(pgx.BatchResults) error, setSQL, setArg, query string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		b := &pgx.Batch{}
		b.Queue(setSQL, setArg)
		b.Queue(query)
		br := dc.(*stdlib.Conn).Conn().SendBatch(ctx, b)
		err := read(br)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// resolveSelect is ResolveSession's SELECT without the set_config in
// front of it.
func resolveSelect(shop ports.ShopID, id ports.SessionID) string {
	return `SELECT s.id::text, m.role FROM sessions s JOIN memberships m ON (m.shop_id, m.user_id) = (s.shop_id, s.user_id) ` +
		`WHERE s.shop_id = '` + shop.String() + `' AND s.id = '` + id.String() + `'`
}

// TestResolveSessionKeepsRowLevelSecurity shows that ResolveSession's one
// round trip does not step around the tenant boundary: its SELECT finds
// the row only because the set_config travelling in the same pipeline
// binds it, the setting ends with the pipeline, and another shop's
// session is not found.
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
		var id, role string
		err := pipeline(ctx, db.DB, func(br pgx.BatchResults) error {
			if _, err := br.Exec(); err != nil {
				return err
			}
			return br.QueryRow().Scan(&id, &role)
		}, `SELECT set_config('app.shop_id', $1, true)`, a.String(), resolveSelect(a, aAuth.session.ID))
		require.NoError(t, err)
		assert.Equal(t, aAuth.session.ID.String(), id, "set_config and the SELECT in one pipeline: one implicit transaction")
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
		err := pipeline(ctx, db.DB, func(br pgx.BatchResults) error {
			if _, err := br.Exec(); err != nil {
				return err
			}
			_, err := br.Exec()
			return err
		}, `SELECT set_config('app.shop_id', $1, true)`, a.String(), `SELECT 1/0`)
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
