package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestJobClaimCrossesShopsOnlyThroughTheFunction: the claim function hands
// out every shop's jobs to the application role, while the same role's own
// SQL on jobs stays held to one shop (or none), and the claim policy opens
// nothing outside the function — not for the owner, not for a member of
// the owner role.
func TestJobClaimCrossesShopsOnlyThroughTheFunction(t *testing.T) {
	s, pg := fresh(t)
	a, b := twoShops(t, s)
	ctx := context.Background()
	ids := map[ports.ShopID]ports.JobID{}
	for _, shop := range []ports.ShopID{a, b} {
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			j, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: "secret", Payload: []byte(`{"card":"4242"}`)})
			ids[shop] = j.ID
			return err
		}))
	}
	db := s.DB()
	count := func(t *testing.T, q sqlx.Queryer, shop ports.ShopID) int {
		t.Helper()
		var n int
		require.NoError(t, sqlx.Get(q, &n, `SELECT count(*) FROM jobs WHERE shop_id = $1`, shop.String()))
		return n
	}

	t.Run("AppRoleSQLSeesOneShop", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			assert.Equal(t, 1, count(t, tx, a))
			assert.Zero(t, count(t, tx, b), "B's job is invisible from A")
			res, err := tx.Exec(`UPDATE jobs SET state = 'done', locked_until = NULL`)
			require.NoError(t, err)
			n, _ := res.RowsAffected()
			assert.Equal(t, int64(1), n, "an UPDATE without WHERE touches A's job only")
			_, err = tx.Exec(`UPDATE jobs SET shop_id = $1`, b.String())
			assert.Equal(t, "42501", sqlState(err), "moving a job to B is refused: %v", err)
		})
		assert.Zero(t, count(t, db, a), "no tenant, no rows")
		assert.Zero(t, count(t, db, b))
	})

	t.Run("SettingTheClaimFlagGivesTheAppRoleNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`SELECT set_config('app.claim_jobs', 'on', true)`)
			require.NoError(t, err)
			assert.Zero(t, count(t, tx, b))
		})
	})

	t.Run("ClaimHandsOutEveryShopsJobs", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) { // a tenant set or not makes no difference
			var got []struct {
				Shop string `db:"shop_id"`
				ID   string `db:"id"`
			}
			require.NoError(t, tx.Select(&got, `SELECT shop_id, id FROM stockade_claim_jobs(now() + interval '1 hour', 10, interval '1 minute', now())`))
			assert.ElementsMatch(t, []string{a.String(), b.String()}, []string{got[0].Shop, got[1].Shop})
			var flag string
			require.NoError(t, tx.Get(&flag, `SELECT current_setting('app.claim_jobs', true)`))
			assert.Empty(t, flag, "the function turns its flag off before it returns")
			assert.Zero(t, count(t, tx, b), "after the claim the role still sees A only")
		})
	})

	t.Run("TheFunctionIsTheOwnersAndOnlyTheAppRoleMayCallIt", func(t *testing.T) {
		super := sqlx.MustConnect("pgx", pg.SuperURL)
		defer super.Close()
		var fn struct {
			Owner   string `db:"owner"`
			Definer bool   `db:"prosecdef"`
			Config  string `db:"config"`
			Public  bool   `db:"public_exec"`
			App     bool   `db:"app_exec"`
		}
		require.NoError(t, super.Get(&fn, `SELECT pg_get_userbyid(p.proowner) AS owner, p.prosecdef,
			array_to_string(p.proconfig, ',') AS config,
			EXISTS (SELECT FROM aclexplode(p.proacl) x WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE') AS public_exec,
			has_function_privilege($1, p.oid, 'EXECUTE') AS app_exec
			FROM pg_proc p WHERE p.proname = 'stockade_claim_jobs'`, pg.AppRole))
		assert.Equal(t, pg.OwnerRole, fn.Owner)
		assert.True(t, fn.Definer)
		assert.Contains(t, fn.Config, "search_path=pg_catalog, public, pg_temp")
		assert.Contains(t, fn.Config, "enable_sort=off", "the claim walks jobs_due in order whatever the statistics say")
		assert.Contains(t, fn.Config, "jit=off", "no JIT compilation set off by enable_sort's cost penalty")
		assert.False(t, fn.Public, "EXECUTE is revoked from PUBLIC")
		assert.True(t, fn.App)
		var member bool
		require.NoError(t, super.Get(&member, `SELECT pg_has_role($1, $2, 'MEMBER')`, pg.AppRole, pg.OwnerRole))
		assert.False(t, member, "the application role is not a member of the owner role")
	})

	t.Run("OwnerOutsideTheFunctionIsStillBound", func(t *testing.T) {
		owner := sqlx.MustConnect("pgx", pg.OwnerURL)
		defer owner.Close()
		assert.Zero(t, count(t, owner, a), "FORCE ROW LEVEL SECURITY binds the owner outside the claim")
	})

	t.Run("MemberOfTheOwnerRoleIsStillBound", func(t *testing.T) {
		super := sqlx.MustConnect("pgx", pg.SuperURL)
		defer super.Close()
		role := fmt.Sprintf("intruder_%d", time.Now().UnixNano())
		super.MustExec(fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD 'x' IN ROLE %s`, role, pg.OwnerRole))
		defer super.MustExec(`DROP ROLE ` + role)
		super.MustExec(fmt.Sprintf(`GRANT CONNECT ON DATABASE %s TO %s`, pg.Database, role))
		defer super.MustExec(fmt.Sprintf(`REVOKE ALL ON DATABASE %s FROM %s`, pg.Database, role))
		u, err := url.Parse(pg.OwnerURL)
		require.NoError(t, err)
		u.User = url.UserPassword(role, "x")
		in := sqlx.MustConnect("pgx", u.String())
		defer in.Close()
		tx := in.MustBegin()
		defer tx.Rollback()
		_, err = tx.Exec(`SELECT set_config('app.claim_jobs', 'on', true)`)
		require.NoError(t, err)
		assert.Zero(t, count(t, tx, a), "the claim policy is for the owner itself, not its members")
		assert.Zero(t, count(t, tx, b))
	})
}
