package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
)

// benchStore is a migrated file database holding one shop with one owner.
type benchStore struct {
	s    *sqlite.Store
	dir  string
	shop ports.ShopID
	user ports.UserID
}

func newBenchStore(b *testing.B) benchStore {
	b.Helper()
	dir := b.TempDir()
	url := "sqlite://" + filepath.Join(dir, "bench.db")
	_, err := sqlite.Migrate(context.Background(), url)
	require.NoError(b, err)
	s, err := sqlite.Open(context.Background(), url)
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	shop, user := ports.NewShopID(), ports.NewUserID()
	require.NoError(b, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		if _, err := tx.Shops().Create(ctx, ports.Shop{ID: shop, OrgID: org.ID, Slug: "bench", Name: "Bench", Status: ports.ShopActive}); err != nil {
			return err
		}
		_, err = tx.Users().Create(ctx, ports.User{ID: user, Email: "bench@example.com"})
		return err
	}))
	require.NoError(b, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, user, ports.RoleOwner)
		return err
	}))
	return benchStore{s: s, dir: dir, shop: shop, user: user}
}

// BenchmarkShopRead prices the unit of work on SQLite: the same single-row
// membership read through InShop (read-only, on the reader pool) and
// through plain sqlx with no transaction. Compare with benchstat:
//
//	go test ./adapters/sqlite -run '^$' -bench ShopRead -count 10 | tee sqlite.txt
//	benchstat -col /path sqlite.txt
func BenchmarkShopRead(b *testing.B) {
	bs := newBenchStore(b)
	s, shop, user, ctx := bs.s, bs.shop, bs.user, context.Background()
	plain := sqlx.MustOpen("sqlite", "file:"+filepath.Join(bs.dir, "bench.db")+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	defer plain.Close()

	b.Run("path=InShopReadOnly", func(b *testing.B) {
		for b.Loop() {
			err := s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
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
			err := s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Memberships().Get(ctx, user)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("path=PlainSqlx", func(b *testing.B) {
		var r struct {
			ShopID    string `db:"shop_id"`
			UserID    string `db:"user_id"`
			Role      string `db:"role"`
			CreatedAt int64  `db:"created_at"`
			UpdatedAt int64  `db:"updated_at"`
		}
		for b.Loop() {
			if err := plain.GetContext(ctx, &r, `SELECT shop_id, user_id, role, created_at, updated_at FROM memberships WHERE shop_id = ? AND user_id = ?`, shop, user); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkResolveSession prices authenticating one request: the
// session and its user's role read by ResolveSession (one SELECT joining
// sessions and memberships on the reader pool) and by a read-only InShop
// doing Sessions().Get then Memberships().Get, the path a store without
// ports.SessionResolver takes.
//
//	go test ./adapters/sqlite -run '^$' -bench ResolveSession -count 10 | tee resolve.txt
//	benchstat -col /path resolve.txt
func BenchmarkResolveSession(b *testing.B) {
	bs := newBenchStore(b)
	ctx := context.Background()
	var id ports.SessionID
	require.NoError(b, bs.s.InShop(ctx, bs.shop, func(ctx context.Context, tx ports.ShopTx) error {
		sess, err := tx.Sessions().Create(ctx, ports.Session{
			ID: ports.NewSessionID(), UserID: bs.user, TokenHash: make([]byte, ports.TokenHashSize),
			Method: "password", ExpiresAt: time.Now().Add(time.Hour),
		})
		id = sess.ID
		return err
	}))

	b.Run("path=ResolveSession", func(b *testing.B) {
		for b.Loop() {
			if _, err := bs.s.ResolveSession(ctx, bs.shop, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	imp := impersonationSession(b, bs.s, bs.shop, bs.user)
	b.Run("path=ResolveImpersonation", func(b *testing.B) {
		for b.Loop() {
			if rs, err := bs.s.ResolveSession(ctx, bs.shop, imp); err != nil || rs.Impersonator.IsZero() {
				b.Fatal(err)
			}
		}
	})
	b.Run("path=InShopReadOnly", func(b *testing.B) {
		for b.Loop() {
			err := bs.s.InShop(ctx, bs.shop, func(ctx context.Context, tx ports.ShopTx) error {
				sess, err := tx.Sessions().Get(ctx, id)
				if err != nil {
					return err
				}
				_, err = tx.Memberships().Get(ctx, sess.UserID)
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
		code := make([]byte, ports.TokenHashSize)
		code[0] = 1
		i, err := tx.Impersonations().Create(ctx, ports.Impersonation{
			ID: ports.NewImpersonationID(), OperatorID: op.ID, UserID: user, Reason: "benchmark",
			CodeHash: code, CodeExpiresAt: time.Now().Add(time.Minute), ExpiresAt: time.Now().Add(time.Hour),
		})
		if err != nil {
			return err
		}
		sess, err := tx.Sessions().Create(ctx, ports.Session{
			ID: ports.NewSessionID(), UserID: user, TokenHash: make([]byte, ports.TokenHashSize),
			Method: "impersonation", ExpiresAt: i.ExpiresAt, Impersonation: i.ID,
		})
		id = sess.ID
		return err
	}))
	return id
}
