package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stockadehq/stockade/ports"
)

// Time scans a stored time in either encoding: timestamptz (time.Time,
// Postgres) or Unix microseconds (int64, SQLite). NULL scans as the zero
// time, which the ports read as "not set". The result is always UTC.
type Time struct{ time.Time }

// Scan implements sql.Scanner.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = v.UTC()
	case int64:
		t.Time = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as a time", src)
	}
	return nil
}

// nullTime is t for a nullable time column: NULL when t is zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ports.Timestamp(t)
}

// cloneBytes copies b so a caller's later change to its slice cannot
// reach what was stored or returned.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// optionalUser is NULL for the zero user ID.
func optionalUser(id ports.UserID) *ports.UserID {
	if id.IsZero() {
		return nil
	}
	return &id
}

// orNull is NULL for the empty string.
func orNull(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// FailureReason makes s storable as a job's, message's or mail's failure
// reason: valid UTF-8 without NUL (which text columns refuse), at most
// 1,000 bytes, cut at a rune boundary.
func FailureReason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= 1000 {
		return s
	}
	cut := 1000
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// CheckClaim validates a claim's batch size and lease: 1 to 1,000 rows, a
// lease of at least a microsecond and at most ports.MaxLease.
func CheckClaim(limit int, lease time.Duration) error {
	if limit < 1 || limit > 1000 {
		return ports.Invalid("limit", "must be 1 to 1000")
	}
	if lease < time.Microsecond || lease > ports.MaxLease {
		return ports.Invalid("lease", "must be positive and at most 24h")
	}
	return nil
}
