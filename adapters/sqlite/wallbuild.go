package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// column is one row of PRAGMA table_info.
type column struct {
	CID     int     `db:"cid"`
	Name    string  `db:"name"`
	Type    string  `db:"type"`
	NotNull bool    `db:"notnull"`
	Default *string `db:"dflt_value"`
	PK      int     `db:"pk"`
}

// build (re)creates the wall's temp objects on the unit of work's
// connection for the main schema as it is now. An app table that does
// not exist, lacks shop_id or has no primary key is refused: the wall
// could not route its writes.
func (t *shopTx) build(ctx context.Context) error {
	var version int64
	if err := t.q.GetContext(ctx, &version, `SELECT schema_version FROM pragma_schema_version`); err != nil {
		return err
	}
	stmts := []string{
		`DROP TABLE IF EXISTS temp.` + wallScope,
		`CREATE TEMP TABLE ` + wallScope + ` (shop_id, schema_version INTEGER NOT NULL)`,
		fmt.Sprintf(`INSERT INTO temp.%s VALUES (NULL, %d)`, wallScope, version),
	}
	for _, tab := range t.store.appTables {
		var cols []column
		if err := t.q.SelectContext(ctx, &cols, `SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?, 'main')`, tab.Name); err != nil {
			return err
		}
		ddl, err := wallDDL(tab.Name, cols)
		if err != nil {
			return err
		}
		stmts = append(stmts, ddl...)
	}
	for _, s := range stmts {
		if _, err := t.q.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// wallDDL returns the view and triggers walling table name with cols.
// Names are validated identifiers (ports.TenantTable.Validate); column
// names are quoted.
func wallDDL(name string, cols []column) ([]string, error) {
	if len(cols) == 0 {
		return nil, ports.Invalid("app table", fmt.Sprintf("%s does not exist in the main schema", name))
	}
	scope := `(SELECT shop_id FROM temp.` + wallScope + `)`
	var names, values, sets, keys []string
	hasShop := false
	for _, c := range cols {
		q := quoteIdent(c.Name)
		v := "NEW." + q
		switch {
		case c.Name == "shop_id":
			hasShop = true
			v = "coalesce(NEW.shop_id, " + scope + ")"
		case c.Default != nil:
			v = "coalesce(NEW." + q + ", " + *c.Default + ")"
		}
		names = append(names, q)
		values = append(values, v)
		sets = append(sets, q+" = NEW."+q)
		if c.PK > 0 && c.Name != "shop_id" {
			keys = append(keys, q+" IS OLD."+q)
		}
	}
	if !hasShop {
		return nil, ports.Invalid("app table", fmt.Sprintf("%s has no shop_id column", name))
	}
	if len(keys) == 0 {
		return nil, ports.Invalid("app table", fmt.Sprintf("%s needs a primary key (shop_id, id...): the SQLite wall routes updates and deletes by it", name))
	}
	where := "shop_id = OLD.shop_id AND " + strings.Join(keys, " AND ")
	foreign := func(expr string) string { return "coalesce(" + expr + " = " + scope + ", 0) = 0" }
	return []string{
		`DROP VIEW IF EXISTS temp.` + name,
		`CREATE TEMP VIEW ` + name + ` AS SELECT * FROM main.` + name + ` WHERE shop_id = ` + scope,
		`CREATE TEMP TRIGGER ` + triggerName(name, "insert") + ` INSTEAD OF INSERT ON ` + name + ` BEGIN ` +
			`SELECT RAISE(ABORT, 'stockade wall: the row names another shop') WHERE ` + foreign("coalesce(NEW.shop_id, "+scope+")") + `; ` +
			`INSERT INTO main.` + name + ` (` + strings.Join(names, ", ") + `) VALUES (` + strings.Join(values, ", ") + `); END`,
		`CREATE TEMP TRIGGER ` + triggerName(name, "update") + ` INSTEAD OF UPDATE ON ` + name + ` BEGIN ` +
			`SELECT RAISE(ABORT, 'stockade wall: a row cannot move to another shop') WHERE ` + foreign("NEW.shop_id") + ` OR ` + foreign("OLD.shop_id") + `; ` +
			`UPDATE main.` + name + ` SET ` + strings.Join(sets, ", ") + ` WHERE ` + where + `; END`,
		`CREATE TEMP TRIGGER ` + triggerName(name, "delete") + ` INSTEAD OF DELETE ON ` + name + ` BEGIN ` +
			`SELECT RAISE(ABORT, 'stockade wall: the row belongs to another shop') WHERE ` + foreign("OLD.shop_id") + `; ` +
			`DELETE FROM main.` + name + ` WHERE ` + where + `; END`,
	}, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
