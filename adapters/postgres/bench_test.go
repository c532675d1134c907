package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// BenchmarkShopRead prices the tenant boundary: the same single-row read
// of a tenant table through an InShop unit of work (application role, RLS
// on, transaction + tenant GUC) and through plain sqlx (superuser, no
// transaction, RLS bypassed). Compare the sub-benchmarks with benchstat:
//
//	go test ./adapters/postgres -run '^$' -bench ShopRead -count 10 | tee pg.txt
//	benchstat -col /path pg.txt
func BenchmarkShopRead(b *testing.B) {
	s, pg := fresh(b)
	a, _ := twoShops(b, s)
	ctx := context.Background()
	var user ports.UserID
	require.NoError(b, s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		ms, err := tx.Memberships().List(ctx)
		user = ms[0].UserID
		return err
	}))
	const query = `SELECT shop_id, user_id, role, created_at, updated_at FROM memberships WHERE shop_id = $1 AND user_id = $2`
	type row struct {
		ShopID    string `db:"shop_id"`
		UserID    string `db:"user_id"`
		Role      string `db:"role"`
		CreatedAt any    `db:"created_at"`
		UpdatedAt any    `db:"updated_at"`
	}
	plain := sqlx.MustConnect("pgx", pg.SuperURL)
	defer plain.Close()

	b.Run("path=InShopReadOnly", func(b *testing.B) {
		for b.Loop() {
			err := s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Memberships().Get(ctx, user)
				return err
			}, ports.ReadOnly())
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("path=InShopReadWrite", func(b *testing.B) {
		for b.Loop() {
			err := s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Memberships().Get(ctx, user)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	// The baseline: the same statement through the same driver, prepared
	// and cached alike, with no transaction and no tenant setting.
	b.Run("path=PlainSqlx", func(b *testing.B) {
		var r row
		for b.Loop() {
			if err := plain.GetContext(ctx, &r, query, a.String(), user.String()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkResolveSession prices authenticating one request: the session
// and its user's role read by ResolveSession (one simple-protocol message
// carrying set_config and a join) against the same read through a
// read-only InShop (BEGIN+set_config, two SELECTs, COMMIT). Compare:
//
//	go test ./adapters/postgres -run '^$' -bench ResolveSession -count 6 | tee pg-resolve.txt
//	benchstat -col /path pg-resolve.txt
func BenchmarkResolveSession(b *testing.B) {
	s, _ := fresh(b)
	a, _ := twoShops(b, s)
	sa := withAuth(b, s, a, tokenHash("bench"))
	ctx := context.Background()

	b.Run("path=ResolveSession", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ResolveSession(ctx, a, sa.session.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	imp := impersonationSession(b, s, a, sa.user)
	b.Run("path=ResolveImpersonation", func(b *testing.B) {
		for b.Loop() {
			if rs, err := s.ResolveSession(ctx, a, imp); err != nil || rs.Impersonator.IsZero() {
				b.Fatal(err)
			}
		}
	})
	b.Run("path=InShopReadOnly", func(b *testing.B) {
		for b.Loop() {
			err := s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
				if _, err := tx.Sessions().Get(ctx, sa.session.ID); err != nil {
					return err
				}
				_, err := tx.Memberships().Get(ctx, sa.user)
				return err
			}, ports.ReadOnly())
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// impersonationSession creates an operator, an impersonation of user in
// shop and its session, and returns the session's ID.
func impersonationSession(b *testing.B, s ports.Store, shop ports.ShopID, user ports.UserID) ports.SessionID {
	b.Helper()
	ctx := context.Background()
	var op ports.Operator
	require.NoError(b, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		op, err = tx.Operators().Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: "bench@ops.example.com"}, "$argon2id$x")
		return err
	}))
	var id ports.SessionID
	require.NoError(b, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		i, err := tx.Impersonations().Create(ctx, ports.Impersonation{
			ID: ports.NewImpersonationID(), OperatorID: op.ID, UserID: user, Reason: "benchmark",
			CodeHash: tokenHash("bench-code"), CodeExpiresAt: time.Now().Add(time.Minute), ExpiresAt: time.Now().Add(time.Hour),
		})
		if err != nil {
			return err
		}
		sess, err := tx.Sessions().Create(ctx, ports.Session{
			ID: ports.NewSessionID(), UserID: user, TokenHash: tokenHash("bench-imp"),
			Method: "impersonation", ExpiresAt: i.ExpiresAt, Impersonation: i.ID,
		})
		id = sess.ID
		return err
	}))
	return id
}
