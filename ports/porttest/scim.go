package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestSCIM checks GlobalTx.SCIM: tokens by hash, users, groups, members,
// mappings and grants, each bound to its org (AUTH-14).
func TestSCIM(t *testing.T, s StoreSuite) { s.check(t); testSCIM(t, s.New) }

// scimDo runs fn on the SCIM repository in one global unit of work.
func scimDo(t *testing.T, s ports.Store, fn func(ctx context.Context, r ports.SCIMRepo) error) error {
	t.Helper()
	return s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error { return fn(ctx, tx.SCIM()) })
}

// scimOK is scimDo that requires success.
func scimOK(t *testing.T, s ports.Store, fn func(ctx context.Context, r ports.SCIMRepo) error) {
	t.Helper()
	require.NoError(t, scimDo(t, s, fn))
}

func testSCIM(t *testing.T, newStore StoreHarness) {
	t.Run("Tokens", func(t *testing.T) {
		s := newStore(t)
		a, b := seed(t, s, 0, 1), seed(t, s, 0, 0)
		tok := ports.SCIMToken{ID: ports.NewSCIMTokenID(), OrgID: a.org.ID, TokenHash: tokenHash(), CreatedBy: a.users[0].ID, RevokedAt: time.Now()}
		var created ports.SCIMToken
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			var err error
			created, err = r.CreateToken(ctx, tok)
			return err
		})
		assert.False(t, created.CreatedAt.IsZero(), "the store stamps CreatedAt")
		assert.True(t, created.RevokedAt.IsZero(), "a new token is not revoked")
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			got, err := r.TokenByHash(ctx, tok.TokenHash)
			require.NoError(t, err)
			assert.Equal(t, created, got, "every field round-trips")
			list, err := r.ListTokens(ctx, a.org.ID)
			require.NoError(t, err)
			assert.Equal(t, []ports.SCIMToken{created}, list)
			list, err = r.ListTokens(ctx, b.org.ID)
			require.NoError(t, err)
			assert.Empty(t, list, "another org lists none")
			_, err = r.RevokeToken(ctx, b.org.ID, tok.ID, time.Now())
			assert.ErrorIs(t, err, ports.ErrNotFound, "another org cannot revoke it")
			_, err = r.TokenByHash(ctx, tokenHash())
			assert.ErrorIs(t, err, ports.ErrNotFound)
			return nil
		})
		dup := tok
		dup.ID = ports.NewSCIMTokenID()
		assert.ErrorIs(t, scimDo(t, s, func(ctx context.Context, r ports.SCIMRepo) error { _, err := r.CreateToken(ctx, dup); return err }), ports.ErrConflict, "a hash is unique over all orgs")
		short := tok
		short.ID, short.TokenHash = ports.NewSCIMTokenID(), []byte("short")
		assert.ErrorIs(t, scimDo(t, s, func(ctx context.Context, r ports.SCIMRepo) error { _, err := r.CreateToken(ctx, short); return err }), ports.ErrInvalid)
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			revoked, err := r.RevokeToken(ctx, a.org.ID, tok.ID, time.Now())
			require.NoError(t, err)
			assert.False(t, revoked.RevokedAt.IsZero())
			_, err = r.TokenByHash(ctx, tok.TokenHash)
			assert.ErrorIs(t, err, ports.ErrNotFound, "a revoked token finds nothing")
			_, err = r.RevokeToken(ctx, a.org.ID, tok.ID, time.Now())
			assert.ErrorIs(t, err, ports.ErrNotFound, "revoked once")
			return nil
		})
	})

	t.Run("UsersAndGroups", func(t *testing.T) {
		s := newStore(t)
		a, b := seed(t, s, 2, 3), seed(t, s, 1, 1)
		u := ports.SCIMUser{ID: ports.NewSCIMUserID(), OrgID: a.org.ID, UserID: a.users[0].ID, UserName: " Ann@Example.COM ",
			ExternalID: "okta-1", GivenName: "Ann", FamilyName: "Lee", DisplayName: "Ann Lee", Active: true}
		var created ports.SCIMUser
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			var err error
			created, err = r.CreateUser(ctx, u)
			return err
		})
		assert.Equal(t, "ann@example.com", created.UserName, "userName is normalised")
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			got, err := r.GetUser(ctx, a.org.ID, u.ID)
			require.NoError(t, err)
			assert.Equal(t, created, got, "every field round-trips")
			_, err = r.GetUser(ctx, b.org.ID, u.ID)
			assert.ErrorIs(t, err, ports.ErrNotFound, "another org's id finds nothing")
			list, total, err := r.ListUsers(ctx, a.org.ID, "ANN@example.com", ports.SCIMPage{Limit: 10})
			require.NoError(t, err)
			assert.Equal(t, 1, total)
			assert.Equal(t, []ports.SCIMUser{created}, list)
			_, total, err = r.ListUsers(ctx, b.org.ID, "ann@example.com", ports.SCIMPage{Limit: 10})
			require.NoError(t, err)
			assert.Zero(t, total, "another org's filter finds nothing")
			return nil
		})
		same := u
		same.ID = ports.NewSCIMUserID()
		assert.ErrorIs(t, scimDo(t, s, func(ctx context.Context, r ports.SCIMRepo) error { _, err := r.CreateUser(ctx, same); return err }), ports.ErrConflict, "one userName per org")
		other := same
		other.OrgID = b.org.ID
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error { _, err := r.CreateUser(ctx, other); return err })
		// Pages: three users, two per page.
		u2 := ports.SCIMUser{ID: ports.NewSCIMUserID(), OrgID: a.org.ID, UserID: a.users[1].ID, UserName: "bo@example.com", Active: true}
		u3 := ports.SCIMUser{ID: ports.NewSCIMUserID(), OrgID: a.org.ID, UserID: a.users[2].ID, UserName: "cy@example.com", Active: true}
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			for _, x := range []ports.SCIMUser{u2, u3} {
				if _, err := r.CreateUser(ctx, x); err != nil {
					return err
				}
			}
			page, total, err := r.ListUsers(ctx, a.org.ID, "", ports.SCIMPage{Offset: 2, Limit: 2})
			require.NoError(t, err)
			assert.Equal(t, 3, total)
			require.Len(t, page, 1)
			assert.Equal(t, u3.ID, page[0].ID)
			return nil
		})
		// Update keeps the link and userName; another org cannot update.
		upd := created
		upd.Active, upd.GivenName, upd.UserName, upd.UserID = false, "Annie", "evil@example.com", a.users[2].ID
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			got, err := r.UpdateUser(ctx, upd)
			require.NoError(t, err)
			assert.False(t, got.Active)
			assert.Equal(t, "Annie", got.GivenName)
			assert.Equal(t, "ann@example.com", got.UserName, "userName is not changed by an update")
			assert.Equal(t, a.users[0].ID, got.UserID, "the platform user is not changed by an update")
			cross := upd
			cross.OrgID = b.org.ID
			_, err = r.UpdateUser(ctx, cross)
			assert.ErrorIs(t, err, ports.ErrNotFound)
			return nil
		})

		g := ports.SCIMGroup{ID: ports.NewSCIMGroupID(), OrgID: a.org.ID, DisplayName: "Field Techs", ExternalID: "grp-1"}
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			created, err := r.CreateGroup(ctx, g)
			require.NoError(t, err)
			got, err := r.GetGroup(ctx, a.org.ID, g.ID)
			require.NoError(t, err)
			assert.Equal(t, created, got)
			_, err = r.GetGroup(ctx, b.org.ID, g.ID)
			assert.ErrorIs(t, err, ports.ErrNotFound)
			list, total, err := r.ListGroups(ctx, a.org.ID, "Field Techs", ports.SCIMPage{Limit: 5})
			require.NoError(t, err)
			assert.Equal(t, 1, total)
			assert.Equal(t, []ports.SCIMGroup{created}, list)
			require.NoError(t, r.AddMember(ctx, a.org.ID, g.ID, u.ID))
			require.NoError(t, r.AddMember(ctx, a.org.ID, g.ID, u.ID), "adding twice is a no-op")
			assert.ErrorIs(t, r.AddMember(ctx, a.org.ID, g.ID, other.ID), ports.ErrNotFound, "another org's user cannot join")
			assert.ErrorIs(t, r.AddMember(ctx, b.org.ID, g.ID, other.ID), ports.ErrNotFound, "nor through its own org")
			members, err := r.GroupMembers(ctx, a.org.ID, g.ID)
			require.NoError(t, err)
			assert.Equal(t, []ports.SCIMUserID{u.ID}, members)
			groups, err := r.UserGroups(ctx, a.org.ID, u.ID)
			require.NoError(t, err)
			assert.Equal(t, []ports.SCIMGroup{created}, groups)
			groups, err = r.UserGroups(ctx, b.org.ID, u.ID)
			require.NoError(t, err)
			assert.Empty(t, groups)
			g2 := g
			g2.DisplayName = "Renamed"
			renamed, err := r.UpdateGroup(ctx, g2)
			require.NoError(t, err)
			assert.Equal(t, "Renamed", renamed.DisplayName)
			return nil
		})
		dupGroup := g
		dupGroup.ID, dupGroup.DisplayName = ports.NewSCIMGroupID(), "Renamed"
		assert.ErrorIs(t, scimDo(t, s, func(ctx context.Context, r ports.SCIMRepo) error { _, err := r.CreateGroup(ctx, dupGroup); return err }), ports.ErrConflict, "one displayName per org")

		// Mappings reach only the org's own shops and groups.
		m := ports.SCIMMapping{ID: ports.NewSCIMMappingID(), OrgID: a.org.ID, GroupID: g.ID, ShopID: a.shops[1].ID, Role: ports.RoleTech}
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			_, err := r.CreateMapping(ctx, m)
			require.NoError(t, err)
			x := m
			x.ID, x.ShopID = ports.NewSCIMMappingID(), b.shops[0].ID
			_, err = r.CreateMapping(ctx, x)
			assert.ErrorIs(t, err, ports.ErrNotFound, "another org's shop")
			x.ShopID, x.OrgID = a.shops[0].ID, b.org.ID
			_, err = r.CreateMapping(ctx, x)
			assert.ErrorIs(t, err, ports.ErrNotFound, "another org's group")
			x.OrgID, x.Role = a.org.ID, "root"
			_, err = r.CreateMapping(ctx, x)
			assert.ErrorIs(t, err, ports.ErrInvalid)
			list, err := r.ListMappings(ctx, a.org.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, m.GroupID, list[0].GroupID)
			assert.Equal(t, m.ShopID, list[0].ShopID)
			assert.Equal(t, ports.RoleTech, list[0].Role)
			list, err = r.ListMappings(ctx, b.org.ID)
			require.NoError(t, err)
			assert.Empty(t, list)
			_, err = r.DeleteMapping(ctx, b.org.ID, m.ID)
			assert.ErrorIs(t, err, ports.ErrNotFound)

			// Grants.
			require.NoError(t, r.SetGrant(ctx, ports.SCIMGrant{OrgID: a.org.ID, User: u.ID, ShopID: a.shops[1].ID, Role: ports.RoleTech}))
			require.NoError(t, r.SetGrant(ctx, ports.SCIMGrant{OrgID: a.org.ID, User: u.ID, ShopID: a.shops[1].ID, Role: ports.RoleAdmin}), "a second grant changes the role")
			assert.ErrorIs(t, r.SetGrant(ctx, ports.SCIMGrant{OrgID: a.org.ID, User: u.ID, ShopID: b.shops[0].ID, Role: ports.RoleTech}), ports.ErrNotFound, "another org's shop")
			assert.ErrorIs(t, r.SetGrant(ctx, ports.SCIMGrant{OrgID: b.org.ID, User: u.ID, ShopID: b.shops[0].ID, Role: ports.RoleTech}), ports.ErrNotFound, "another org's user")
			grants, err := r.Grants(ctx, a.org.ID, u.ID)
			require.NoError(t, err)
			assert.Equal(t, []ports.SCIMGrant{{OrgID: a.org.ID, User: u.ID, ShopID: a.shops[1].ID, Role: ports.RoleAdmin}}, grants)
			grants, err = r.Grants(ctx, b.org.ID, u.ID)
			require.NoError(t, err)
			assert.Empty(t, grants)
			return nil
		})

		// Deleting: another org's id is not found; a group takes its
		// members and mappings along, a user its members and grants.
		scimOK(t, s, func(ctx context.Context, r ports.SCIMRepo) error {
			assert.ErrorIs(t, r.DeleteUser(ctx, b.org.ID, u.ID), ports.ErrNotFound)
			assert.ErrorIs(t, r.DeleteGroup(ctx, b.org.ID, g.ID), ports.ErrNotFound)
			require.NoError(t, r.DeleteUser(ctx, a.org.ID, u.ID))
			members, err := r.GroupMembers(ctx, a.org.ID, g.ID)
			require.NoError(t, err)
			assert.Empty(t, members)
			grants, err := r.Grants(ctx, a.org.ID, u.ID)
			require.NoError(t, err)
			assert.Empty(t, grants)
			require.NoError(t, r.DeleteGroup(ctx, a.org.ID, g.ID))
			list, err := r.ListMappings(ctx, a.org.ID)
			require.NoError(t, err)
			assert.Empty(t, list)
			_, err = r.GetUser(ctx, a.org.ID, u.ID)
			assert.ErrorIs(t, err, ports.ErrNotFound)
			return nil
		})
	})
}
