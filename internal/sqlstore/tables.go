package sqlstore

import "github.com/stockadehq/stockade/ports"

// stockadeTenantTables are Stockade's tables holding a shop's rows
// (shop_id), children before the tables they reference, the audit chain
// last: deleting them in this order never breaks a foreign key, and the
// chain is the last thing of a shop to go.
var stockadeTenantTables = [...]string{
	"webauthn_challenges",
	"passkeys",
	"sessions", // references memberships and impersonations
	"magic_links",
	"impersonations",
	"invitations",
	"memberships",
	"files",
	"jobs",
	"capabilities",
	"webhook_endpoints",
	"two_factor_policies",
	"billing_events",
	"billing_accounts",
	"messaging_consent", // references messaging_contacts
	"outbox_messages",   // references messaging_contacts
	"messaging_events",
	"messaging_contacts",
	"messaging_settings",
	"auth_mail",
	"retention_warnings",
	"audit_checkpoints",
	"audit_events",
	"audit_heads",
}

// TenantTables lists every table holding a shop's rows in dependency
// order (a table's children before the table): the embedding app's
// declared tables first, in the reverse of their declaration order (so an
// app declares a table before the tables referencing it), then
// Stockade's own, the audit chain last. App tables may reference
// Stockade's tables, never the other way round.
func TenantTables(appTables []ports.TenantTable) []string {
	out := make([]string, 0, len(appTables)+len(stockadeTenantTables))
	for i := len(appTables) - 1; i >= 0; i-- {
		out = append(out, appTables[i].Name)
	}
	return append(out, stockadeTenantTables[:]...)
}
