package ports

import (
	"context"
	"database/sql"
	"fmt"
)

// SQL dialects a TxSQL speaks (TxSQL.Dialect).
const (
	// DialectPostgres takes $1, $2, ... placeholders.
	DialectPostgres = "postgres"
	// DialectSQLite takes ? placeholders.
	DialectSQLite = "sqlite"
)

// TxSQL is the unit of work's own SQL handle: statements run in the same
// transaction as the repositories', so the app's rows and Stockade's audit
// event commit together or not at all. Placeholders are the dialect's own
// ($1 on Postgres, ? on SQLite; Dialect says which).
//
// On Postgres the handle is the transaction itself, with the tenant setting
// applied: row-level security binds every statement to the unit of work's
// shop on the tables made tenant tables (SELECT stockade_tenant_table(...)).
// On SQLite the handle is the transaction behind the store's tenant wall
// for the declared app tables (TenantTable).
//
// The handle is valid only inside the InShop callback that returned it;
// rows must be closed before the callback returns. Statements must not end
// the transaction (COMMIT, ROLLBACK) or change the tenant setting.
type TxSQL interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	// Dialect is DialectPostgres or DialectSQLite.
	Dialect() string
}

// TenantTable declares one of the embedding app's tables to the store as a
// tenant table: it has a shop_id column, and rows belong to the shop it
// names. Stores take the list at Open (the adapters' WithAppTables option).
type TenantTable struct {
	// Name is the table's unquoted name: a lowercase letter or underscore,
	// then lowercase letters, digits or underscores, at most 63 bytes.
	Name string
}

// Validate returns ErrInvalid unless t.Name is a plain lowercase SQL
// identifier (safe to splice into SQL unquoted) outside Stockade's own
// prefixes (stockade_, sqlite_, pg_).
func (t TenantTable) Validate() error {
	n := t.Name
	if n == "" || len(n) > 63 {
		return Invalid("app table", "name must be 1 to 63 bytes")
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return Invalid("app table", fmt.Sprintf("name %q must be lowercase letters, digits and underscores, not starting with a digit", n))
		}
	}
	for _, p := range []string{"stockade_", "sqlite_", "pg_"} {
		if len(n) >= len(p) && n[:len(p)] == p {
			return Invalid("app table", fmt.Sprintf("name %q uses the reserved prefix %q", n, p))
		}
	}
	return nil
}

// AppVersionTable returns the version table of the embedding app's
// migrations named name: stockade_app_<name>_versions, apart from
// Stockade's own, so the app's versions and Stockade's never collide. The
// name is 1 to 32 lowercase letters, digits or underscores, starting with
// a letter; anything else is ErrInvalid.
func AppVersionTable(name string) (string, error) {
	if name == "" || len(name) > 32 || name[0] < 'a' || name[0] > 'z' {
		return "", Invalid("app migrations", "name must be 1 to 32 lowercase letters, digits or underscores, starting with a letter")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return "", Invalid("app migrations", "name must be 1 to 32 lowercase letters, digits or underscores, starting with a letter")
		}
	}
	return "stockade_app_" + name + "_versions", nil
}
