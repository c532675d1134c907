package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stockadehq/stockade/ports"
)

// mapErr turns a driver error into a ports sentinel wrapped with what was
// being done. A *pgconn.PgError never crosses the port.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, ports.ErrNotFound)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		code := pe.Code
		switch {
		case code == "23505": // unique_violation
			return fmt.Errorf("postgres: %s: %w", op, ports.ErrConflict)
		case code == "23503": // foreign_key_violation
			return fmt.Errorf("postgres: %s: referenced record: %w", op, ports.ErrNotFound)
		case code == "23514", code == "23502", code == "22P02", code == "22001", code == "22023", code == "22007":
			return fmt.Errorf("postgres: %s: %w", op, ports.Invalid("record", "refused by a database constraint"))
		case code == "42501": // insufficient_privilege, incl. row-level security WITH CHECK
			return fmt.Errorf("postgres: %s: %w", op, ports.ErrForbidden)
		case code == "25006": // read_only_sql_transaction
			return fmt.Errorf("postgres: %s: write in a read-only unit of work: %w", op, ports.ErrForbidden)
		case code == "40001", code == "40P01": // serialization_failure, deadlock_detected
			return fmt.Errorf("postgres: %s: concurrent update, retry: %w", op, ports.ErrConflict)
		case code == "57014": // query_canceled
			return fmt.Errorf("postgres: %s: %w", op, context.Canceled)
		case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"), code == "28P01", code == "28000", code == "3D000":
			return fmt.Errorf("postgres: %s: %s: %w", op, pe.Message, ports.ErrUnavailable)
		}
		return fmt.Errorf("postgres: %s: %s (SQLSTATE %s)", op, pe.Message, code)
	}
	// Network errors and a closed pool mean the database cannot be reached.
	// Their text names host and port only, never credentials.
	return fmt.Errorf("postgres: %s: %v: %w", op, err, ports.ErrUnavailable)
}
