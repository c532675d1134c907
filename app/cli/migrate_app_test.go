package cli_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/cli"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// TestMigrateWithAppMigrations: an embedding app's binary built on NewRoot
// gets its migrations applied by `migrate`, after Stockade's.
func TestMigrateWithAppMigrations(t *testing.T) {
	env := []string{"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}
	schema := app.AppSchema{
		Name:     "porttest",
		Postgres: porttest.AppNotesMigrations(ports.DialectPostgres),
		SQLite:   porttest.AppNotesMigrations(ports.DialectSQLite),
	}
	migrate := func() string {
		t.Helper()
		var out, errOut bytes.Buffer
		root := cli.NewRoot(cli.Info{}, env, &out, &errOut, cli.WithAppMigrations(schema))
		root.SetArgs([]string{"migrate"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	lines := strings.Split(strings.TrimSpace(migrate()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "migrated sqlite:///") ||
		!strings.HasPrefix(lines[1], "migrated app porttest schema of sqlite:///") || !strings.HasSuffix(lines[1], "from version 0 to 1 (applied 1)") {
		t.Fatalf("first migrate printed %q; want Stockade's line, then the app's", lines)
	}
	if out := migrate(); !strings.Contains(out, "app porttest schema is current at version 1") {
		t.Errorf("second migrate printed %q", out)
	}
}
