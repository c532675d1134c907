package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/ports"
)

// twoShops creates shops A and B with one member and one audit event each,
// through the port.
func twoShops(t testing.TB, s *postgres.Store) (a, b ports.ShopID) {
	t.Helper()
	ctx := context.Background()
	var users [2]ports.UserID
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		for i, slug := range []string{"shop-a", "shop-b"} {
			sh, err := tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: slug, Name: slug, Status: ports.ShopActive})
			if err != nil {
				return err
			}
			u, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: slug + "@example.com"})
			if err != nil {
				return err
			}
			users[i] = u.ID
			if i == 0 {
				a = sh.ID
			} else {
				b = sh.ID
			}
		}
		return nil
	}))
	for i, shop := range []ports.ShopID{a, b} {
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Memberships().Add(ctx, users[i], ports.RoleOwner); err != nil {
				return err
			}
			_, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: s.Now(), Actor: "system", Action: "seed", Outcome: ports.OutcomeSuccess})
			return err
		}))
	}
	return a, b
}

// asTenant runs fn in a raw transaction of the application role with the
// tenant GUC set to shop (or unset for the zero ID) — the same boundary
// InShop sets up, but with hand-written SQL that "forgets" its WHERE.
func asTenant(t *testing.T, db *sqlx.DB, shop ports.ShopID, fn func(tx *sqlx.Tx)) {
	t.Helper()
	tx, err := db.Beginx()
	require.NoError(t, err)
	defer tx.Rollback()
	if !shop.IsZero() {
		_, err = tx.Exec(`SELECT set_config('app.shop_id', $1, true)`, shop.String())
		require.NoError(t, err)
	}
	fn(tx)
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestRowLevelSecurityAttacks runs raw SQL as the application role and
// shows the database itself, not the repositories, keeps shops apart.
func TestRowLevelSecurityAttacks(t *testing.T) {
	s, _ := fresh(t)
	a, b := twoShops(t, s)
	db := s.DB()

	t.Run("SelectWithoutWhereSeesOnlyCurrentShop", func(t *testing.T) {
		for _, table := range []string{"memberships", "audit_events", "audit_heads"} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				var shops []string
				require.NoError(t, tx.Select(&shops, `SELECT DISTINCT shop_id::text FROM `+table))
				assert.Equal(t, []string{a.String()}, shops, table)
			})
		}
	})

	t.Run("SelectNamingAnotherShopSeesNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			var n int
			require.NoError(t, tx.Get(&n, `SELECT count(*) FROM memberships WHERE shop_id = $1`, b.String()))
			assert.Zero(t, n)
		})
	})

	t.Run("InsertNamingAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`INSERT INTO memberships (shop_id, user_id, role, created_at, updated_at)
				SELECT $1, id, 'owner', now(), now() FROM users LIMIT 1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "new row violates row-level security policy: %v", err)
		})
	})

	t.Run("UpdateMovingARowToAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE memberships SET shop_id = $1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err))
		})
	})

	t.Run("UpdateAndDeleteOfAnotherShopTouchNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			res, err := tx.Exec(`UPDATE memberships SET role = 'viewer' WHERE shop_id = $1`, b.String())
			require.NoError(t, err)
			n, _ := res.RowsAffected()
			assert.Zero(t, n)
			res, err = tx.Exec(`DELETE FROM memberships WHERE shop_id = $1`, b.String())
			require.NoError(t, err)
			n, _ = res.RowsAffected()
			assert.Zero(t, n)
		})
		var roles []string
		require.NoError(t, s.InShop(context.Background(), b, func(ctx context.Context, tx ports.ShopTx) error {
			ms, err := tx.Memberships().List(ctx)
			for _, m := range ms {
				roles = append(roles, string(m.Role))
			}
			return err
		}))
		assert.Equal(t, []string{"owner"}, roles, "B's owner is intact")
	})

	t.Run("NoTenantSeesZeroRows", func(t *testing.T) {
		for _, table := range []string{"memberships", "audit_events", "audit_heads"} {
			var n int
			require.NoError(t, db.Get(&n, `SELECT count(*) FROM `+table), "autocommit, no tenant: not an error")
			assert.Zero(t, n, table)
			asTenant(t, db, ports.ShopID{}, func(tx *sqlx.Tx) {
				require.NoError(t, tx.Get(&n, `SELECT count(*) FROM `+table))
				assert.Zero(t, n, table)
			})
		}
	})

	t.Run("TenantSettingDoesNotOutliveItsTransaction", func(t *testing.T) {
		conn, err := db.Connx(context.Background())
		require.NoError(t, err)
		defer conn.Close()
		tx, err := conn.BeginTxx(context.Background(), nil)
		require.NoError(t, err)
		_, err = tx.Exec(`SELECT set_config('app.shop_id', $1, true)`, a.String())
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		var setting string
		require.NoError(t, conn.GetContext(context.Background(), &setting, `SELECT current_setting('app.shop_id', true)`))
		assert.Equal(t, "", setting, "after a transaction-local setting ends it reads '', not NULL")
		var n int
		require.NoError(t, conn.GetContext(context.Background(), &n, `SELECT count(*) FROM memberships`))
		assert.Zero(t, n, "the same pooled connection sees nothing afterwards")
	})

	t.Run("AuditLogCannotBeRewritten", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE audit_events SET action = 'forged'`)
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err))
		})
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`DELETE FROM audit_events`)
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err))
		})
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`TRUNCATE audit_events`)
			require.Error(t, err)
		})
	})

	t.Run("ApplicationRoleCannotLowerTheWall", func(t *testing.T) {
		for _, stmt := range []string{
			`ALTER TABLE memberships DISABLE ROW LEVEL SECURITY`,
			`ALTER TABLE memberships NO FORCE ROW LEVEL SECURITY`,
			`DROP POLICY tenant_isolation ON memberships`,
			`SET row_security = off`,
			`CREATE TABLE smuggle (shop_id uuid)`,
		} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(stmt)
				if stmt == `SET row_security = off` {
					// Allowed to set, but then any query that RLS would
					// filter fails instead of bypassing the policy.
					require.NoError(t, err)
					var n int
					err = tx.Get(&n, `SELECT count(*) FROM memberships`)
				}
				require.Error(t, err, stmt)
			})
		}
	})
}

func TestOwnerSideOfTheWall(t *testing.T) {
	s, pg := fresh(t)
	a, _ := twoShops(t, s)
	owner := sqlx.MustConnect("pgx", pg.OwnerURL)
	defer owner.Close()

	t.Run("OwnerIsBoundByForcedRLS", func(t *testing.T) {
		var n int
		require.NoError(t, owner.Get(&n, `SELECT count(*) FROM memberships`))
		assert.Zero(t, n, "FORCE ROW LEVEL SECURITY binds the table owner too")
	})
	t.Run("TriggerRefusesOwnerRewrites", func(t *testing.T) {
		tx := owner.MustBegin()
		defer tx.Rollback()
		_, err := tx.Exec(`SELECT set_config('app.shop_id', $1, true)`, a.String())
		require.NoError(t, err)
		_, err = tx.Exec(`UPDATE audit_events SET action = 'forged'`)
		require.ErrorContains(t, err, "append-only")
	})
	t.Run("OpenRefusesRolesThatBypassRLS", func(t *testing.T) {
		for name, url := range map[string]string{"superuser": pg.SuperURL, "owner": pg.OwnerURL} {
			_, err := postgres.Open(context.Background(), url)
			require.ErrorIs(t, err, ports.ErrInvalid, name)
			require.ErrorContains(t, err, "row-level security", name)
		}
	})
}
