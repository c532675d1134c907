package ports

import (
	"fmt"

	"github.com/google/uuid"
)

// The identifier types are distinct so that a user ID can never be passed
// where a shop ID is expected. Each wraps a UUID (version 7 for new IDs, so
// they sort by creation time and index well) and inherits its text, JSON and
// database encodings. The zero value is the nil UUID and means "no ID".

// ShopID identifies a shop, the tenant.
type ShopID struct{ uuid.UUID }

// OrgID identifies an org (HQ), which owns one or more shops.
type OrgID struct{ uuid.UUID }

// UserID identifies a global user account.
type UserID struct{ uuid.UUID }

// EventID identifies an audit event.
type EventID struct{ uuid.UUID }

// SessionID identifies a session. It is not a secret: a session is
// presented with its ID and a separate random token (see Session).
type SessionID struct{ uuid.UUID }

// FileID identifies a stored file's metadata row (and names its object).
type FileID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id FileID) IsZero() bool { return id.UUID == uuid.Nil }

// NewFileID returns a fresh UUIDv7 file ID.
func NewFileID() FileID { return FileID{newUUID()} }

// ParseFileID parses the canonical text form of a file ID (see
// ParseShopID).
func ParseFileID(s string) (FileID, error) {
	u, err := parseUUID("file id", s)
	return FileID{u}, err
}

// IsZero reports whether id is the nil UUID.
func (id ShopID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id OrgID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id UserID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id EventID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id SessionID) IsZero() bool { return id.UUID == uuid.Nil }

// NewSessionID returns a fresh UUIDv7 session ID.
func NewSessionID() SessionID { return SessionID{newUUID()} }

// ParseSessionID parses the canonical text form of a session ID (see
// ParseShopID).
func ParseSessionID(s string) (SessionID, error) {
	u, err := parseUUID("session id", s)
	return SessionID{u}, err
}

// NewShopID returns a fresh UUIDv7 shop ID.
func NewShopID() ShopID { return ShopID{newUUID()} }

// NewOrgID returns a fresh UUIDv7 org ID.
func NewOrgID() OrgID { return OrgID{newUUID()} }

// NewUserID returns a fresh UUIDv7 user ID.
func NewUserID() UserID { return UserID{newUUID()} }

// NewEventID returns a fresh UUIDv7 event ID.
func NewEventID() EventID { return EventID{newUUID()} }

// ParseShopID parses the canonical text form of a shop ID. It returns an
// error matching ErrInvalid for anything else, including the nil UUID.
func ParseShopID(s string) (ShopID, error) {
	u, err := parseUUID("shop id", s)
	return ShopID{u}, err
}

// ParseOrgID parses the canonical text form of an org ID (see ParseShopID).
func ParseOrgID(s string) (OrgID, error) {
	u, err := parseUUID("org id", s)
	return OrgID{u}, err
}

// ParseUserID parses the canonical text form of a user ID (see ParseShopID).
func ParseUserID(s string) (UserID, error) {
	u, err := parseUUID("user id", s)
	return UserID{u}, err
}

// newUUID returns a UUIDv7 drawn from crypto/rand. Since Go 1.24
// crypto/rand.Read never returns an error (it aborts the program instead), so
// uuid.NewV7 cannot fail and Must never panics in practice.
func newUUID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func parseUUID(field, s string) (uuid.UUID, error) {
	if len(s) != 36 {
		return uuid.Nil, Invalid(field, "must be a UUID in its 36-character form")
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, Invalid(field, fmt.Sprintf("not a UUID: %v", err))
	}
	if u == uuid.Nil {
		return uuid.Nil, Invalid(field, "must not be the nil UUID")
	}
	return u, nil
}

// InvitationID identifies an invitation to join a shop (TEN-9).
type InvitationID struct{ uuid.UUID }

// JobID identifies a background job (TEN-8).
type JobID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id InvitationID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id JobID) IsZero() bool { return id.UUID == uuid.Nil }

// NewInvitationID returns a fresh UUIDv7 invitation ID.
func NewInvitationID() InvitationID { return InvitationID{newUUID()} }

// NewJobID returns a fresh UUIDv7 job ID.
func NewJobID() JobID { return JobID{newUUID()} }

// ParseInvitationID parses the canonical text form of an invitation ID
// (see ParseShopID).
func ParseInvitationID(s string) (InvitationID, error) {
	u, err := parseUUID("invitation id", s)
	return InvitationID{u}, err
}

// ParseJobID parses the canonical text form of a job ID (see ParseShopID).
func ParseJobID(s string) (JobID, error) {
	u, err := parseUUID("job id", s)
	return JobID{u}, err
}
