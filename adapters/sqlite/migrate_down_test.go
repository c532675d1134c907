package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/internal/testinfra"
)

// TestMigrationsDownRestoreTheSchema: every migration after the
// foundation (00001, 00002) undoes itself exactly — down restores every
// table, index, trigger and view as its SQL text, and up again rebuilds
// them — so an upgrade can be rolled back with goose.
func TestMigrationsDownRestoreTheSchema(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "down.db")+"?_pragma=foreign_keys(1)")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	testinfra.CheckMigrationsDown(t, db, goose.DialectSQLite3, sqlite.Migrations(), sqlmigrate.VersionTable, 2, func(t *testing.T) []string {
		rows, err := db.Query(`SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master
			WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> ?`, sqlmigrate.VersionTable)
		require.NoError(t, err)
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var typ, name, table, text string
			require.NoError(t, rows.Scan(&typ, &name, &table, &text))
			// A table rebuilt with ALTER TABLE … RENAME keeps its SQL with
			// the name quoted: the same table.
			text = strings.Replace(text, `CREATE TABLE "`+name+`"`, "CREATE TABLE "+name, 1)
			lines = append(lines, typ+" | "+name+" | "+table+" | "+text)
		}
		require.NoError(t, rows.Err())
		return lines
	})
}
