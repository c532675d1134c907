package ports

import (
	"errors"
	"fmt"
)

// Sentinel errors cross every port boundary. Adapters map their driver's or
// library's errors to one of these and wrap it with %w; callers match with
// errors.Is. A driver error never crosses a port unwrapped. The HTTP layer
// maps each sentinel to one status code in one table.
var (
	// ErrNotFound: the addressed record does not exist, or exists in a shop
	// the caller cannot see (the two are deliberately indistinguishable).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness or state rule refused the write (duplicate
	// ID, e-mail or slug; the record changed underneath).
	ErrConflict = errors.New("conflict")
	// ErrForbidden: the caller is known but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: no valid credential was presented.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrInvalid: the input is malformed; nothing was written.
	ErrInvalid = errors.New("invalid input")
	// ErrRateLimited: too many attempts; retry later.
	ErrRateLimited = errors.New("rate limited")
	// ErrOptedOut: the contact has withdrawn consent for this channel.
	ErrOptedOut = errors.New("opted out")
	// ErrUnavailable: a dependency (database, object store, provider) cannot
	// be reached or is not ready; the operation may succeed later.
	ErrUnavailable = errors.New("unavailable")
	// ErrKeyRevoked: the shop's key-encryption key is held by a key
	// management service that refuses to use it — the key was disabled,
	// scheduled for deletion or deleted there, or the grant or policy that
	// let Stockade use it was revoked (BYOK, STO-4). The data is intact
	// but unreadable until the key's owner restores access; it is never
	// reported as ErrInvalid (corruption) or ErrNotFound (destroyed by
	// Stockade). The HTTP layer answers 409.
	ErrKeyRevoked = errors.New("the shop's encryption key was revoked at its key management service")
	// ErrUnsupported: the adapter does not offer this operation. Conformance
	// suites check for exactly this error instead of skipping silently.
	ErrUnsupported = errors.New("unsupported")
	// ErrNestedUnitOfWork: a unit of work was opened with a context that is
	// already inside one. Nesting would deadlock single-writer stores and
	// would silently split one logical change over two transactions, so
	// every Store refuses it.
	ErrNestedUnitOfWork = errors.New("nested unit of work")
	// ErrSchemaTooNew: the database schema is newer than this build knows;
	// running against it could corrupt data written by the newer version.
	ErrSchemaTooNew = errors.New("database schema is newer than this build")
	// ErrSchemaBehind: the database schema has migrations pending.
	ErrSchemaBehind = errors.New("database schema has pending migrations")
)

// InvalidError names the input field that was refused and why. It matches
// ErrInvalid with errors.Is.
type InvalidError struct {
	Field  string
	Reason string
}

// Invalid returns an *InvalidError for field.
func Invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.Field, e.Reason)
}

// Is reports whether target is ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// ErrLastOwner: the change would leave a shop (or an org) without an
// Owner (TEN-5). It matches ErrConflict with errors.Is.
var ErrLastOwner = fmt.Errorf("%w: at least one owner must remain", ErrConflict)
