package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestAuthRowsCannotPointAcrossShops goes below the port: raw SQL on the
// writer connection cannot store a session or magic link in shop B for a
// user who is a member of shop A only, because both tables reference
// memberships by (shop_id, user_id) with foreign keys on.
func TestAuthRowsCannotPointAcrossShops(t *testing.T) {
	s := fresh(t)
	ctx := context.Background()
	var fk int
	require.NoError(t, s.DB().Get(&fk, `PRAGMA foreign_keys`))
	require.Equal(t, 1, fk, "foreign keys are enforced")

	shopA, shopB, alice := ports.NewShopID(), ports.NewShopID(), ports.NewUserID()
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		for _, sh := range []ports.Shop{{ID: shopA, Slug: "shop-a"}, {ID: shopB, Slug: "shop-b"}} {
			sh.OrgID, sh.Name, sh.Status = org.ID, "Shop", ports.ShopActive
			if _, err := tx.Shops().Create(ctx, sh); err != nil {
				return err
			}
		}
		_, err = tx.Users().Create(ctx, ports.User{ID: alice, Email: "alice@example.com"})
		return err
	}))
	require.NoError(t, s.InShop(ctx, shopA, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, alice, ports.RoleOwner)
		return err
	}))
	hash := make([]byte, ports.TokenHashSize)
	now := time.Now().UnixMicro()

	tests := []struct {
		name string
		sql  string
		args []any
		want string
	}{
		{"session in a shop the user is not a member of", `INSERT INTO sessions
			(shop_id, id, user_id, token_hash, method, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, 'password', ?, ?, ?)`,
			[]any{shopB, ports.NewSessionID(), alice, hash, now, now, now}, "FOREIGN KEY constraint failed"},
		{"magic link in a shop the user is not a member of", `INSERT INTO magic_links
			(shop_id, token_hash, user_id, email, created_at, expires_at) VALUES (?, ?, ?, 'alice@example.com', ?, ?)`,
			[]any{shopB, hash, alice, now, now}, "FOREIGN KEY constraint failed"},
		{"session with a short token hash", `INSERT INTO sessions
			(shop_id, id, user_id, token_hash, method, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, 'password', ?, ?, ?)`,
			[]any{shopA, ports.NewSessionID(), alice, hash[:31], now, now, now}, "CHECK constraint failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.DB().Exec(tt.sql, tt.args...)
			require.ErrorContains(t, err, tt.want)
		})
	}
	var n int
	require.NoError(t, s.DB().Get(&n, `SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM magic_links)`))
	assert.Zero(t, n)
}
