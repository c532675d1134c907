package sqlite

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
	msqlite "modernc.org/sqlite"

	"github.com/stockadehq/stockade/ports"
)

// The SQLite tenant wall for the embedding app's tables (issue 17).
//
// SQLite has no row-level security, so the wall is built per connection
// from two parts, engaged by the first ShopTx.SQL call of a unit of work:
//
//   - Views filter. For each declared app table T the connection holds a
//     TEMP VIEW T over main.T restricted to the shop in the one-row table
//     temp.stockade_wall, and INSTEAD OF INSERT/UPDATE/DELETE triggers that
//     RAISE(ABORT) when the new or old row names another shop and otherwise
//     write main.T. SQLite resolves an unqualified name to the temp schema
//     first, so "SELECT * FROM quotes" with no WHERE reads the view. The
//     scope row is set when the wall is engaged and cleared before commit,
//     so outside InShop the views show nothing.
//   - The authorizer refuses. While a handle statement is prepared, the
//     connection's authorizer (sqlite3_set_authorizer, which
//     modernc.org/sqlite exposes) allows only: SELECT, recursive CTEs,
//     functions other than load_extension, reads and writes of the app
//     views, and the views' and triggers' own access to main. It refuses
//     schema-qualified main.T, Stockade's own tables, sqlite_master, the
//     scope table, PRAGMA, ATTACH/DETACH, every CREATE/DROP/ALTER, and
//     BEGIN/COMMIT/ROLLBACK/SAVEPOINT, as ports.ErrForbidden naming the
//     action.
//
// What SQLite cannot give through views, the handle refuses loudly rather
// than fake: RowsAffected and LastInsertId of a write (SQLite does not
// count rows written by INSTEAD OF triggers; use RETURNING) are
// ports.ErrUnsupported; UPSERT on a view is refused by SQLite itself.
// A column with a DEFAULT takes the default when the statement omits it
// or sets it to NULL (a trigger cannot tell the two apart). An INSERT that
// omits shop_id gets the unit of work's shop.

// wallScope is the temp table holding the engaged shop and the main
// schema version the views and triggers were built for.
const wallScope = "stockade_wall"

// wall is one unit of work's authorizer state.
type wall struct {
	apps     map[string]bool // declared app tables, hence the temp views
	triggers map[string]bool // the INSTEAD OF triggers' names
	depth    atomic.Int32    // handle statements being run

	own map[string]bool // Stockade's tables (ownTables)

	mu         sync.Mutex
	refused    string // what the authorizer last refused
	undeclared string // the undeclared app table it touched, if any
}

func newWall(tables []ports.TenantTable, own map[string]bool) *wall {
	w := &wall{apps: map[string]bool{}, triggers: map[string]bool{}, own: own}
	for _, t := range tables {
		w.apps[t.Name] = true
		for _, op := range []string{"insert", "update", "delete"} {
			w.triggers[triggerName(t.Name, op)] = true
		}
	}
	return w
}

func triggerName(table, op string) string { return "stockade_wall_" + table + "_" + op }

// ours reports whether a view or trigger name is one the wall created.
func (w *wall) ours(name string) bool { return name != "" && (w.apps[name] || w.triggers[name]) }

// authorize is the connection's authorizer while the wall is engaged.
func (w *wall) authorize(action msqlite.AuthorizerActionCode, arg1, arg2, db, via string) msqlite.AuthorizerReturnCode {
	if w.depth.Load() == 0 {
		// Stockade's own statements in the same unit of work: everything
		// but direct access to an app table's rows.
		if db == "main" && w.apps[arg1] && via == "" && isRowAction(action) {
			return w.refuse("direct access to main." + arg1)
		}
		return msqlite.AuthorizerOK
	}
	switch action {
	case msqlite.AuthSelect, msqlite.AuthRecursive:
		return msqlite.AuthorizerOK
	case msqlite.AuthFunction:
		if strings.EqualFold(arg2, "load_extension") {
			return w.refuse("load_extension")
		}
		return msqlite.AuthorizerOK
	case msqlite.AuthRead:
		switch {
		case w.triggers[via]: // the wall's own triggers, foreign-key checks included
			return msqlite.AuthorizerOK
		case db == "temp" && w.apps[arg1] && (via == "" || w.ours(via)):
			return msqlite.AuthorizerOK
		case db == "main" && w.apps[arg1] && w.apps[via]:
			return msqlite.AuthorizerOK
		case db == "temp" && arg1 == wallScope && w.ours(via):
			return msqlite.AuthorizerOK
		}
		w.refuseRows("reading", db, arg1)
		return msqlite.AuthorizerDeny
	case msqlite.AuthInsert, msqlite.AuthUpdate, msqlite.AuthDelete:
		switch {
		case db == "temp" && w.apps[arg1] && via == "":
			return msqlite.AuthorizerOK
		case db == "main" && w.apps[arg1] && w.triggers[via]:
			return msqlite.AuthorizerOK
		}
		w.refuseRows("writing", db, arg1)
		return msqlite.AuthorizerDeny
	case msqlite.AuthPragma:
		return w.refuse("PRAGMA " + arg1)
	case msqlite.AuthAttach, msqlite.AuthDetach:
		return w.refuse("ATTACH and DETACH")
	case msqlite.AuthTransaction, msqlite.AuthSavepoint:
		return w.refuse("transaction control (" + arg1 + ")")
	}
	return w.refuse(fmt.Sprintf("schema changes and other statements (authorizer action %d on %q)", action, arg1))
}

func isRowAction(a msqlite.AuthorizerActionCode) bool {
	return a == msqlite.AuthRead || a == msqlite.AuthInsert || a == msqlite.AuthUpdate || a == msqlite.AuthDelete
}

func qualified(db, table string) string {
	if db == "" {
		return table
	}
	return db + "." + table
}

func (w *wall) refuse(what string) msqlite.AuthorizerReturnCode {
	w.mu.Lock()
	w.refused, w.undeclared = what, ""
	w.mu.Unlock()
	return msqlite.AuthorizerDeny
}

// register installs fn (nil removes it) as conn's authorizer.
func register(conn *sqlx.Conn, fn msqlite.AuthorizerFn) error {
	return conn.Raw(func(dc any) error {
		r, ok := dc.(msqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("sqlite wall: the driver has no authorizer: %w", ports.ErrUnsupported)
		}
		return r.RegisterAuthorizer(fn)
	})
}

// queryOnly runs fn with the connection writable when the unit of work is
// read-only: the scope row lives in the temp schema, which query_only
// also protects. Pragmas are not transactional; fn runs no app SQL.
func (t *shopTx) queryOnly(ctx context.Context, fn func() error) error {
	if !t.readOnly {
		return fn()
	}
	if _, err := t.q.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		return err
	}
	err := fn()
	if _, rerr := t.q.ExecContext(ctx, "PRAGMA query_only = 1"); err == nil {
		err = rerr
	}
	return err
}

// engage builds the wall on this unit of work's connection if it is
// missing or stale, sets the scope to t.shop and installs the authorizer.
func (t *shopTx) engage(ctx context.Context) error {
	if len(t.store.appTables) == 0 {
		return fmt.Errorf("sqlite wall: no app tables declared, so tx.SQL() reaches none (%s): %w", declareHint, ports.ErrUnsupported)
	}
	if t.conn == nil {
		return fmt.Errorf("sqlite wall: unit of work has no connection of its own: %w", ports.ErrUnsupported)
	}
	err := t.queryOnly(ctx, func() error {
		set := `UPDATE temp.` + wallScope + ` SET shop_id = ? WHERE schema_version = (SELECT schema_version FROM pragma_schema_version)`
		res, err := t.q.ExecContext(ctx, set, t.shop)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 1 {
				return nil
			}
		} else if !strings.Contains(err.Error(), "no such table") {
			return err
		}
		if err := t.build(ctx); err != nil {
			return err
		}
		_, err = t.q.ExecContext(ctx, set, t.shop)
		return err
	})
	if err != nil {
		return wrap("engage the tenant wall", err)
	}
	w := newWall(t.store.appTables, t.store.ownTables)
	if err := register(t.conn, w.authorize); err != nil {
		return wrap("engage the tenant wall", err)
	}
	t.wall = w
	return nil
}

// disengage clears the scope (before commit) and removes the authorizer.
func (t *shopTx) disengage(ctx context.Context) error {
	if t.wall == nil {
		return nil
	}
	err := t.queryOnly(ctx, func() error {
		_, err := t.q.ExecContext(ctx, `UPDATE temp.`+wallScope+` SET shop_id = NULL`)
		return err
	})
	if rerr := register(t.conn, nil); err == nil {
		err = rerr
	}
	t.wall = nil
	return wrap("disengage the tenant wall", err)
}
