package sqlite

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// declareHint is how every wall error caused by a missing declaration
// names the fix.
const declareHint = "declare the table with sqlite.WithAppTables"

// ownTables returns the names of the tables Stockade's migrations in fsys
// create (renamed and dropped ones included), so the wall can tell a
// refused statement on Stockade's table from one on an app table nobody
// declared.
func ownTables(fsys fs.FS) (map[string]bool, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	own := map[string]bool{}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read migration %s: %w", n, err)
		}
		words := strings.Fields(strings.ToLower(string(b)))
		for i := 0; i+2 < len(words); i++ {
			if words[i] != "create" || words[i+1] != "table" {
				continue
			}
			name := words[i+2]
			if name == "if" && i+5 < len(words) { // IF NOT EXISTS name
				name = words[i+5]
			}
			if j := strings.IndexByte(name, '('); j >= 0 {
				name = name[:j]
			}
			own[strings.Trim(name, "\"`[]")] = true
		}
	}
	return own, nil
}

// stockades reports whether table is Stockade's or SQLite's own: created
// by Stockade's migrations, or under a reserved prefix (version tables,
// sqlite_master, the wall's scope).
func (w *wall) stockades(table string) bool {
	t := strings.ToLower(table)
	return w.own[t] || strings.HasPrefix(t, "stockade_") || strings.HasPrefix(t, "sqlite_")
}

// refuseRows refuses a read or write of db.table by a handle statement;
// a table in main that is neither declared nor Stockade's is an app table
// nobody declared, and the error will say so.
func (w *wall) refuseRows(verb, db, table string) {
	undeclared := ""
	if (db == "main" || db == "") && !w.apps[table] && !w.stockades(table) {
		undeclared = table
	}
	w.mu.Lock()
	w.refused, w.undeclared = verb+" "+qualified(db, table), undeclared
	w.mu.Unlock()
}

// refusal returns the error for the statement the authorizer last
// refused: ports.ErrForbidden, and also ports.ErrInvalid naming the fix
// when it touched an app table that was not declared.
func (w *wall) refusal() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.undeclared != "" {
		return fmt.Errorf("sqlite wall: refused %s: %s is not a declared app table (%s): %w: %w",
			w.refused, w.undeclared, declareHint, ports.ErrInvalid, ports.ErrForbidden)
	}
	return fmt.Errorf("sqlite wall: refused %s: %w", w.refused, ports.ErrForbidden)
}
