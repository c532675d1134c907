package sqlite

import (
	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// Users implements ports.GlobalTx: the shared user repository
// (internal/sqlstore) joined with the session epoch (epoch.go), which is
// still written here.
func (t *globalTx) Users() ports.UserRepo {
	return users{UserDirectory: t.Global.UserDirectory(), t: t}
}

// users joins the two until the session epoch is shared too; then
// sqlstore.Global's Users replaces them (issue 17).
type users struct {
	sqlstore.UserDirectory
	t *globalTx
}
