package porttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestSnapshot checks ports.Snapshot (TxOptions.Snapshot): every read of
// such a unit of work sees the store as of its first read, even after
// another unit of work commits a write between two of its reads, and a
// write inside it fails. The stores of s must run units of work
// concurrently (a reader beside a writer): a store that serialises every
// unit of work on one connection, such as an in-memory SQLite database,
// cannot commit a write during a snapshot and has nothing here to show.
func TestSnapshot(t *testing.T, s StoreSuite) {
	s.check(t)
	for _, scope := range []string{"InShop", "Global"} {
		t.Run(scope+"ReadsOneState", func(t *testing.T) {
			st := s.New(t)
			f := seed(t, st, 1, 2)
			shop := f.shops[0].ID
			inShop(t, st, shop, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner)
				return err
			})
			// Between the snapshot's two reads, another unit of work adds
			// a member and a user, and commits.
			writeBetween := func() {
				t.Helper()
				inShop(t, st, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Memberships().Add(ctx, f.users[1].ID, ports.RoleTech)
					return err
				})
				require.NoError(t, st.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
					_, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "late-" + shop.String() + "@example.com", Name: "Late"})
					return err
				}))
			}
			var before, after int
			switch scope {
			case "InShop":
				inShop(t, st, shop, func(ctx context.Context, tx ports.ShopTx) error {
					ms, err := tx.Memberships().List(ctx)
					before = len(ms)
					if err != nil {
						return err
					}
					writeBetween()
					ms, err = tx.Memberships().List(ctx)
					after = len(ms)
					return err
				}, ports.Snapshot())
				assert.Equal(t, 1, before)
				assert.Equal(t, 1, after, "the member added after the snapshot's first read is not seen inside it")
				assert.Len(t, members(t, st, shop), 2, "a unit of work after the snapshot sees the new member")
			case "Global":
				require.NoError(t, st.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
					if _, err := tx.Users().Get(ctx, f.users[0].ID); err != nil {
						return err
					}
					writeBetween()
					_, err := tx.Users().GetByEmail(ctx, "late-"+shop.String()+"@example.com")
					assert.ErrorIs(t, err, ports.ErrNotFound, "the user created after the snapshot's first read is not seen inside it")
					return nil
				}, ports.Snapshot()))
			}
		})
	}
	t.Run("RefusesWrites", func(t *testing.T) {
		st := s.New(t)
		f := seed(t, st, 1, 1)
		err := st.InShop(context.Background(), f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Memberships().List(ctx); err != nil {
				return err
			}
			_, err := tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner)
			return err
		}, ports.Snapshot())
		require.Error(t, err, "a write inside a snapshot unit of work fails")
		assert.Empty(t, members(t, st, f.shops[0].ID))
	})
}
