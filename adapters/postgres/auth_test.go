package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/ports"
)

// shopAuth is one shop's owner with a session and a magic link.
type shopAuth struct {
	shop    ports.ShopID
	user    ports.UserID
	session ports.Session
	link    ports.MagicLink
}

// ownerOf returns the single member twoShops made in shop.
func ownerOf(t testing.TB, s *postgres.Store, shop ports.ShopID) ports.UserID {
	t.Helper()
	var user ports.UserID
	require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		ms, err := tx.Memberships().List(ctx)
		if err == nil {
			user = ms[0].UserID
		}
		return err
	}, ports.ReadOnly()))
	return user
}

// withAuth gives the owner of shop a session whose token hash is hash and
// a magic link, through the port.
func withAuth(t testing.TB, s *postgres.Store, shop ports.ShopID, hash []byte) shopAuth {
	t.Helper()
	sa := shopAuth{shop: shop, user: ownerOf(t, s, shop)}
	linkHash := sha256.Sum256(append([]byte("link"), hash...))
	require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		sa.session, err = tx.Sessions().Create(ctx, ports.Session{
			ID: ports.NewSessionID(), UserID: sa.user, TokenHash: hash, Method: "password",
			UserAgent: "Mozilla/5.0 'quoted' \\ agent", IP: "192.0.2.7",
			ExpiresAt: s.Now().Add(30 * 24 * time.Hour),
		})
		if err != nil {
			return err
		}
		sa.link, err = tx.MagicLinks().Create(ctx, ports.MagicLink{
			TokenHash: linkHash[:], UserID: sa.user, Email: "owner@example.com", ExpiresAt: s.Now().Add(15 * time.Minute),
		})
		return err
	}))
	return sa
}

func tokenHash(seed string) []byte {
	h := sha256.Sum256([]byte(seed))
	return h[:]
}

func count(t *testing.T, q sqlx.Queryer, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, sqlx.Get(q, &n, query, args...))
	return n
}

// TestAuthRowLevelSecurityAttacks extends TestRowLevelSecurityAttacks to
// the auth tenant tables: raw SQL as the application role.
func TestAuthRowLevelSecurityAttacks(t *testing.T) {
	s, _ := fresh(t)
	a, b := twoShops(t, s)
	withAuth(t, s, a, tokenHash("a"))
	bAuth := withAuth(t, s, b, tokenHash("b"))
	db := s.DB()

	t.Run("SelectWithoutWhereSeesOnlyCurrentShop", func(t *testing.T) {
		for _, table := range []string{"sessions", "magic_links"} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				var shops []string
				require.NoError(t, tx.Select(&shops, `SELECT DISTINCT shop_id::text FROM `+table))
				assert.Equal(t, []string{a.String()}, shops, table)
			})
		}
	})

	t.Run("InsertNamingAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`INSERT INTO sessions (shop_id, id, user_id, token_hash, method, created_at, last_seen_at, expires_at)
				VALUES ($1, $2, $3, $4, 'password', now(), now(), now() + interval '1 day')`,
				b.String(), ports.NewSessionID().String(), bAuth.user.String(), tokenHash("forged"))
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "%v", err)
		})
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`INSERT INTO magic_links (shop_id, token_hash, user_id, email, created_at, expires_at)
				VALUES ($1, $2, $3, 'x@example.com', now(), now() + interval '1 hour')`,
				b.String(), tokenHash("forged"), bAuth.user.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "%v", err)
		})
	})

	t.Run("UpdateMovingASessionToAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE sessions SET shop_id = $1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "%v", err)
		})
	})

	t.Run("UpdateAndDeleteOfAnotherShopTouchNothing", func(t *testing.T) {
		for _, stmt := range []string{
			`UPDATE sessions SET token_hash = $2, expires_at = now() + interval '10 years' WHERE shop_id = $1`,
			`DELETE FROM sessions WHERE shop_id = $1 AND token_hash <> $2`,
			`UPDATE magic_links SET consumed_at = NULL, expires_at = now() + interval '10 years' WHERE shop_id = $1 AND token_hash <> $2`,
			`DELETE FROM magic_links WHERE shop_id = $1 AND token_hash <> $2`,
		} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				res, err := tx.Exec(stmt, b.String(), tokenHash("forged"))
				require.NoError(t, err, stmt)
				n, err := res.RowsAffected()
				require.NoError(t, err)
				assert.Zero(t, n, stmt)
			})
		}
		require.NoError(t, s.InShop(context.Background(), b, func(ctx context.Context, tx ports.ShopTx) error {
			got, err := tx.Sessions().Get(ctx, bAuth.session.ID)
			if err != nil {
				return err
			}
			assert.Equal(t, bAuth.session, got, "B's session is intact")
			_, err = tx.MagicLinks().Consume(ctx, bAuth.link.TokenHash, s.Now())
			return err // B's link is intact and still consumable
		}))
	})

	t.Run("NoTenantSeesZeroRows", func(t *testing.T) {
		for _, table := range []string{"sessions", "magic_links"} {
			assert.Zero(t, count(t, db, `SELECT count(*) FROM `+table), table)
		}
	})
}

// TestMembershipRemovalCascades: ending a membership as the application
// role deletes the member's sessions and magic links in that shop, although
// both tables are under FORCE ROW LEVEL SECURITY (the cascade runs as the
// table owner with forced RLS suspended), and leaves other shops alone.
func TestMembershipRemovalCascades(t *testing.T) {
	s, pg := fresh(t)
	a, b := twoShops(t, s)
	aAuth := withAuth(t, s, a, tokenHash("a"))
	withAuth(t, s, b, tokenHash("b"))
	super := sqlx.MustConnect("pgx", pg.SuperURL)
	defer super.Close()
	perShop := func(table string) map[string]int {
		var rows []struct {
			Shop string `db:"shop_id"`
			N    int    `db:"n"`
		}
		require.NoError(t, super.Select(&rows, `SELECT shop_id::text AS shop_id, count(*) AS n FROM `+table+` GROUP BY 1`))
		out := map[string]int{}
		for _, r := range rows {
			out[r.Shop] = r.N
		}
		return out
	}
	require.Equal(t, map[string]int{a.String(): 1, b.String(): 1}, perShop("sessions"))

	t.Run("ThroughThePort", func(t *testing.T) {
		var heir ports.User
		require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			heir, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "heir@example.com"})
			return err
		}))
		require.NoError(t, s.InShop(context.Background(), a, func(ctx context.Context, tx ports.ShopTx) error {
			// A second owner first: the last one may not leave (TEN-5).
			if _, err := tx.Memberships().Add(ctx, heir.ID, ports.RoleOwner); err != nil {
				return err
			}
			return tx.Memberships().Remove(ctx, aAuth.user)
		}))
		assert.Equal(t, map[string]int{b.String(): 1}, perShop("sessions"), "A's sessions went with the membership; B's stayed")
		assert.Equal(t, map[string]int{b.String(): 1}, perShop("magic_links"))
	})

	t.Run("RawDeleteAsTheApplicationRole", func(t *testing.T) {
		bUser := ownerOf(t, s, b)
		tx := s.DB().MustBegin()
		defer tx.Rollback()
		_, err := tx.Exec(`SELECT set_config('app.shop_id', $1, true)`, b.String())
		require.NoError(t, err)
		res, err := tx.Exec(`DELETE FROM memberships WHERE user_id = $1`, bUser.String())
		require.NoError(t, err)
		n, _ := res.RowsAffected()
		require.EqualValues(t, 1, n)
		assert.Zero(t, count(t, tx, `SELECT count(*) FROM sessions`), "cascaded inside the same transaction")
		assert.Zero(t, count(t, tx, `SELECT count(*) FROM magic_links`))
	})
}

// TestAuthTextRoundTrip checks that bytes and times survive both protocols
// unchanged: the repositories' extended protocol and ResolveSession's
// simple protocol (text results: bytea as \x hex, timestamptz with the
// session's offset). The application role's TimeZone is set to a zone with
// a 45-minute offset so a parse that ignored offsets would be caught.
func TestAuthTextRoundTrip(t *testing.T) {
	base, pg := fresh(t)
	a, _ := twoShops(t, base)
	super := sqlx.MustConnect("pgx", pg.SuperURL)
	defer super.Close()
	super.MustExec(`ALTER ROLE "` + pg.AppRole + `" SET TimeZone = 'Asia/Kathmandu'`)
	clock := fixedClock{t: time.Date(2026, 3, 29, 1, 30, 0, 123456789, time.FixedZone("odd", -(3*3600+1800)))}
	s, err := postgres.Open(context.Background(), pg.AppURL, postgres.WithClock(clock))
	require.NoError(t, err)
	defer s.Close()
	var tz string
	require.NoError(t, s.DB().Get(&tz, `SHOW TimeZone`))
	require.Equal(t, "Asia/Kathmandu", tz)

	// Every byte value, including NUL, backslash, quote and 0xff.
	hash := bytes.Repeat([]byte{0x00, '\\', '\'', 0xff}, 8)
	sa := withAuth(t, s, a, hash)
	assert.Equal(t, hash, sa.session.TokenHash)
	assert.Equal(t, ports.Timestamp(clock.t), sa.session.CreatedAt)

	var viaRepo ports.Session
	require.NoError(t, s.InShop(context.Background(), a, func(ctx context.Context, tx ports.ShopTx) error {
		viaRepo, err = tx.Sessions().Get(ctx, sa.session.ID)
		return err
	}, ports.ReadOnly()))
	assert.Equal(t, sa.session, viaRepo, "extended protocol")

	got, err := s.ResolveSession(context.Background(), a, sa.session.ID)
	require.NoError(t, err)
	assert.Equal(t, sa.session, got.Session, "simple protocol")
	assert.Equal(t, ports.RoleOwner, got.Role)
	assert.Equal(t, time.UTC, got.Session.ExpiresAt.Location())
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
