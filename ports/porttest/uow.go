package porttest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

var errBoom = errors.New("boom")

func testUnitOfWork(t *testing.T, newStore StoreHarness) {
	t.Run("CommitsWhenFnReturnsNil", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		inShop(t, s, f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			assert.Equal(t, f.shops[0].ID, tx.ShopID())
			_, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner)
			return err
		})
		require.Len(t, members(t, s, f.shops[0].ID), 1)
	})

	t.Run("RollsBackWhenFnFails", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		err := s.InShop(context.Background(), f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner); err != nil {
				return err
			}
			if _, err := tx.Audit().Append(ctx, event("membership.added")); err != nil {
				return err
			}
			return errBoom
		})
		require.ErrorIs(t, err, errBoom, "InShop returns fn's error unchanged")
		assert.Empty(t, members(t, s, f.shops[0].ID), "the membership was rolled back")
		assert.Empty(t, auditLog(t, s, f.shops[0].ID), "the audit event was rolled back with it")
	})

	t.Run("GlobalRollsBackWhenFnFails", func(t *testing.T) {
		s := newStore(t)
		id := ports.NewOrgID()
		err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			if _, err := tx.Orgs().Create(ctx, ports.Org{ID: id, Name: "Gone"}); err != nil {
				return err
			}
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		err = s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.Orgs().Get(ctx, id)
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("RollsBackAndRepanicsWhenFnPanics", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		require.PanicsWithValue(t, "kaboom", func() {
			_ = s.InShop(context.Background(), f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
				if _, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner); err != nil {
					return err
				}
				panic("kaboom")
			})
		})
		assert.Empty(t, members(t, s, f.shops[0].ID))
		// The store is still usable: the connection was not left mid-transaction.
		inShop(t, s, f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner)
			return err
		})
	})

	t.Run("RefusesNesting", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 2, 1)
		ran := false
		err := s.InShop(context.Background(), f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			nestedShop := s.InShop(ctx, f.shops[1].ID, func(context.Context, ports.ShopTx) error { ran = true; return nil })
			nestedGlobal := s.Global(ctx, func(context.Context, ports.GlobalTx) error { ran = true; return nil })
			nestedRead := s.InShop(ctx, f.shops[0].ID, func(context.Context, ports.ShopTx) error { ran = true; return nil }, ports.ReadOnly())
			return errors.Join(nestedShop, nestedGlobal, nestedRead)
		})
		require.ErrorIs(t, err, ports.ErrNestedUnitOfWork)
		assert.False(t, ran, "a nested unit of work must not run")
	})

	t.Run("RefusesZeroShop", func(t *testing.T) {
		s := newStore(t)
		ran := false
		err := s.InShop(context.Background(), ports.ShopID{}, func(context.Context, ports.ShopTx) error { ran = true; return nil })
		require.ErrorIs(t, err, ports.ErrInvalid)
		assert.False(t, ran)
	})

	t.Run("ReadOnlyRefusesWrites", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		err := s.InShop(context.Background(), f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner)
			return err
		}, ports.ReadOnly())
		require.Error(t, err, "a write in a read-only unit of work must fail")
		assert.Empty(t, members(t, s, f.shops[0].ID))
		err = s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Nope"})
			return err
		}, ports.ReadOnly())
		require.Error(t, err)
	})

	t.Run("ReadOnlySeesCommittedWrites", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		inShop(t, s, f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleTech)
			return err
		})
		inShop(t, s, f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			m, err := tx.Memberships().Get(ctx, f.users[0].ID)
			assert.Equal(t, ports.RoleTech, m.Role)
			return err
		}, ports.ReadOnly())
	})

	t.Run("CanceledContext", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.InShop(ctx, f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner)
			return err
		})
		require.Error(t, err)
		assert.Empty(t, members(t, s, f.shops[0].ID), "nothing is written under a canceled context")
	})

	t.Run("PingAfterMigration", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Ping(context.Background()))
	})
}
