package porttest

import (
	"bytes"
	"context"
	"sort"
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

	t.Run("UsersGetMany", func(t *testing.T) { testUsersGetMany(t, newStore(t)) })
	t.Run("Lists", func(t *testing.T) { testDirectoryLists(t, newStore(t)) })
}

// byCreation sorts rows the way the directory listings page them: by
// creation time, then by ID (a UUID: byte order, which both Postgres'
// uuid and the canonical text form keep).
func byCreation[T any](rows []T, key func(T) (time.Time, [16]byte)) {
	sort.SliceStable(rows, func(i, j int) bool {
		ti, idi := key(rows[i])
		tj, idj := key(rows[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return bytes.Compare(idi[:], idj[:]) < 0
	})
}

// pages walks a listing page by page with page size n, passing each
// page's last ID on as the next cursor, until a page comes back short;
// it returns the rows in the order read and each page's length.
func pages[T any, ID any](t *testing.T, s ports.Store, n int, list func(ctx context.Context, tx ports.GlobalTx, after ID, limit int) ([]T, error), id func(T) ID) ([]T, []int) {
	t.Helper()
	var all []T
	var sizes []int
	var after ID
	for i := 0; i < 20; i++ {
		var page []T
		require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			page, err = list(ctx, tx, after, n)
			return err
		}, ports.ReadOnly()))
		require.LessOrEqual(t, len(page), n, "a page holds at most its limit")
		all, sizes = append(all, page...), append(sizes, len(page))
		if len(page) < n {
			return all, sizes
		}
		after = id(page[len(page)-1])
	}
	t.Fatal("the listing did not end after 20 pages")
	return nil, nil
}

// testDirectoryLists checks OrgRepo.List, ShopRepo.List and
// UserRepo.List: keyset pages in (CreatedAt, ID) order that together hold
// every row once, every shop in any status, each org's shop count, the
// default page size, and ErrNotFound for a cursor naming no row.
func testDirectoryLists(t *testing.T, s ports.Store) {
	orgList := func(ctx context.Context, tx ports.GlobalTx, after ports.OrgID, limit int) ([]ports.OrgListing, error) {
		return tx.Orgs().List(ctx, ports.OrgQuery{After: after, Limit: limit})
	}
	shopList := func(ctx context.Context, tx ports.GlobalTx, after ports.ShopID, limit int) ([]ports.Shop, error) {
		return tx.Shops().List(ctx, ports.ShopQuery{After: after, Limit: limit})
	}
	userList := func(ctx context.Context, tx ports.GlobalTx, after ports.UserID, limit int) ([]ports.User, error) {
		return tx.Users().List(ctx, ports.UserQuery{After: after, Limit: limit})
	}
	orgID := func(o ports.OrgListing) ports.OrgID { return o.ID }
	shopID := func(s ports.Shop) ports.ShopID { return s.ID }
	userID := func(u ports.User) ports.UserID { return u.ID }

	// An empty directory lists nothing, in one short page.
	gotOrgs, sizes := pages(t, s, 2, orgList, orgID)
	assert.Empty(t, gotOrgs)
	assert.Equal(t, []int{0}, sizes)
	gotShops, _ := pages(t, s, 2, shopList, shopID)
	assert.Empty(t, gotShops)
	gotUsers, _ := pages(t, s, 2, userList, userID)
	assert.Empty(t, gotUsers)

	// Three orgs owning two, one and no shops (one suspended), five users
	// (one verified), created in a mixed order over several units of work.
	var orgs []ports.OrgListing
	var shops []ports.Shop
	var users []ports.User
	newUser := func(ctx context.Context, tx ports.GlobalTx, i int) error {
		u := ports.User{ID: ports.NewUserID(), Email: "list-" + strings.Repeat("x", i) + "@example.com", Name: "Lister"}
		if i == 2 {
			u.VerifiedAt = time.Now()
		}
		u, err := tx.Users().Create(ctx, u)
		users = append(users, u)
		return err
	}
	for i, nShops := range []int{2, 1, 0} {
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			o, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Org " + strings.Repeat("I", i+1)})
			if err != nil {
				return err
			}
			orgs = append(orgs, ports.OrgListing{Org: o, Shops: nShops})
			for j := 0; j < nShops; j++ {
				id := ports.NewShopID()
				sh, err := tx.Shops().Create(ctx, ports.Shop{ID: id, OrgID: o.ID, Slug: "list-" + id.String()[24:], Name: "Listed", Status: ports.ShopActive})
				if err != nil {
					return err
				}
				shops = append(shops, sh)
			}
			if err := newUser(ctx, tx, i+1); err != nil {
				return err
			}
			return newUser(ctx, tx, i+4)
		}))
	}
	require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error { return newUser(ctx, tx, 9) }))
	require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.Shops().SetStatus(ctx, shops[2].ID, ports.ShopSuspended)
	}))
	shops[2].Status = ports.ShopSuspended
	byCreation(orgs, func(o ports.OrgListing) (time.Time, [16]byte) { return o.CreatedAt, o.ID.UUID })
	byCreation(shops, func(s ports.Shop) (time.Time, [16]byte) { return s.CreatedAt, s.ID.UUID })
	byCreation(users, func(u ports.User) (time.Time, [16]byte) { return u.CreatedAt, u.ID.UUID })

	gotOrgs, sizes = pages(t, s, 2, orgList, orgID)
	assert.Equal(t, orgs, gotOrgs, "orgs in (CreatedAt, ID) order with their shop counts, each once")
	assert.Equal(t, []int{2, 1}, sizes)
	gotShops, sizes = pages(t, s, 2, shopList, shopID)
	assert.Equal(t, shops, gotShops, "every org's shops, the suspended one too, each once")
	assert.Equal(t, []int{2, 1}, sizes)
	gotUsers, sizes = pages(t, s, 2, userList, userID)
	assert.Equal(t, users, gotUsers, "users in (CreatedAt, ID) order, each once")
	assert.Equal(t, []int{2, 2, 2, 1}, sizes)
	gotUsers, sizes = pages(t, s, 1, userList, userID)
	assert.Equal(t, users, gotUsers, "pages of one")
	assert.Equal(t, []int{1, 1, 1, 1, 1, 1, 1, 0}, sizes, "a page after the last row is empty")

	// A limit that is not positive is the default page size.
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		got, err := tx.Users().List(ctx, ports.UserQuery{})
		require.NoError(t, err)
		assert.Equal(t, users, got)
		got, err = tx.Users().List(ctx, ports.UserQuery{Limit: -1, After: users[4].ID})
		require.NoError(t, err)
		assert.Equal(t, users[5:], got)
		return nil
	}, ports.ReadOnly()))

	// A cursor naming no row is ErrNotFound, not an empty page or the
	// first one; nor is one directory's ID a cursor in another.
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.Orgs().List(ctx, ports.OrgQuery{After: ports.NewOrgID()})
		return err
	}, ports.ReadOnly())
	require.ErrorIs(t, err, ports.ErrNotFound)
	err = s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.Shops().List(ctx, ports.ShopQuery{After: ports.ShopID{UUID: orgs[0].ID.UUID}})
		return err
	}, ports.ReadOnly())
	require.ErrorIs(t, err, ports.ErrNotFound)
	err = s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.Users().List(ctx, ports.UserQuery{After: ports.UserID{UUID: shops[0].ID.UUID}})
		return err
	}, ports.ReadOnly())
	require.ErrorIs(t, err, ports.ErrNotFound)
}

// testUsersGetMany covers UserRepo.GetMany: the known users of a list, by
// ID, with unknown IDs missing and an ID named twice read once.
func testUsersGetMany(t *testing.T, s ports.Store) {
	verified := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)
	var ann, bo, cy ports.User
	require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if ann, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "Ann@Example.com", Name: "Ann"}); err != nil {
			return err
		}
		if bo, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "bo@example.com", Name: "Bo", VerifiedAt: verified}); err != nil {
			return err
		}
		cy, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "cy@example.com"})
		return err
	}))
	getMany := func(ids []ports.UserID) (map[ports.UserID]ports.User, error) {
		var out map[ports.UserID]ports.User
		err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			out, err = tx.Users().GetMany(ctx, ids)
			return err
		}, ports.ReadOnly())
		return out, err
	}
	// What Create stored, written out: Create's answer supplies only the
	// CreatedAt the store stamped.
	wantAnn := ports.User{ID: ann.ID, Email: "ann@example.com", Name: "Ann", CreatedAt: ann.CreatedAt}
	wantBo := ports.User{ID: bo.ID, Email: "bo@example.com", Name: "Bo", CreatedAt: bo.CreatedAt, VerifiedAt: verified.Truncate(time.Microsecond)}
	wantCy := ports.User{ID: cy.ID, Email: "cy@example.com", CreatedAt: cy.CreatedAt}
	unknown := ports.NewUserID()
	tests := []struct {
		name string
		give []ports.UserID
		want map[ports.UserID]ports.User
	}{
		{"all three", []ports.UserID{ann.ID, bo.ID, cy.ID}, map[ports.UserID]ports.User{ann.ID: wantAnn, bo.ID: wantBo, cy.ID: wantCy}},
		{"a subset, in another order", []ports.UserID{cy.ID, ann.ID}, map[ports.UserID]ports.User{ann.ID: wantAnn, cy.ID: wantCy}},
		{"an unknown ID is missing", []ports.UserID{unknown, bo.ID}, map[ports.UserID]ports.User{bo.ID: wantBo}},
		{"only unknown IDs", []ports.UserID{unknown}, map[ports.UserID]ports.User{}},
		{"an ID named twice", []ports.UserID{bo.ID, ann.ID, bo.ID, bo.ID}, map[ports.UserID]ports.User{ann.ID: wantAnn, bo.ID: wantBo}},
		{"no IDs", []ports.UserID{}, map[ports.UserID]ports.User{}},
		{"nil", nil, map[ports.UserID]ports.User{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := getMany(tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	t.Run("as Get reads them", func(t *testing.T) {
		got, err := getMany([]ports.UserID{ann.ID, bo.ID})
		require.NoError(t, err)
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			for _, id := range []ports.UserID{ann.ID, bo.ID} {
				one, err := tx.Users().Get(ctx, id)
				if err != nil {
					return err
				}
				assert.Equal(t, one, got[id])
			}
			return nil
		}))
	})

	t.Run("MaxBatch IDs in one call", func(t *testing.T) {
		ids := make([]ports.UserID, ports.MaxBatch)
		for i := range ids {
			ids[i] = ports.NewUserID()
		}
		ids[0], ids[ports.MaxBatch/2], ids[ports.MaxBatch-1] = cy.ID, ann.ID, bo.ID
		got, err := getMany(ids)
		require.NoError(t, err)
		assert.Equal(t, map[ports.UserID]ports.User{ann.ID: wantAnn, bo.ID: wantBo, cy.ID: wantCy}, got)

		over := append(ids, ports.NewUserID())
		_, err = getMany(over)
		require.ErrorIs(t, err, ports.ErrInvalid, "more than MaxBatch")
	})

	t.Run("UsersByID reads more than MaxBatch in chunks", func(t *testing.T) {
		ids := make([]ports.UserID, 2*ports.MaxBatch+1)
		for i := range ids {
			ids[i] = ports.NewUserID()
		}
		// One known user in each chunk, and ann in the last, short one.
		ids[0], ids[ports.MaxBatch], ids[2*ports.MaxBatch] = cy.ID, bo.ID, ann.ID
		var got map[ports.UserID]ports.User
		require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			got, err = ports.UsersByID(ctx, tx.Users(), ids)
			return err
		}, ports.ReadOnly()))
		assert.Equal(t, map[ports.UserID]ports.User{ann.ID: wantAnn, bo.ID: wantBo, cy.ID: wantCy}, got)
	})
}
