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

func global(t *testing.T, s ports.Store, fn func(ctx context.Context, tx ports.GlobalTx) error) error {
	t.Helper()
	return s.Global(context.Background(), fn)
}

func testDirectory(t *testing.T, newStore StoreHarness) {
	t.Run("Orgs", func(t *testing.T) {
		s := newStore(t)
		before := time.Now().Add(-time.Minute)
		var created ports.Org
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			created, err = tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Acme HQ"})
			return err
		}))
		assert.True(t, created.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ports.Timestamp(created.CreatedAt), created.CreatedAt, "times are kept as ports.Timestamp")
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			got, err := tx.Orgs().Get(ctx, created.ID)
			assert.Equal(t, created, got)
			return err
		}))
		err := global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.Orgs().Create(ctx, ports.Org{ID: created.ID, Name: "Again"})
			return err
		})
		require.ErrorIs(t, err, ports.ErrConflict)
		err = global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.Orgs().Get(ctx, ports.NewOrgID())
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("OrgsRefuseBadInput", func(t *testing.T) {
		s := newStore(t)
		tests := []struct {
			name string
			give ports.Org
		}{
			{"zero id", ports.Org{Name: "x"}},
			{"empty name", ports.Org{ID: ports.NewOrgID()}},
			{"blank name", ports.Org{ID: ports.NewOrgID(), Name: "   "}},
			{"control characters", ports.Org{ID: ports.NewOrgID(), Name: "a\x00b"}},
			{"too long", ports.Org{ID: ports.NewOrgID(), Name: strings.Repeat("x", 201)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
					_, err := tx.Orgs().Create(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
				if !tt.give.ID.IsZero() {
					err = global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
						_, err := tx.Orgs().Get(ctx, tt.give.ID)
						return err
					})
					require.ErrorIs(t, err, ports.ErrNotFound, "nothing was written")
				}
			})
		}
	})

	t.Run("Shops", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 0)
		var a, b ports.Shop
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			if a, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: f.org.ID, Slug: "Bobs-Plumbing", Name: "Bob's Plumbing", Status: ports.ShopActive}); err != nil {
				return err
			}
			b, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: f.org.ID, Slug: "alices-hvac", Name: "Alice's HVAC", Status: ports.ShopActive})
			return err
		}))
		assert.Equal(t, "bobs-plumbing", a.Slug, "slugs are stored lower-case")
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			got, err := tx.Shops().Get(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, a, got)
			got, err = tx.Shops().GetBySlug(ctx, "BOBS-plumbing")
			require.NoError(t, err)
			assert.Equal(t, a, got)
			list, err := tx.Shops().ListByOrg(ctx, f.org.ID)
			require.NoError(t, err)
			assert.Equal(t, []ports.Shop{a, b}, list)
			list, err = tx.Shops().ListByOrg(ctx, ports.NewOrgID())
			require.NoError(t, err)
			assert.Empty(t, list)
			return tx.Shops().SetStatus(ctx, b.ID, ports.ShopSuspended)
		}))
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			got, err := tx.Shops().Get(ctx, b.ID)
			assert.Equal(t, ports.ShopSuspended, got.Status)
			return err
		}))

		tests := []struct {
			name string
			give ports.Shop
			want error
		}{
			{"slug taken", ports.Shop{ID: ports.NewShopID(), OrgID: f.org.ID, Slug: "BOBS-PLUMBING", Name: "Copy", Status: ports.ShopActive}, ports.ErrConflict},
			{"id taken", ports.Shop{ID: a.ID, OrgID: f.org.ID, Slug: "fresh-slug", Name: "Copy", Status: ports.ShopActive}, ports.ErrConflict},
			{"unknown org", ports.Shop{ID: ports.NewShopID(), OrgID: ports.NewOrgID(), Slug: "orphan", Name: "Orphan", Status: ports.ShopActive}, ports.ErrNotFound},
			{"slug too short", ports.Shop{ID: ports.NewShopID(), OrgID: f.org.ID, Slug: "ab", Name: "x", Status: ports.ShopActive}, ports.ErrInvalid},
			{"slug with dot", ports.Shop{ID: ports.NewShopID(), OrgID: f.org.ID, Slug: "evil.example", Name: "x", Status: ports.ShopActive}, ports.ErrInvalid},
			{"slug leading hyphen", ports.Shop{ID: ports.NewShopID(), OrgID: f.org.ID, Slug: "-evil", Name: "x", Status: ports.ShopActive}, ports.ErrInvalid},
			{"slug unicode", ports.Shop{ID: ports.NewShopID(), OrgID: f.org.ID, Slug: "bücher", Name: "x", Status: ports.ShopActive}, ports.ErrInvalid},
			{"bad status", ports.Shop{ID: ports.NewShopID(), OrgID: f.org.ID, Slug: "status", Name: "x", Status: "deleted"}, ports.ErrInvalid},
			{"no org", ports.Shop{ID: ports.NewShopID(), Slug: "no-org", Name: "x", Status: ports.ShopActive}, ports.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
					_, err := tx.Shops().Create(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			list, err := tx.Shops().ListByOrg(ctx, f.org.ID)
			assert.Len(t, list, 2, "refused shops left nothing behind")
			return err
		}))
		err := global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			return tx.Shops().SetStatus(ctx, ports.NewShopID(), ports.ShopActive)
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
		err = global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			return tx.Shops().SetStatus(ctx, a.ID, "gone")
		})
		require.ErrorIs(t, err, ports.ErrInvalid)
	})

	t.Run("Users", func(t *testing.T) {
		s := newStore(t)
		var u ports.User
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			u, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "  Dana@Example.COM ", Name: "Dana"})
			return err
		}))
		assert.Equal(t, "dana@example.com", u.Email, "e-mail is normalised")
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			got, err := tx.Users().GetByEmail(ctx, "DANA@example.com")
			require.NoError(t, err)
			assert.Equal(t, u, got)
			got, err = tx.Users().Get(ctx, u.ID)
			assert.Equal(t, u, got)
			return err
		}))
		tests := []struct {
			name string
			give ports.User
			want error
		}{
			{"email taken in another case", ports.User{ID: ports.NewUserID(), Email: "DANA@EXAMPLE.COM"}, ports.ErrConflict},
			{"id taken", ports.User{ID: u.ID, Email: "other@example.com"}, ports.ErrConflict},
			{"no at", ports.User{ID: ports.NewUserID(), Email: "dana.example.com"}, ports.ErrInvalid},
			{"two ats", ports.User{ID: ports.NewUserID(), Email: "a@b@example.com"}, ports.ErrInvalid},
			{"inner space", ports.User{ID: ports.NewUserID(), Email: "a b@example.com"}, ports.ErrInvalid},
			{"empty", ports.User{ID: ports.NewUserID()}, ports.ErrInvalid},
			{"zero id", ports.User{Email: "zero@example.com"}, ports.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
					_, err := tx.Users().Create(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		err := global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.Users().GetByEmail(ctx, "nobody@example.com")
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})
}
