// Package quoting is the field-service example's domain: customers and
// quotes tables walled per shop, the app's own permissions, the quote use
// cases with their audit events, and quotes as a public link's record
// type. The fieldservice, embed-fx and embed-plain examples share it.
package quoting

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// SchemaName names the app's migrations: they are recorded in their own
// version table, stockade_app_fieldservice_versions, after Stockade's.
const SchemaName = "fieldservice"

// The app's own permissions, added to Stockade's default matrix by Policy.
const (
	// QuotesWrite adds customers and creates quotes.
	QuotesWrite access.Permission = "quotes.write"
	// QuotesRead reads quotes, and is needed (with links.manage) to hand
	// a quote out as a public link.
	QuotesRead access.Permission = "quotes.read"
)

// migrations holds one goose directory per dialect. The embed directive
// needs a package-level variable; Migrations is its only reader.
//
//go:embed migrations
var migrations embed.FS

// Migrations returns the app's goose migrations for dialect
// (ports.DialectPostgres or ports.DialectSQLite); ErrInvalid for another.
func Migrations(dialect string) (fs.FS, error) {
	switch dialect {
	case ports.DialectPostgres, ports.DialectSQLite:
		return fs.Sub(migrations, "migrations/"+dialect)
	}
	return nil, ports.Invalid("dialect", fmt.Sprintf("%q has no migrations", dialect))
}

// Tables are the app's tenant tables, declared to the store
// (sqlite.WithAppTables / postgres.WithAppTables) so its wall covers them.
func Tables() []ports.TenantTable {
	return []ports.TenantTable{{Name: "customers"}, {Name: "quotes"}}
}

// Policy is Stockade's default matrix plus the app's permissions: every
// role reads quotes; Owners, Admins and Sales write them.
func Policy() (*access.Policy, error) {
	return access.NewPolicy(
		access.Grant{Permission: QuotesWrite, Roles: []ports.Role{ports.RoleOwner, ports.RoleAdmin, ports.RoleSales}},
		access.Grant{Permission: QuotesRead, Roles: []ports.Role{ports.RoleOwner, ports.RoleAdmin, ports.RoleTech, ports.RoleSales, ports.RoleViewer}},
	)
}
