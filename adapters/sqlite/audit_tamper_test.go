package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// auditShop creates a shop with n audit events.
func auditShop(t *testing.T, s *sqlite.Store, slug string, n int) ports.ShopID {
	t.Helper()
	ctx := context.Background()
	var shop ports.ShopID
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		sh, err := tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: slug, Name: "A", Status: ports.ShopActive})
		shop = sh.ID
		return err
	}))
	appendEvents(t, s, shop, n)
	return shop
}

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

// tamper runs stmts on a raw connection to the database file with every
// trigger of the audit tables dropped, as an attacker who can write the
// file would, and puts the triggers back.
func tamper(t *testing.T, s *sqlite.Store, stmts ...string) {
	t.Helper()
	db := s.DB()
	var triggers []struct {
		Name string `db:"name"`
		SQL  string `db:"sql"`
	}
	require.NoError(t, db.Select(&triggers, `SELECT name, sql FROM sqlite_master
		WHERE type = 'trigger' AND tbl_name IN ('audit_events', 'audit_heads')`))
	tx, err := db.Beginx()
	require.NoError(t, err)
	defer tx.Rollback()
	var all []string
	for _, tr := range triggers {
		all = append(all, `DROP TRIGGER `+tr.Name)
	}
	all = append(all, stmts...)
	for _, tr := range triggers {
		all = append(all, tr.SQL)
	}
	for _, stmt := range all {
		_, err := tx.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, tx.Commit())
}

func TestAuditChainBelowThePort(t *testing.T) {
	t.Run("HeadCarriesTheLastHash", func(t *testing.T) {
		s := fresh(t)
		shop := auditShop(t, s, "head", 5)
		log := readLog(t, s, shop)
		require.Zero(t, firstBreak(log))
		var head []byte
		require.NoError(t, s.DB().Get(&head, `SELECT hash FROM audit_heads WHERE shop_id = ?`, shop))
		assert.Equal(t, log[4].Hash[:], head)
	})

	t.Run("CheckpointsAreAppendOnly", func(t *testing.T) {
		s := fresh(t)
		shop := auditShop(t, s, "chkpt", 1)
		require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuditCheckpoints().Add(ctx, ports.AuditCheckpoint{Size: 1, Hash: readLogTx(ctx, t, tx)[0].Hash, Note: "signed\n"})
			return err
		}))
		for _, stmt := range []string{`UPDATE audit_checkpoints SET size = 9`, `DELETE FROM audit_checkpoints`} {
			_, err := s.DB().Exec(stmt)
			require.ErrorContains(t, err, "append-only", stmt)
		}
		var n int
		require.NoError(t, s.DB().Get(&n, `SELECT count(*) FROM audit_checkpoints WHERE size = 1`))
		assert.Equal(t, 1, n)
	})

	// Each tamper needs the triggers dropped first; the stored chain then
	// breaks at the tampered event.
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
			s := fresh(t)
			shop := auditShop(t, s, "tamper", 6)
			_, err := s.DB().Exec(tt.stmts[0])
			require.ErrorContains(t, err, "append-only", "the triggers stand in the way first")
			require.Zero(t, firstBreak(readLog(t, s, shop)))
			tamper(t, s, tt.stmts...)
			assert.Equal(t, tt.want, firstBreak(readLog(t, s, shop)))
		})
	}

	t.Run("EventsFromBeforeTheChain", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
		require.NoError(t, err)
		defer raw.Close()
		p, err := goose.NewProvider(goose.DialectSQLite3, raw, sqlite.Migrations(),
			goose.WithTableName(sqlmigrate.VersionTable), goose.WithDisableGlobalRegistry(true))
		require.NoError(t, err)
		_, err = p.UpTo(context.Background(), 6)
		require.NoError(t, err)
		shop := ports.NewShopID()
		for _, stmt := range []string{
			`INSERT INTO orgs (id, name, created_at) VALUES ('` + ports.NewOrgID().String() + `', 'HQ', 0)`,
			`INSERT INTO shops (id, org_id, slug, name, status, created_at) SELECT '` + shop.String() + `', id, 'old', 'Old', 'active', 0 FROM orgs`,
			`INSERT INTO audit_heads (shop_id, seq) VALUES ('` + shop.String() + `', 2)`,
			`INSERT INTO audit_events (shop_id, seq, id, at, actor, action, outcome) VALUES
				('` + shop.String() + `', 1, '` + ports.NewEventID().String() + `', 1, 'system', 'old.one', 'success'),
				('` + shop.String() + `', 2, '` + ports.NewEventID().String() + `', 2, 'system', 'old.two', 'success')`,
		} {
			_, err := raw.Exec(stmt)
			require.NoError(t, err, stmt)
		}
		_, err = sqlite.Migrate(context.Background(), "sqlite://"+path)
		require.NoError(t, err)
		s, err := sqlite.Open(context.Background(), "sqlite://"+path)
		require.NoError(t, err)
		defer s.Close()
		appendEvents(t, s, shop, 2)
		log := readLog(t, s, shop)
		require.Len(t, log, 4)
		for _, e := range log[:2] {
			assert.True(t, e.Hash.IsZero() && e.PrevHash.IsZero(), "old events stay unhashed")
		}
		assert.True(t, log[2].PrevHash.IsZero(), "the chain starts at the first hashed event")
		assert.Equal(t, int64(3), log[2].Seq)
		assert.Equal(t, log[2].ChainHash(), log[2].Hash)
		assert.Equal(t, log[2].Hash, log[3].PrevHash, "and runs on from there")
		assert.Equal(t, log[3].ChainHash(), log[3].Hash)

		// Migration 00017 fixed the prefix from before the chain once.
		require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			n, err := tx.Audit().Unhashed(ctx)
			assert.Equal(t, int64(2), n)
			return err
		}, ports.ReadOnly()))
		_, err = s.DB().Exec(`UPDATE audit_heads SET unhashed = 4 WHERE shop_id = ?`, shop)
		require.ErrorContains(t, err, "a head moves only with an append", "the prefix is fixed")
	})

	// Issue 16 (4): the head moves only with an append that links to it.
	t.Run("HeadsFollowTheLog", func(t *testing.T) {
		s := fresh(t)
		shop := auditShop(t, s, "heads", 3)
		other := auditShop(t, s, "fresh", 0)
		for _, stmt := range []string{
			`UPDATE audit_heads SET seq = seq + 1 WHERE shop_id = '` + shop.String() + `'`,
			`UPDATE audit_heads SET hash = zeroblob(32) WHERE shop_id = '` + shop.String() + `'`,
			`UPDATE audit_heads SET unhashed = 1 WHERE shop_id = '` + shop.String() + `'`,
			`DELETE FROM audit_heads`,
			`INSERT INTO audit_heads (shop_id, seq, hash) VALUES ('` + other.String() + `', 1, zeroblob(32))`,
		} {
			_, err := s.DB().Exec(stmt)
			require.Error(t, err, stmt)
			assert.Contains(t, err.Error(), "audit_heads: ", stmt)
		}
		appendEvents(t, s, shop, 1)
		appendEvents(t, s, other, 1)
		require.Zero(t, firstBreak(readLog(t, s, shop)))
		require.Zero(t, firstBreak(readLog(t, s, other)))
		require.NoError(t, s.InShop(context.Background(), other, func(ctx context.Context, tx ports.ShopTx) error {
			n, err := tx.Audit().Unhashed(ctx)
			assert.Zero(t, n, "a shop created since the chain has no prefix")
			return err
		}, ports.ReadOnly()))
	})
}

func readLogTx(ctx context.Context, t *testing.T, tx ports.ShopTx) []ports.AuditEvent {
	t.Helper()
	log, err := tx.Audit().List(ctx, ports.AuditQuery{})
	require.NoError(t, err)
	return log
}

// TestAuditRawAppends runs the porttest suite with raw INSERTs on the
// store's own database connection, triggers in place: what an SQL
// injection could send.
func TestAuditRawAppends(t *testing.T) {
	porttest.TestAuditRawAppends(t, func(t *testing.T) (ports.Store, porttest.AuditBypass) {
		s := fresh(t)
		return s, func(ctx context.Context, shop ports.ShopID, e ports.AuditEvent) error {
			_, err := s.DB().ExecContext(ctx, `INSERT INTO audit_events (shop_id, seq, id, at, actor, action, target, outcome, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				shop, e.Seq, e.ID, e.Time.UnixMicro(), e.Actor, e.Action, e.Target, e.Outcome, e.PrevHash.Bytes(), e.Hash.Bytes())
			return err
		}
	})
}

// TestAuditRawCheckpoints runs the porttest suite with raw INSERTs into
// audit_checkpoints on the store's own database connection, triggers in
// place: what an SQL injection could send.
func TestAuditRawCheckpoints(t *testing.T) {
	porttest.TestAuditRawCheckpoints(t, func(t *testing.T) (ports.Store, porttest.CheckpointBypass) {
		s := fresh(t)
		return s, func(ctx context.Context, shop ports.ShopID, c ports.AuditCheckpoint) error {
			_, err := s.DB().ExecContext(ctx, `INSERT INTO audit_checkpoints (shop_id, n, size, hash, note, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`, shop, c.N, c.Size, c.Hash.Bytes(), c.Note, time.Now().UnixMicro())
			return err
		}
	})
}

// TestAuditUnhashedIsPerShop reads each shop's prefix size where two
// shops' differ (every shop the conformance suite makes has prefix 0, so
// only a store-level case can tell a read that forgot its shop).
func TestAuditUnhashedIsPerShop(t *testing.T) {
	s := fresh(t)
	a := auditShop(t, s, "prefix-a", 6)
	b := auditShop(t, s, "prefix-b", 6)
	tamper(t, s,
		`UPDATE audit_heads SET unhashed = 3 WHERE shop_id = '`+a.String()+`'`,
		`UPDATE audit_heads SET unhashed = 5 WHERE shop_id = '`+b.String()+`'`)
	for shop, want := range map[ports.ShopID]int64{a: 3, b: 5} {
		var got int64
		require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			got, err = tx.Audit().Unhashed(ctx)
			return err
		}, ports.ReadOnly()))
		assert.Equal(t, want, got, "shop %s", shop)
	}
}
