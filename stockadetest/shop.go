package stockadetest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// Shop names what [NewShop] created: the shop, its org and its Owner.
type Shop struct {
	ID    ports.ShopID
	Org   ports.OrgID
	Owner ports.UserID
	// Slug names the shop's host: Slug + "." + the public URL's host.
	Slug string
}

// NewShop creates, through the store's ports, an org and an active shop in
// it in one Global unit of work, then the shop's Owner with [AddMember]
// (ports.RoleOwner). Names and the slug are derived from the new shop ID,
// so shops made by repeated calls never collide. Only repositories are
// called, so no audit event is written. Any error fails the test.
func NewShop(t testing.TB, store ports.Store) Shop {
	t.Helper()
	ctx := t.Context()
	s := Shop{ID: ports.NewShopID(), Org: ports.NewOrgID()}
	tag := strings.ReplaceAll(s.ID.String(), "-", "") // the whole ID: a v7 UUID's prefix is its time
	s.Slug = "shop-" + tag
	err := store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if _, err := tx.Orgs().Create(ctx, ports.Org{ID: s.Org, Name: "Org " + tag}); err != nil {
			return err
		}
		_, err := tx.Shops().Create(ctx, ports.Shop{ID: s.ID, OrgID: s.Org, Slug: s.Slug, Name: "Shop " + tag, Status: ports.ShopActive})
		return err
	})
	require.NoError(t, err, "stockadetest: create org and shop")
	s.Owner = AddMember(t, store, s.ID, ports.RoleOwner)
	return s
}

// AddMember creates a user, through the store's ports, and makes them a
// member of shop with role; it returns the user's ID. The user's name and
// e-mail address are derived from the ID. Only repositories are called, so
// no audit event is written. Any error (an unknown shop or role) fails the
// test.
func AddMember(t testing.TB, store ports.Store, shop ports.ShopID, role ports.Role) ports.UserID {
	t.Helper()
	ctx := t.Context()
	id := ports.NewUserID()
	err := store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.Users().Create(ctx, ports.User{ID: id, Email: "user-" + id.String() + "@example.com", Name: "User " + id.String()})
		return err
	})
	require.NoError(t, err, "stockadetest: create user")
	err = store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, id, role)
		return err
	})
	require.NoError(t, err, "stockadetest: add %s member to shop %s", role, shop)
	return id
}
