package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// notesSchema is porttest's app migrations (version 1 creates
// porttest_notes) for both stores, with porttest_notes declared.
func notesSchema() app.AppSchema {
	return app.AppSchema{
		Name:     "porttest",
		Postgres: porttest.AppNotesMigrations(ports.DialectPostgres),
		SQLite:   porttest.AppNotesMigrations(ports.DialectSQLite),
		Tables:   []string{porttest.AppNotesTable},
	}
}

// readNotes fails unless porttest_notes answers through tx.SQL().
func readNotes(t *testing.T, st ports.Store) {
	t.Helper()
	err := st.InShop(context.Background(), ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
		var n int
		return tx.SQL().QueryRowContext(ctx, "SELECT count(*) FROM "+porttest.AppNotesTable).Scan(&n)
	}, ports.ReadOnly())
	if err != nil {
		t.Fatalf("app table through tx.SQL(): %v", err)
	}
}

func TestMigrateAppliesAppMigrationsAfterStockade(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteConfig(t)
	m, err := app.MigrateAll(ctx, cfg, notesSchema())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Stockade.Applied) == 0 || len(m.Apps) != 1 || m.Apps[0].Name != "porttest" || len(m.Apps[0].Result.Applied) != 1 || m.Apps[0].Result.Applied[0] != 1 {
		t.Fatalf("MigrateAll = %+v; want Stockade's migrations, then the app's version 1", m)
	}
	st, err := app.OpenStore(ctx, cfg, nil, notesSchema())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	readNotes(t, st)
}

func TestOpenStoreSQLiteMemoryWithAppMigrations(t *testing.T) {
	cfg := app.Default()
	cfg.Database.URL = "sqlite://:memory:"
	st, err := app.OpenStore(context.Background(), cfg, nil, notesSchema())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	readNotes(t, st)
}

func TestOpenStoreRefusesAppWithoutDialect(t *testing.T) {
	cfg := sqliteConfig(t)
	_, err := app.OpenStore(context.Background(), cfg, nil, app.AppSchema{Name: "pgonly", Postgres: notesSchema().Postgres})
	if err == nil {
		t.Fatal("OpenStore with an app that brings no SQLite migrations succeeded")
	}
}

// TestAppMigrationsOption: the fx option makes the app's own start-up
// apply its migrations after Stockade's.
func TestAppMigrationsOption(t *testing.T) {
	cfg := fxConfig(t)
	s := notesSchema()
	var store ports.Store
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}), app.AppMigrations(s.Name, s.Postgres, s.SQLite, s.Tables...), fx.Populate(&store))
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(ctx)
	readNotes(t, store)
}

func TestOpenStorePostgresWithAppMigrations(t *testing.T) {
	ctx := context.Background()
	pg := testinfra.StartPostgres(t)
	cfg := app.Default()
	cfg.Database.URL = pg.AppURL
	cfg.Database.MigrateURL = pg.OwnerURL
	if _, err := app.Migrate(ctx, cfg); err != nil { // Stockade's only
		t.Fatal(err)
	}
	noOwner := cfg
	noOwner.Database.MigrateURL = ""
	_, err := app.OpenStore(ctx, noOwner, nil, notesSchema())
	if !errors.Is(err, ports.ErrSchemaBehind) {
		t.Fatalf("OpenStore without an owner URL, app migrations pending = %v; want ErrSchemaBehind", err)
	}

	st, err := app.OpenStore(ctx, cfg, nil, notesSchema())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	readNotes(t, st)
	m, err := app.MigrateAll(ctx, cfg, notesSchema())
	if err != nil || len(m.Apps) != 1 || len(m.Apps[0].Result.Applied) != 0 || m.Apps[0].Result.To != 1 {
		t.Fatalf("MigrateAll on a current schema = %+v, %v; want the app at 1, nothing applied", m, err)
	}
}
