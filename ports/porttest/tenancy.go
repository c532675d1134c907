package porttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// The tenancy groups: invitations (tenancy_invitation.go), the last-owner
// rule of memberships (tenancy_owner.go), org members, the unit of work's
// own shop row, and the tenant boundary of all of them.

// orgMemberOp runs do on the org member repository in its own global unit
// of work and returns its error.
func orgMemberOp(s ports.Store, do func(ctx context.Context, r ports.OrgMemberRepo) error) error {
	return s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		return do(ctx, tx.OrgMembers())
	})
}

func orgMembersOf(t *testing.T, s ports.Store, org ports.OrgID) []ports.OrgMember {
	t.Helper()
	var out []ports.OrgMember
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.OrgMembers().List(ctx, org)
		return err
	}, ports.ReadOnly()))
	return out
}

func addOrgMember(t *testing.T, s ports.Store, org ports.OrgID, user ports.UserID, role ports.OrgRole) ports.OrgMember {
	t.Helper()
	var out ports.OrgMember
	require.NoError(t, orgMemberOp(s, func(ctx context.Context, r ports.OrgMemberRepo) error {
		var err error
		out, err = r.Add(ctx, org, user, role)
		return err
	}))
	return out
}

func removeOrgMember(org ports.OrgID, user ports.UserID) func(context.Context, ports.OrgMemberRepo) error {
	return func(ctx context.Context, r ports.OrgMemberRepo) error { return r.Remove(ctx, org, user) }
}

func testOrgMembers(t *testing.T, newStore StoreHarness) {
	t.Run("AddGetList", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 3)
		other := seed(t, s, 0, 0)
		alice, bob := f.users[0].ID, f.users[1].ID
		before := time.Now().Add(-time.Minute)
		owner := addOrgMember(t, s, f.org.ID, alice, ports.OrgOwner)
		admin := addOrgMember(t, s, f.org.ID, bob, ports.OrgAdmin)
		assert.Equal(t, ports.OrgMember{OrgID: f.org.ID, UserID: alice, Role: ports.OrgOwner, CreatedAt: owner.CreatedAt}, owner)
		assert.True(t, owner.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ports.Timestamp(owner.CreatedAt), owner.CreatedAt, "times are kept as ports.Timestamp")

		require.NoError(t, orgMemberOp(s, func(ctx context.Context, r ports.OrgMemberRepo) error {
			got, err := r.Get(ctx, f.org.ID, bob)
			assert.Equal(t, admin, got)
			return err
		}))
		assert.Equal(t, []ports.OrgMember{owner, admin}, orgMembersOf(t, s, f.org.ID), "listed in creation order")
		assert.Empty(t, orgMembersOf(t, s, other.org.ID), "another org has its own members")
		tests := []struct {
			name string
			org  ports.OrgID
			user ports.UserID
		}{
			{"member of another org", other.org.ID, alice},
			{"no org role", f.org.ID, f.users[2].ID},
		}
		for _, tt := range tests {
			err := orgMemberOp(s, func(ctx context.Context, r ports.OrgMemberRepo) error {
				_, err := r.Get(ctx, tt.org, tt.user)
				return err
			})
			require.ErrorIs(t, err, ports.ErrNotFound, tt.name)
		}
	})

	t.Run("AddRefuses", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		alice, bob := f.users[0].ID, f.users[1].ID
		addOrgMember(t, s, f.org.ID, alice, ports.OrgOwner)
		tests := []struct {
			name string
			org  ports.OrgID
			user ports.UserID
			role ports.OrgRole
			want error
		}{
			{"duplicate", f.org.ID, alice, ports.OrgAdmin, ports.ErrConflict},
			{"unknown org", ports.NewOrgID(), bob, ports.OrgAdmin, ports.ErrNotFound},
			{"unknown user", f.org.ID, ports.NewUserID(), ports.OrgAdmin, ports.ErrNotFound},
			{"shop role", f.org.ID, bob, ports.OrgRole(ports.RoleViewer), ports.ErrInvalid},
			{"no role", f.org.ID, bob, "", ports.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := orgMemberOp(s, func(ctx context.Context, r ports.OrgMemberRepo) error {
					_, err := r.Add(ctx, tt.org, tt.user, tt.role)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		err := refusedGlobal(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.OrgMembers().Add(ctx, f.org.ID, bob, "member")
			return err
		})
		require.ErrorIs(t, err, ports.ErrInvalid)
		list := orgMembersOf(t, s, f.org.ID)
		require.Len(t, list, 1, "refused adds wrote nothing")
		assert.Equal(t, ports.OrgOwner, list[0].Role)
	})

	t.Run("RemoveKeepsAnOwner", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 3)
		alice, bob, carol := f.users[0].ID, f.users[1].ID, f.users[2].ID
		addOrgMember(t, s, f.org.ID, alice, ports.OrgOwner)
		addOrgMember(t, s, f.org.ID, bob, ports.OrgAdmin)
		err := orgMemberOp(s, removeOrgMember(f.org.ID, alice))
		require.ErrorIs(t, err, ports.ErrLastOwner)
		require.ErrorIs(t, err, ports.ErrConflict, "ErrLastOwner is a conflict")
		require.ErrorIs(t, orgMemberOp(s, removeOrgMember(f.org.ID, carol)), ports.ErrNotFound, "carol has no org role")
		require.ErrorIs(t, orgMemberOp(s, removeOrgMember(ports.NewOrgID(), alice)), ports.ErrNotFound)
		require.NoError(t, orgMemberOp(s, removeOrgMember(f.org.ID, bob)), "an admin leaves freely")

		newOwner := addOrgMember(t, s, f.org.ID, carol, ports.OrgOwner)
		require.NoError(t, orgMemberOp(s, removeOrgMember(f.org.ID, alice)), "with a second owner the first may leave")
		require.ErrorIs(t, orgMemberOp(s, removeOrgMember(f.org.ID, carol)), ports.ErrLastOwner)
		assert.Equal(t, []ports.OrgMember{newOwner}, orgMembersOf(t, s, f.org.ID))

		other := seed(t, s, 0, 0)
		addOrgMember(t, s, other.org.ID, bob, ports.OrgAdmin)
		require.NoError(t, orgMemberOp(s, removeOrgMember(other.org.ID, bob)), "an org without owners is not locked")
	})

	t.Run("ConcurrentRemovalsKeepAnOwner", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		alice, bob := f.users[0].ID, f.users[1].ID
		addOrgMember(t, s, f.org.ID, alice, ports.OrgOwner)
		addOrgMember(t, s, f.org.ID, bob, ports.OrgOwner)
		racer := func(user ports.UserID) func(hold func()) error {
			return func(hold func()) error {
				return orgMemberOp(s, func(ctx context.Context, r ports.OrgMemberRepo) error {
					if err := r.Remove(ctx, f.org.ID, user); err != nil {
						return err
					}
					hold()
					return nil
				})
			}
		}
		requireOneLastOwner(t, race([2]func(func()) error{racer(alice), racer(bob)}))
		list := orgMembersOf(t, s, f.org.ID)
		require.Len(t, list, 1)
		assert.Equal(t, ports.OrgOwner, list[0].Role, "exactly one owner remains")
	})
}

// thisShopOp runs do on shop's ThisShop repository in its own unit of
// work and returns what it returned.
func thisShopOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error)) (ports.Shop, error) {
	var out ports.Shop
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.ThisShop())
		return err
	})
	return out, err
}

// directoryShop reads a shop from the global directory.
func directoryShop(t *testing.T, s ports.Store, id ports.ShopID) ports.Shop {
	t.Helper()
	var out ports.Shop
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.Shops().Get(ctx, id)
		return err
	}, ports.ReadOnly()))
	return out
}

func testThisShop(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	shop, neighbour := f.shops[0], f.shops[1]

	t.Run("Get", func(t *testing.T) {
		var got ports.Shop
		inShop(t, s, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			got, err = tx.ThisShop().Get(ctx)
			return err
		}, ports.ReadOnly())
		assert.Equal(t, shop, got, "the unit of work's own shop, as the directory holds it")
	})

	t.Run("RenameAndSetStatus", func(t *testing.T) {
		renamed, err := thisShopOp(s, shop.ID, func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) {
			return r.Rename(ctx, "Dana's Plumbing")
		})
		require.NoError(t, err)
		want := shop
		want.Name = "Dana's Plumbing"
		assert.Equal(t, want, renamed, "Rename returns the stored shop")
		suspended, err := thisShopOp(s, shop.ID, func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) {
			return r.SetStatus(ctx, ports.ShopSuspended)
		})
		require.NoError(t, err)
		want.Status = ports.ShopSuspended
		assert.Equal(t, want, suspended, "SetStatus returns the stored shop")
		assert.Equal(t, want, directoryShop(t, s, shop.ID), "the directory sees both changes")
		assert.Equal(t, neighbour, directoryShop(t, s, neighbour.ID), "no other shop changed")

		_, err = thisShopOp(s, shop.ID, func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) {
			return r.SetStatus(ctx, ports.ShopActive)
		})
		require.NoError(t, err)
		want.Status = ports.ShopActive
		assert.Equal(t, want, directoryShop(t, s, shop.ID))
		shop = want
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		tests := []struct {
			name string
			do   func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error)
		}{
			{"empty name", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) { return r.Rename(ctx, "") }},
			{"blank name", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) { return r.Rename(ctx, "   ") }},
			{"control character", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) { return r.Rename(ctx, "a\nb") }},
			{"long name", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) {
				return r.Rename(ctx, strings.Repeat("é", 201))
			}},
			{"unknown status", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) { return r.SetStatus(ctx, "closed") }},
			{"no status", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) { return r.SetStatus(ctx, "") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedInShop(t, s, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tt.do(ctx, tx.ThisShop())
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		assert.Equal(t, shop, directoryShop(t, s, shop.ID), "refused changes wrote nothing")
	})

	t.Run("RollsBackWithTheUnitOfWork", func(t *testing.T) {
		// A settings change and its audit event commit together (AUD-2):
		// when the unit of work fails, the change is undone.
		failed := ports.ErrConflict
		err := s.InShop(context.Background(), shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.ThisShop().Rename(ctx, "Renamed in vain"); err != nil {
				return err
			}
			return failed
		})
		require.ErrorIs(t, err, failed)
		assert.Equal(t, shop, directoryShop(t, s, shop.ID))
	})

	t.Run("MissingShop", func(t *testing.T) {
		tests := []struct {
			name string
			do   func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error)
		}{
			{"Get", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) { return r.Get(ctx) }},
			{"Rename", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) { return r.Rename(ctx, "Ghost") }},
			{"SetStatus", func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) {
				return r.SetStatus(ctx, ports.ShopSuspended)
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := thisShopOp(s, ports.NewShopID(), tt.do)
				require.ErrorIs(t, err, ports.ErrNotFound)
			})
		}
	})
}
