package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
)

// fresh returns a migrated store on a new database file.
func fresh(t *testing.T) *sqlite.Store {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "stockade.db")
	_, err := sqlite.Migrate(context.Background(), url)
	require.NoError(t, err)
	s, err := sqlite.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrateIsIdempotent(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "stockade.db")
	first, err := sqlite.Migrate(context.Background(), url)
	require.NoError(t, err)
	assert.Equal(t, int64(0), first.From)
	assert.NotEmpty(t, first.Applied)
	second, err := sqlite.Migrate(context.Background(), url)
	require.NoError(t, err)
	assert.Empty(t, second.Applied, "a second run applies nothing")
	assert.Equal(t, first.To, second.From)
}

func TestRefusesSchemaNewerThanBuild(t *testing.T) {
	s := fresh(t)
	url := "sqlite://" + filepath.Join(t.TempDir(), "future.db")
	_, err := sqlite.Migrate(context.Background(), url)
	require.NoError(t, err)
	future, err := sqlite.Open(context.Background(), url)
	require.NoError(t, err)
	_, err = future.DB().Exec(`INSERT INTO stockade_schema_migrations (version_id, is_applied) VALUES (9999, 1)`)
	require.NoError(t, err)
	require.NoError(t, future.Close())

	_, err = sqlite.Migrate(context.Background(), url)
	require.ErrorIs(t, err, ports.ErrSchemaTooNew)
	_, err = sqlite.Open(context.Background(), url)
	require.ErrorIs(t, err, ports.ErrSchemaTooNew)
	require.NoError(t, s.Ping(context.Background()))
}

func TestOpenRefusesUnmigratedDatabase(t *testing.T) {
	_, err := sqlite.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "missing.db"))
	require.ErrorIs(t, err, ports.ErrSchemaBehind)
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantErr bool
	}{
		{give: "sqlite:///var/lib/stockade/stockade.db", want: "/var/lib/stockade/stockade.db"},
		{give: "sqlite://data/stockade.db", want: "data/stockade.db"},
		{give: "sqlite:stockade.db", want: "stockade.db"},
		{give: "sqlite://:memory:", want: ":memory:"},
		{give: "sqlite:///with%20space.db", want: "/with space.db"},
		{give: "sqlite://", wantErr: true},
		{give: "sqlite:///x.db?_pragma=foreign_keys(0)", wantErr: true},
		{give: "postgres://x", wantErr: true},
		{give: "sqlite:///bad%zz", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := sqlite.ParseURL(tt.give)
			if tt.wantErr {
				require.ErrorIs(t, err, ports.ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestAuditIsAppendOnly goes below the port: even raw SQL on the writer
// connection cannot rewrite or delete history.
func TestAuditIsAppendOnly(t *testing.T) {
	s := fresh(t)
	ctx := context.Background()
	var shop ports.ShopID
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		sh, err := tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: "audited", Name: "A", Status: ports.ShopActive})
		shop = sh.ID
		return err
	}))
	require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: s.Now(), Actor: "system", Action: "x", Outcome: ports.OutcomeSuccess})
		return err
	}))
	_, err := s.DB().Exec(`UPDATE audit_events SET action = 'forged'`)
	require.ErrorContains(t, err, "append-only")
	_, err = s.DB().Exec(`DELETE FROM audit_events`)
	require.ErrorContains(t, err, "append-only")
	var n int
	require.NoError(t, s.DB().Get(&n, `SELECT count(*) FROM audit_events WHERE action = 'x'`))
	assert.Equal(t, 1, n)
}
