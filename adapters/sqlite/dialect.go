package sqlite

import (
	"time"

	"github.com/stockadehq/stockade/internal/sqlstore"
)

// dialect is SQLite's sqlstore.Dialect: ? placeholders, times as Unix
// microseconds, no row locks (a writing unit of work holds the one write
// lock from BEGIN IMMEDIATE on), no casts.
type dialect struct{}

var _ sqlstore.Dialect = dialect{}

func (dialect) Name() string { return "sqlite" }

func (dialect) Rebind(query string) string { return query }

func (dialect) Args(args []any) []any {
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = micros(t)
		}
	}
	return args
}

func (dialect) MapErr(op string, err error) error { return wrap(op, err) }

func (dialect) Lock(string) string { return "" }

func (dialect) Cast(expr, _ string) string { return expr }

func (dialect) Bytewise(expr string) string { return expr }
