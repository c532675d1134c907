package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

func appendEvents(t *testing.T, s ports.Store, shop ports.ShopID, n int) {
	t.Helper()
	require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		for i := range n {
			if _, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "system", Action: fmt.Sprintf("x.%d", i), Outcome: ports.OutcomeSuccess}); err != nil {
				return err
			}
		}
		return nil
	}))
}

func readLog(t *testing.T, s ports.Store, shop ports.ShopID) []ports.AuditEvent {
	t.Helper()
	var log []ports.AuditEvent
	require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		log, err = tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		return err
	}, ports.ReadOnly()))
	return log
}

// firstBreak returns the Seq of the first event that does not continue
// the chain (wrong seq, hash or link), or 0 when the log is one chain.
// Naming the kind of tampering is core/audit's job; this only proves the
// stored chain notices.
func firstBreak(log []ports.AuditEvent) int64 {
	var prev ports.AuditHash
	for i, e := range log {
		if e.Seq != int64(i+1) || e.PrevHash != prev || e.ChainHash() != e.Hash {
			return int64(i + 1)
		}
		prev = e.Hash
	}
	return 0
}

// asOwner runs stmts in one transaction of the schema owner, bound to shop
// (FORCE ROW LEVEL SECURITY binds the owner too) and with the append-only
// trigger disabled, as an attacker holding the owner's password would; the
// trigger is enabled again before commit.
func asOwner(t *testing.T, ownerURL string, shop ports.ShopID, stmts ...string) {
	t.Helper()
	owner := sqlx.MustConnect("pgx", ownerURL)
	defer owner.Close()
	tx := owner.MustBegin()
	defer tx.Rollback()
	all := append([]string{
		`SELECT set_config('app.shop_id', '` + shop.String() + `', true)`,
		`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
	}, stmts...)
	for _, stmt := range append(all, `ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`) {
		_, err := tx.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, tx.Commit())
}

func TestAuditChainBelowThePort(t *testing.T) {
	t.Run("HeadCarriesTheLastHash", func(t *testing.T) {
		s, pg := fresh(t)
		a, _ := twoShops(t, s)
		appendEvents(t, s, a, 4)
		log := readLog(t, s, a)
		require.Len(t, log, 5)
		require.Zero(t, firstBreak(log))
		owner := sqlx.MustConnect("pgx", pg.OwnerURL)
		defer owner.Close()
		tx := owner.MustBegin()
		defer tx.Rollback()
		_, err := tx.Exec(`SELECT set_config('app.shop_id', $1, true)`, a.String())
		require.NoError(t, err)
		var head struct {
			Prev []byte `db:"prev_hash"`
			Hash []byte `db:"hash"`
		}
		require.NoError(t, tx.Get(&head, `SELECT prev_hash, hash FROM audit_heads`))
		assert.Equal(t, log[4].Hash[:], head.Hash)
		assert.Equal(t, log[3].Hash[:], head.Prev)
	})

	t.Run("CheckpointsAreAppendOnly", func(t *testing.T) {
		s, pg := fresh(t)
		a, _ := twoShops(t, s)
		log := readLog(t, s, a)
		require.NoError(t, s.InShop(context.Background(), a, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuditCheckpoints().Add(ctx, ports.AuditCheckpoint{Size: 1, Hash: log[0].Hash, Note: "signed\n"})
			return err
		}))
		for _, stmt := range []string{`UPDATE audit_checkpoints SET size = 9`, `DELETE FROM audit_checkpoints`, `TRUNCATE audit_checkpoints`,
			`INSERT INTO audit_checkpoints SELECT shop_id, n + 1, size, hash, note, created_at FROM audit_checkpoints`} {
			asTenant(t, s.DB(), a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(stmt)
				require.Error(t, err, stmt)
				assert.Equal(t, "42501", sqlState(err), "the application role holds SELECT only: %s", stmt)
			})
		}
		owner := sqlx.MustConnect("pgx", pg.OwnerURL)
		defer owner.Close()
		for _, stmt := range []string{`UPDATE audit_checkpoints SET size = 9`, `DELETE FROM audit_checkpoints`, `TRUNCATE audit_checkpoints`} {
			tx := owner.MustBegin()
			_, err := tx.Exec(`SELECT set_config('app.shop_id', $1, true)`, a.String())
			require.NoError(t, err)
			_, err = tx.Exec(stmt)
			require.ErrorContains(t, err, "audit_checkpoints is append-only", "the trigger stops the owner too: %s", stmt)
			require.NoError(t, tx.Rollback())
		}
		asTenant(t, s.DB(), ports.ShopID{}, func(tx *sqlx.Tx) {
			var n int
			require.NoError(t, tx.Get(&n, `SELECT count(*) FROM audit_checkpoints`))
			assert.Zero(t, n, "row-level security: no shop, no checkpoints")
		})
	})

	tests := []struct {
		name  string
		stmts []string
		want  int64
	}{
		{"edit a field", []string{`UPDATE audit_events SET actor = 'user:evil' WHERE seq = 4`}, 4},
		{"edit json", []string{`UPDATE audit_events SET after = '{"role":"owner"}' WHERE seq = 2`}, 2},
		{"delete a row", []string{`DELETE FROM audit_events WHERE seq = 3`}, 3},
		{"insert a row", []string{
			`UPDATE audit_events SET seq = -seq WHERE seq >= 3`, `UPDATE audit_events SET seq = 1 - seq WHERE seq < 0`,
			`INSERT INTO audit_events (shop_id, seq, id, at, actor, action, outcome, prev_hash, hash)
				SELECT shop_id, 3, '01900000-0000-7000-8000-000000000001', at, 'user:evil', 'alibi', outcome, prev_hash, hash FROM audit_events WHERE seq = 2`,
		}, 3},
		{"swap two rows", []string{
			`UPDATE audit_events SET seq = -1 WHERE seq = 2`, `UPDATE audit_events SET seq = 2 WHERE seq = 3`, `UPDATE audit_events SET seq = 3 WHERE seq = -1`,
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, pg := fresh(t)
			a, _ := twoShops(t, s)
			appendEvents(t, s, a, 5)
			asTenant(t, s.DB(), a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(tt.stmts[0])
				require.Error(t, err, "the application role cannot")
			})
			require.Zero(t, firstBreak(readLog(t, s, a)))
			asOwner(t, pg.OwnerURL, a, tt.stmts...)
			assert.Equal(t, tt.want, firstBreak(readLog(t, s, a)))
		})
	}

	// List asks first for the seq range a gap-free log fills; a gap made
	// below the port must not hide the events after it.
	t.Run("ListPagesAcrossAGap", func(t *testing.T) {
		s, pg := fresh(t)
		a, _ := twoShops(t, s)
		appendEvents(t, s, a, 7) // seq 1..8
		asOwner(t, pg.OwnerURL, a, `DELETE FROM audit_events WHERE seq IN (3, 4, 6)`)
		require.NoError(t, s.InShop(context.Background(), a, func(ctx context.Context, tx ports.ShopTx) error {
			for _, tt := range []struct {
				after int64
				limit int
				want  []int64
			}{
				{0, 2, []int64{1, 2}},
				{1, 2, []int64{2, 5}},
				{2, 2, []int64{5, 7}},
				{2, 10, []int64{5, 7, 8}},
				{7, 10, []int64{8}},
				{8, 10, nil},
			} {
				page, err := tx.Audit().List(ctx, ports.AuditQuery{AfterSeq: tt.after, Limit: tt.limit})
				require.NoError(t, err)
				var got []int64
				for _, e := range page {
					got = append(got, e.Seq)
				}
				assert.Equal(t, tt.want, got, "after %d, limit %d", tt.after, tt.limit)
			}
			return nil
		}, ports.ReadOnly()))
	})

	t.Run("EventsFromBeforeTheChain", func(t *testing.T) {
		pg := testinfra.StartPostgres(t)
		raw, err := sql.Open("pgx", pg.OwnerURL)
		require.NoError(t, err)
		defer raw.Close()
		p, err := goose.NewProvider(goose.DialectPostgres, raw, postgres.Migrations(),
			goose.WithTableName(sqlmigrate.VersionTable), goose.WithDisableGlobalRegistry(true))
		require.NoError(t, err)
		_, err = p.UpTo(context.Background(), 6)
		require.NoError(t, err)
		shop := ports.NewShopID()
		tx, err := raw.Begin()
		require.NoError(t, err)
		for _, stmt := range []string{
			`SELECT set_config('app.shop_id', '` + shop.String() + `', true)`,
			`INSERT INTO orgs (id, name, created_at) VALUES ('` + ports.NewOrgID().String() + `', 'HQ', now())`,
			`INSERT INTO shops (id, org_id, slug, name, status, created_at) SELECT '` + shop.String() + `', id, 'old', 'Old', 'active', now() FROM orgs`,
			`INSERT INTO audit_heads (shop_id, seq) VALUES ('` + shop.String() + `', 2)`,
			`INSERT INTO audit_events (shop_id, seq, id, at, actor, action, outcome) VALUES
				('` + shop.String() + `', 1, '` + ports.NewEventID().String() + `', now(), 'system', 'old.one', 'success'),
				('` + shop.String() + `', 2, '` + ports.NewEventID().String() + `', now(), 'system', 'old.two', 'success')`,
		} {
			_, err := tx.Exec(stmt)
			require.NoError(t, err, stmt)
		}
		require.NoError(t, tx.Commit())
		_, err = postgres.Migrate(context.Background(), pg.OwnerURL)
		require.NoError(t, err)
		s, err := postgres.Open(context.Background(), pg.AppURL)
		require.NoError(t, err)
		defer s.Close()
		appendEvents(t, s, shop, 2)
		log := readLog(t, s, shop)
		require.Len(t, log, 4)
		for _, e := range log[:2] {
			assert.True(t, e.Hash.IsZero() && e.PrevHash.IsZero(), "old events stay unhashed")
		}
		assert.True(t, log[2].PrevHash.IsZero(), "the chain starts at the first hashed event")
		assert.Equal(t, log[2].ChainHash(), log[2].Hash)
		assert.Equal(t, log[2].Hash, log[3].PrevHash, "and runs on from there")
		assert.Equal(t, log[3].ChainHash(), log[3].Hash)

		// Migration 00017 fixed the prefix from before the chain once.
		require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			n, err := tx.Audit().Unhashed(ctx)
			assert.Equal(t, int64(2), n)
			return err
		}, ports.ReadOnly()))
		asTenant(t, s.DB(), shop, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE audit_heads SET unhashed = 4`)
			assert.Equal(t, "42501", sqlState(err), "the application role cannot touch the head: %v", err)
		})
		owner := sqlx.MustConnect("pgx", pg.OwnerURL)
		defer owner.Close()
		otx := owner.MustBegin()
		defer otx.Rollback()
		_, err = otx.Exec(`SELECT set_config('app.shop_id', $1, true)`, shop.String())
		require.NoError(t, err)
		_, err = otx.Exec(`UPDATE audit_heads SET unhashed = 4`)
		require.ErrorContains(t, err, "the prefix from before the chain is fixed", "the trigger stops the owner too")
	})

	// Issue 16 (4): the application role appends only through
	// stockade_audit_append; it can neither write rows nor move heads.
	t.Run("AppRoleAppendsOnlyThroughTheFunction", func(t *testing.T) {
		s, pg := fresh(t)
		a, _ := twoShops(t, s)
		appendEvents(t, s, a, 2)
		for _, stmt := range []string{
			`INSERT INTO audit_events (shop_id, seq, id, at, actor, action, outcome) VALUES ('` + a.String() + `', 4, '` + ports.NewEventID().String() + `', now(), 'user:evil', 'alibi', 'success')`,
			`UPDATE audit_heads SET seq = seq + 1`,
			`UPDATE audit_heads SET hash = NULL`,
			`INSERT INTO audit_heads (shop_id, seq) VALUES ('` + a.String() + `', 9)`,
			`DELETE FROM audit_heads`,
		} {
			asTenant(t, s.DB(), a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(stmt)
				require.Error(t, err, stmt)
				assert.Equal(t, "42501", sqlState(err), "%s: %v", stmt, err)
			})
		}
		asTenant(t, s.DB(), ports.ShopID{}, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`SELECT * FROM stockade_audit_append($1, now(), 'user:x', '', 'x', '', 'success', NULL, NULL, '', '', '')`, ports.NewEventID())
			assert.Equal(t, "42501", sqlState(err), "no shop, no append: %v", err)
		})
		appendEvents(t, s, a, 1)
		require.Zero(t, firstBreak(readLog(t, s, a)))

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
			FROM pg_proc p WHERE p.proname = 'stockade_audit_append'`, pg.AppRole))
		assert.Equal(t, pg.OwnerRole, fn.Owner)
		assert.True(t, fn.Definer)
		assert.Contains(t, fn.Config, "search_path=pg_catalog, public, pg_temp")
		assert.False(t, fn.Public, "EXECUTE is revoked from PUBLIC")
		assert.True(t, fn.App)
	})
}

// TestAuditRawAppends runs the porttest suite with raw INSERTs made as the
// application role, bound to the shop like the application's own units of
// work: what an SQL injection could send.
func TestAuditRawAppends(t *testing.T) {
	porttest.TestAuditRawAppends(t, func(t *testing.T) (ports.Store, porttest.AuditBypass) {
		s, _ := fresh(t)
		return s, func(ctx context.Context, shop ports.ShopID, e ports.AuditEvent) error {
			tx, err := s.DB().BeginTxx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, `SELECT set_config('app.shop_id', $1, true)`, shop.String()); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO audit_events (shop_id, seq, id, at, actor, action, target, outcome, prev_hash, hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				shop, e.Seq, e.ID, e.Time, e.Actor, e.Action, e.Target, e.Outcome, e.PrevHash.Bytes(), e.Hash.Bytes())
			if err != nil {
				return err
			}
			return tx.Commit()
		}
	})
}

// TestAuditRawCheckpoints runs the porttest suite with raw INSERTs into
// audit_checkpoints made as the application role, bound to the shop like
// the application's own units of work: what an SQL injection could send.
func TestAuditRawCheckpoints(t *testing.T) {
	porttest.TestAuditRawCheckpoints(t, func(t *testing.T) (ports.Store, porttest.CheckpointBypass) {
		s, _ := fresh(t)
		return s, func(ctx context.Context, shop ports.ShopID, c ports.AuditCheckpoint) error {
			tx, err := s.DB().BeginTxx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, `SELECT set_config('app.shop_id', $1, true)`, shop.String()); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (shop_id, n, size, hash, note, created_at)
				VALUES ($1, $2, $3, $4, $5, now())`, shop, c.N, c.Size, c.Hash.Bytes(), c.Note)
			if err != nil {
				return err
			}
			return tx.Commit()
		}
	})
}
