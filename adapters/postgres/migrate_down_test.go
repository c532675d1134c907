package postgres_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/internal/testinfra"
)

// TestMigrationsDownRestoreTheSchema: every migration after the
// foundation (00001, 00002) undoes itself exactly — down restores the
// catalog, tables, columns, constraints, indexes, row-level security and
// its policies, functions, triggers, views, types and grants, and up again
// rebuilds it — so an upgrade can be rolled back with goose.
func TestMigrationsDownRestoreTheSchema(t *testing.T) {
	pg := testinfra.StartPostgres(t)
	db, err := sql.Open("pgx", pg.OwnerURL)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	testinfra.CheckMigrationsDown(t, db, goose.DialectPostgres, postgres.Migrations(), sqlmigrate.VersionTable, 2, func(t *testing.T) []string {
		return pgCatalog(t, db)
	})
}

// pgCatalog describes the public schema, one line per object.
func pgCatalog(t *testing.T, db *sql.DB) []string {
	t.Helper()
	queries := map[string]string{
		"column": `SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
			FROM information_schema.columns WHERE table_schema = 'public'`,
		"constraint": `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
			FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
		"index": `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`,
		"rls": `SELECT relname, relrowsecurity::text, relforcerowsecurity::text
			FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')`,
		"policy": `SELECT tablename, policyname, cmd, array_to_string(roles, ','), coalesce(qual, ''), coalesce(with_check, '')
			FROM pg_policies WHERE schemaname = 'public'`,
		"function": `SELECT proname, pg_get_function_identity_arguments(oid), pg_get_functiondef(oid)
			FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prokind IN ('f', 'p')`,
		"trigger": `SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal`,
		"view":    `SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'`,
		"type": `SELECT typname, typtype::text FROM pg_type
			WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'd', 'c') AND typrelid = 0`,
		"grant": `SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
			WHERE table_schema = 'public'`,
		"routine grant": `SELECT routine_name, grantee, privilege_type FROM information_schema.role_routine_grants
			WHERE routine_schema = 'public'`,
	}
	var lines []string
	for kind, q := range queries {
		rows, err := db.Query(q)
		require.NoError(t, err, kind)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			parts := []string{kind}
			for _, v := range vals {
				parts = append(parts, v.String)
			}
			line := strings.Join(parts, " | ")
			if !strings.Contains(line, sqlmigrate.VersionTable) { // goose's own bookkeeping
				lines = append(lines, line)
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return lines
}
