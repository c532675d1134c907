package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/stockadehq/stockade/ports"
)

// mapErr turns a driver error into a ports sentinel wrapped with what was
// being done. It never lets a *sqlite.Error cross the port unwrapped.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ports.ErrNotFound)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var se *sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlitelib.SQLITE_CONSTRAINT_UNIQUE, sqlitelib.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w", op, ports.ErrConflict)
		case sqlitelib.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: referenced record: %w", op, ports.ErrNotFound)
		case sqlitelib.SQLITE_CONSTRAINT_CHECK, sqlitelib.SQLITE_CONSTRAINT_NOTNULL:
			return fmt.Errorf("%s: %w", op, ports.Invalid("record", "refused by a database constraint"))
		case sqlitelib.SQLITE_CONSTRAINT_TRIGGER:
			return fmt.Errorf("%s: %w", op, ports.ErrForbidden)
		case sqlitelib.SQLITE_READONLY, sqlitelib.SQLITE_READONLY_DBMOVED:
			return fmt.Errorf("%s: write in a read-only unit of work: %w", op, ports.ErrForbidden)
		case sqlitelib.SQLITE_BUSY, sqlitelib.SQLITE_LOCKED, sqlitelib.SQLITE_IOERR, sqlitelib.SQLITE_FULL, sqlitelib.SQLITE_CANTOPEN:
			return fmt.Errorf("%s: %s: %w", op, se.Error(), ports.ErrUnavailable)
		}
		if se.Code()&0xff == sqlitelib.SQLITE_READONLY {
			return fmt.Errorf("%s: write in a read-only unit of work: %w", op, ports.ErrForbidden)
		}
		if se.Code()&0xff == sqlitelib.SQLITE_CONSTRAINT {
			return fmt.Errorf("%s: %w", op, ports.ErrConflict)
		}
	}
	// Anything else is a bug or an unexpected state: report it without
	// wrapping the driver error, so it cannot be matched as a contract.
	return fmt.Errorf("%s: %v", op, err)
}

// affected returns how many rows an Exec changed, or its error mapped.
func affected(op string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(n), nil
}
