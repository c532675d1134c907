package app_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

func sqliteConfig(t *testing.T) app.Config {
	t.Helper()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	if err := app.PrepareDataDir(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestOpenStoreSQLiteMigratesAndLogs(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteConfig(t)
	core, logs := observer.New(zap.InfoLevel)

	st, err := app.OpenStore(ctx, cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping after OpenStore: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	migrated := logs.FilterMessage("schema migrated").All()
	if len(migrated) != 1 {
		t.Fatalf("want one 'schema migrated' record, got %v", logs.All())
	}
	f := migrated[0].ContextMap()
	if f["from"] != int64(0) || f["to"].(int64) < 1 || !strings.HasPrefix(f["database"].(string), "sqlite:///") {
		t.Errorf("migration record = %v", f)
	}

	// A second open finds the schema current.
	st, err = app.OpenStore(ctx, cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if logs.FilterMessage("schema is current").Len() != 1 {
		t.Errorf("want one 'schema is current' record, got %v", logs.All())
	}
}

func TestOpenStoreSQLiteMemory(t *testing.T) {
	cfg := app.Default()
	cfg.Database.URL = "sqlite://:memory:"
	st, err := app.OpenStore(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Ping(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestMigrateSQLiteIdempotent(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteConfig(t)
	first, err := app.Migrate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if first.From != 0 || first.To < 1 || len(first.Applied) == 0 {
		t.Errorf("first Migrate = %+v, want versions applied from 0", first)
	}
	second, err := app.Migrate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if second.From != first.To || second.To != first.To || len(second.Applied) != 0 {
		t.Errorf("second Migrate = %+v, want nothing applied at %d", second, first.To)
	}
}

func TestMigrateSQLiteMissingDir(t *testing.T) {
	cfg := app.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "never-created")
	_, err := app.Migrate(context.Background(), cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "STOCKADE_DATABASE_URL: migrate sqlite:///") {
		t.Errorf("Migrate without the data dir = %v, want an error naming STOCKADE_DATABASE_URL", err)
	}
}

func TestMigratePostgresNeedsOwnerURL(t *testing.T) {
	cfg := app.Default()
	cfg.Database.URL = "postgres://app:pw@127.0.0.1:1/stockade"
	_, err := app.Migrate(context.Background(), cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "STOCKADE_DATABASE_MIGRATE_URL: ") {
		t.Errorf("Migrate = %v, want an error naming STOCKADE_DATABASE_MIGRATE_URL", err)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestOpenStorePostgresUnreachable(t *testing.T) {
	const secret = "Pw-9f3kQ"
	addr := closedPort(t)
	tests := []struct {
		name    string
		give    func(*app.Config)
		setting string
	}{
		{"app role", func(c *app.Config) {
			c.Database.URL = "postgres://app:" + secret + "@" + addr + "/stockade?sslmode=disable"
		}, "STOCKADE_DATABASE_URL"},
		{"owner role", func(c *app.Config) {
			c.Database.URL = "postgres://app:" + secret + "@" + addr + "/stockade?sslmode=disable"
			c.Database.MigrateURL = "postgres://owner:" + secret + "@" + addr + "/stockade?sslmode=disable"
		}, "STOCKADE_DATABASE_MIGRATE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Default()
			tt.give(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			_, err := app.OpenStore(context.Background(), cfg, nil)
			if err == nil {
				t.Fatal("OpenStore succeeded against a closed port")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.setting+": ") || strings.Contains(msg, secret) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line naming %s without the password", msg, tt.setting)
			}
			if !errors.Is(err, ports.ErrUnavailable) {
				t.Errorf("error does not match ports.ErrUnavailable: %v", err)
			}
		})
	}
}

// TestOpenStoreErrorRedactsOnlyThePassword: with the one-letter password
// "b", the message named "sslmode=disaxxxxxle" and
// "xxxxxinary_parameters" before (lib/pq's binary_parameters; now
// connect_timeout stands beside it); only the password component goes.
func TestOpenStoreErrorRedactsOnlyThePassword(t *testing.T) {
	cfg := app.Default()
	cfg.Database.URL = "postgres://app:b@" + closedPort(t) + "/stockade?sslmode=disable"
	_, err := app.OpenStore(context.Background(), cfg, nil)
	if err == nil {
		t.Fatal("OpenStore succeeded against a closed port")
	}
	msg := err.Error()
	for _, want := range []string{"postgres://app:xxxxx@", "sslmode=disable", "connect_timeout=10"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error = %q, want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, ":b@") {
		t.Errorf("error = %q names the password", msg)
	}
}

func TestOpenStorePostgres(t *testing.T) {
	ctx := context.Background()
	pg := testinfra.StartPostgres(t)
	cfg := app.Default()
	cfg.Database.URL = pg.AppURL

	// Without an owner URL an empty database is refused, with a hint.
	_, err := app.OpenStore(ctx, cfg, nil)
	if !errors.Is(err, ports.ErrSchemaBehind) || !strings.Contains(err.Error(), "stockade migrate") {
		t.Fatalf("OpenStore on an empty database = %v, want ErrSchemaBehind with a hint", err)
	}

	// With it, OpenStore migrates as the owner, then opens as the app role.
	cfg.Database.MigrateURL = pg.OwnerURL
	core, logs := observer.New(zap.InfoLevel)
	st, err := app.OpenStore(ctx, cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	migrated := logs.FilterMessage("schema migrated").All()
	if len(migrated) != 1 {
		t.Fatalf("want one 'schema migrated' record, got %v", logs.All())
	}
	applied, _ := migrated[0].ContextMap()["applied"].([]any)
	if len(applied) == 0 || strings.Contains(migrated[0].ContextMap()["database"].(string), secretOf(t, pg.OwnerURL)) {
		t.Errorf("migration record = %v", migrated[0].ContextMap())
	}

	res, err := app.Migrate(ctx, cfg)
	if err != nil || len(res.Applied) != 0 || res.To == 0 {
		t.Errorf("Migrate on a current schema = %+v, %v; want nothing applied", res, err)
	}
	if got := app.MigrationTarget(cfg); strings.Contains(got, secretOf(t, pg.OwnerURL)) || !strings.Contains(got, "xxxxx") {
		t.Errorf("MigrationTarget = %q, want the owner URL redacted", got)
	}
}

// secretOf returns the password in rawURL.
func secretOf(t *testing.T, rawURL string) string {
	t.Helper()
	i := strings.Index(rawURL, "://")
	userinfo, _, ok := strings.Cut(rawURL[i+3:], "@")
	_, pw, ok2 := strings.Cut(userinfo, ":")
	if !ok || !ok2 || pw == "" {
		t.Fatalf("no password in the test URL")
	}
	return pw
}
