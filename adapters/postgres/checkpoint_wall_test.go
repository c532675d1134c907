package postgres_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestCheckpointsOnlyThroughTheRepositorysStatement: besides the raw
// INSERTs of porttest.TestAuditRawCheckpoints, an SQL injection as the
// application role cannot call stockade_audit_checkpoint_add (migration
// 00021) from a statement of its own, where it could store a checkpoint
// that states the log but carries a note nobody signed: such a row would
// make `audit checkpoint` refuse the shop for good.
func TestCheckpointsOnlyThroughTheRepositorysStatement(t *testing.T) {
	s, pg := fresh(t)
	a, _ := twoShops(t, s)
	appendEvents(t, s, a, 2)
	for _, stmt := range []string{
		`SELECT stockade_audit_checkpoint_add(e.seq, e.hash, 'junk', now()) FROM audit_events e ORDER BY seq DESC LIMIT 1`,
		`SELECT stockade_audit_checkpoint_add(1, (SELECT hash FROM audit_events WHERE seq = 1), 'junk', now())`,
		`SELECT query_to_xml('SELECT stockade_audit_checkpoint_add(1, (SELECT hash FROM audit_events WHERE seq = 1), ''junk'', now())', false, false, '')`,
	} {
		asTenant(t, s.DB(), a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(stmt)
			require.Error(t, err, stmt)
			assert.Equal(t, "42501", sqlState(err), "%s: %v", stmt, err)
		})
	}
	asTenant(t, s.DB(), ports.ShopID{}, func(tx *sqlx.Tx) {
		_, err := tx.Exec(`SELECT stockade_audit_checkpoint_add($1, $2, $3, $4)`, 1, make([]byte, 32), "junk", "2026-01-01T00:00:00Z")
		assert.Equal(t, "42501", sqlState(err), "no shop, no checkpoint: %v", err)
	})
	require.NoError(t, s.InShop(context.Background(), a, func(ctx context.Context, tx ports.ShopTx) error {
		all, err := tx.AuditCheckpoints().List(ctx, ports.AuditCheckpointQuery{})
		assert.Empty(t, all)
		return err
	}, ports.ReadOnly()))

	super := sqlx.MustConnect("pgx", pg.SuperURL)
	defer super.Close()
	var fn struct {
		Owner   string `db:"owner"`
		Definer bool   `db:"prosecdef"`
		Config  string `db:"config"`
		Public  bool   `db:"public_exec"`
		App     bool   `db:"app_exec"`
		Insert  bool   `db:"app_insert"`
	}
	require.NoError(t, super.Get(&fn, `SELECT pg_get_userbyid(p.proowner) AS owner, p.prosecdef,
		array_to_string(p.proconfig, ',') AS config,
		EXISTS (SELECT FROM aclexplode(p.proacl) x WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE') AS public_exec,
		has_function_privilege($1, p.oid, 'EXECUTE') AS app_exec,
		has_table_privilege($1, 'audit_checkpoints', 'INSERT') AS app_insert
		FROM pg_proc p WHERE p.proname = 'stockade_audit_checkpoint_add'`, pg.AppRole))
	assert.Equal(t, pg.OwnerRole, fn.Owner)
	assert.True(t, fn.Definer)
	assert.Contains(t, fn.Config, "search_path=pg_catalog, public, pg_temp")
	assert.False(t, fn.Public, "EXECUTE is revoked from PUBLIC")
	assert.True(t, fn.App)
	assert.False(t, fn.Insert, "the application role cannot INSERT checkpoints")
}
