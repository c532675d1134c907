package postgres

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx/reflectx"
)

// newMapper is sqlx's own column mapping (db tags, lower-cased field names
// otherwise), so that rows scan into the shared repositories' structs
// exactly as sqlx scans them on SQLite.
func newMapper() *reflectx.Mapper { return reflectx.NewMapperFunc("db", strings.ToLower) }

// scanner scans the rows of one result set into values of one Go type:
// the columns into struct fields by name, or the single column into a
// scannable value (a sql.Scanner, a basic type, time.Time).
type scanner struct {
	base   reflect.Type // the element type scanned into
	fields [][]int      // per column, the field index path; nil when direct
	direct bool
	slice  reflect.Value // SelectContext's destination slice
	ptrs   bool          // the slice holds pointers to base
}

var scannerType = reflect.TypeFor[sql.Scanner]()

// newScanner prepares scanning rows into dest: a pointer to a value
// (GetContext) or, with many, a pointer to a slice of values or pointers.
func newScanner(m *reflectx.Mapper, rows pgx.Rows, dest any, many bool) (*scanner, error) {
	v := reflect.ValueOf(dest)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("postgres: scan: destination %T is not a non-nil pointer", dest)
	}
	sc := &scanner{base: v.Elem().Type()}
	if many {
		if sc.base.Kind() != reflect.Slice {
			return nil, fmt.Errorf("postgres: scan: destination %T is not a pointer to a slice", dest)
		}
		sc.slice = v.Elem()
		sc.base = sc.base.Elem()
		if sc.base.Kind() == reflect.Pointer {
			sc.ptrs, sc.base = true, sc.base.Elem()
		}
	}
	cols := rows.FieldDescriptions()
	if scannable(m, sc.base) {
		if len(cols) != 1 {
			return nil, fmt.Errorf("postgres: scan: %d columns into one %s", len(cols), sc.base)
		}
		sc.direct = true
		return sc, nil
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	sc.fields = m.TraversalsByName(sc.base, names)
	for i, f := range sc.fields {
		if len(f) == 0 {
			return nil, fmt.Errorf("postgres: scan: missing destination name %s in %s", names[i], sc.base)
		}
	}
	return sc, nil
}

// scannable mirrors sqlx: a type scans whole when it is a sql.Scanner,
// not a struct, or a struct without mapped fields (time.Time).
func scannable(m *reflectx.Mapper, t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(scannerType) || t.Kind() != reflect.Struct {
		return true
	}
	return len(m.TypeMap(t).Index) == 0
}

// scanInto scans the current row into dest, a pointer to the base type.
func (sc *scanner) scanInto(rows pgx.Rows, dest any) error {
	if sc.direct {
		return rows.Scan(dest)
	}
	return sc.scanValue(rows, reflect.ValueOf(dest).Elem())
}

func (sc *scanner) scanValue(rows pgx.Rows, v reflect.Value) error {
	if sc.direct {
		return rows.Scan(v.Addr().Interface())
	}
	ptrs := make([]any, len(sc.fields))
	for i, f := range sc.fields {
		ptrs[i] = reflectx.FieldByIndexes(v, f).Addr().Interface()
	}
	return rows.Scan(ptrs...)
}

// appendRow scans the current row into a new element of the slice.
func (sc *scanner) appendRow(rows pgx.Rows) error {
	p := reflect.New(sc.base)
	if err := sc.scanValue(rows, p.Elem()); err != nil {
		return err
	}
	if sc.ptrs {
		sc.slice.Set(reflect.Append(sc.slice, p))
	} else {
		sc.slice.Set(reflect.Append(sc.slice, p.Elem()))
	}
	return nil
}
