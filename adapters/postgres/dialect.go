package postgres

import (
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// dialect is PostgreSQL's sqlstore.Dialect: $n placeholders, timestamptz,
// row locks, casts spelled out.
type dialect struct {
	// bound caches each shared statement's $n form: the statements are
	// constants, so the cache is as large as the store's SQL.
	bound sync.Map // string → string
}

var _ sqlstore.Dialect = (*dialect)(nil)

func (*dialect) Name() string { return "postgres" }

func (d *dialect) Rebind(query string) string {
	if q, ok := d.bound.Load(query); ok {
		return q.(string)
	}
	q := sqlx.Rebind(sqlx.DOLLAR, query)
	d.bound.Store(query, q)
	return q
}

func (*dialect) Args(args []any) []any {
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = ports.Timestamp(t)
		}
	}
	return args
}

// MapErr strips nothing: mapErr already names the dialect.
func (*dialect) MapErr(op string, err error) error { return mapErr(op, err) }

func (*dialect) Lock(clause string) string { return " " + clause }

func (*dialect) Cast(expr, pgType string) string { return expr + "::" + pgType }

func (*dialect) Bytewise(expr string) string { return expr + ` COLLATE "C"` }
