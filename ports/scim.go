package ports

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// SCIMTokenID identifies an org's SCIM bearer token (not the secret: the
// token itself is shown once and kept only as its SHA-256).
type SCIMTokenID struct{ uuid.UUID }

// SCIMUserID is the id of a user resource in an org's SCIM directory
// (RFC 7643 "id"); it is not the platform user's ID.
type SCIMUserID struct{ uuid.UUID }

// SCIMGroupID is the id of a group resource in an org's SCIM directory.
type SCIMGroupID struct{ uuid.UUID }

// SCIMMappingID identifies an org owner's mapping of a SCIM group to a
// (shop, role).
type SCIMMappingID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id SCIMTokenID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id SCIMUserID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id SCIMGroupID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id SCIMMappingID) IsZero() bool { return id.UUID == uuid.Nil }

// NewSCIMTokenID returns a fresh UUIDv7 token ID.
func NewSCIMTokenID() SCIMTokenID { return SCIMTokenID{newUUID()} }

// NewSCIMUserID returns a fresh UUIDv7 SCIM user ID.
func NewSCIMUserID() SCIMUserID { return SCIMUserID{newUUID()} }

// NewSCIMGroupID returns a fresh UUIDv7 SCIM group ID.
func NewSCIMGroupID() SCIMGroupID { return SCIMGroupID{newUUID()} }

// NewSCIMMappingID returns a fresh UUIDv7 mapping ID.
func NewSCIMMappingID() SCIMMappingID { return SCIMMappingID{newUUID()} }

// ParseSCIMTokenID parses the canonical text form of a token ID.
func ParseSCIMTokenID(s string) (SCIMTokenID, error) {
	u, err := parseUUID("scim token id", s)
	return SCIMTokenID{u}, err
}

// ParseSCIMUserID parses the canonical text form of a SCIM user ID.
func ParseSCIMUserID(s string) (SCIMUserID, error) {
	u, err := parseUUID("scim user id", s)
	return SCIMUserID{u}, err
}

// ParseSCIMGroupID parses the canonical text form of a SCIM group ID.
func ParseSCIMGroupID(s string) (SCIMGroupID, error) {
	u, err := parseUUID("scim group id", s)
	return SCIMGroupID{u}, err
}

// ParseSCIMMappingID parses the canonical text form of a mapping ID.
func ParseSCIMMappingID(s string) (SCIMMappingID, error) {
	u, err := parseUUID("scim mapping id", s)
	return SCIMMappingID{u}, err
}

// SCIMToken is an org's SCIM bearer token (AUTH-14). The token alone
// identifies the org; only its SHA-256 is stored.
type SCIMToken struct {
	ID        SCIMTokenID
	OrgID     OrgID
	TokenHash []byte // TokenHashSize bytes
	CreatedBy UserID // zero when an operator (CLI) created it
	CreatedAt time.Time
	RevokedAt time.Time // zero while the token is valid
}

// SCIMUser is a user resource of an org's SCIM directory: the link from
// the org's identity provider to a platform user, found by e-mail
// (UserName). It grants nothing by itself: memberships come from the
// groups it is in (SCIMMapping) while it is Active.
type SCIMUser struct {
	ID         SCIMUserID
	OrgID      OrgID
	UserID     UserID // the platform user
	UserName   string // the normalised e-mail address
	ExternalID string
	GivenName  string
	FamilyName string
	// DisplayName is the SCIM displayName.
	DisplayName string
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Validate checks a SCIM user before it is stored.
func (u SCIMUser) Validate() error {
	switch {
	case u.ID.IsZero():
		return Invalid("id", "must be set")
	case u.OrgID.IsZero():
		return Invalid("org_id", "must be set")
	case u.UserID.IsZero():
		return Invalid("user_id", "must be set")
	}
	if err := ValidateEmail(u.UserName); err != nil {
		return Invalid("userName", "must be an e-mail address")
	}
	for field, v := range map[string]string{"externalId": u.ExternalID, "name.givenName": u.GivenName, "name.familyName": u.FamilyName, "displayName": u.DisplayName} {
		if len(v) > 256 {
			return Invalid(field, "must be at most 256 bytes")
		}
	}
	return nil
}

// SCIMGroup is a group resource of an org's SCIM directory.
type SCIMGroup struct {
	ID          SCIMGroupID
	OrgID       OrgID
	DisplayName string
	ExternalID  string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Validate checks a SCIM group before it is stored.
func (g SCIMGroup) Validate() error {
	switch {
	case g.ID.IsZero():
		return Invalid("id", "must be set")
	case g.OrgID.IsZero():
		return Invalid("org_id", "must be set")
	case g.DisplayName == "" || len(g.DisplayName) > 256:
		return Invalid("displayName", "must be 1 to 256 bytes")
	case len(g.ExternalID) > 256:
		return Invalid("externalId", "must be at most 256 bytes")
	}
	return nil
}

// SCIMMapping gives the active members of a SCIM group a membership with
// Role in ShopID, a shop of the org.
type SCIMMapping struct {
	ID        SCIMMappingID
	OrgID     OrgID
	GroupID   SCIMGroupID
	ShopID    ShopID
	Role      Role
	CreatedAt time.Time
}

// SCIMGrant records a membership SCIM made: the SCIM user was given Role
// in ShopID. Only memberships SCIM granted are changed or removed when
// groups change; deprovisioning removes every membership in the org's
// shops.
type SCIMGrant struct {
	OrgID  OrgID
	User   SCIMUserID
	ShopID ShopID
	Role   Role
}

// SCIMPage asks for one page of a list: Offset rows skipped (SCIM's
// startIndex minus one), at most Limit returned.
type SCIMPage struct {
	Offset, Limit int
}

// SCIMRepo keeps the orgs' SCIM directories (AUTH-14). It is part of the
// global unit of work. Every method takes the org and reads or writes
// only that org's rows: an id of another org matches nothing
// (ErrNotFound), and nothing of one org is reachable through another.
type SCIMRepo interface {
	// CreateToken stores tok (CreatedAt stamped, RevokedAt ignored).
	// ErrInvalid for a missing ID or org or a hash of the wrong size;
	// ErrConflict for a taken ID or hash; ErrNotFound for an unknown org
	// or a CreatedBy that is set and not a user.
	CreateToken(ctx context.Context, tok SCIMToken) (SCIMToken, error)
	// TokenByHash returns the unrevoked token with hash, of whatever org,
	// or ErrNotFound. It is how a request's bearer token finds its org.
	TokenByHash(ctx context.Context, hash []byte) (SCIMToken, error)
	// ListTokens returns org's tokens, revoked ones too, newest first.
	ListTokens(ctx context.Context, org OrgID) ([]SCIMToken, error)
	// RevokeToken marks org's unrevoked token id revoked at now.
	// ErrNotFound if org has no such unrevoked token.
	RevokeToken(ctx context.Context, org OrgID, id SCIMTokenID, now time.Time) (SCIMToken, error)

	// CreateUser stores u (UserName normalised, times stamped). ErrInvalid
	// (see SCIMUser.Validate); ErrConflict when org already has the ID,
	// the UserName or the platform user; ErrNotFound for an unknown org
	// or platform user.
	CreateUser(ctx context.Context, u SCIMUser) (SCIMUser, error)
	// GetUser returns org's user id, or ErrNotFound.
	GetUser(ctx context.Context, org OrgID, id SCIMUserID) (SCIMUser, error)
	// ListUsers returns org's users ordered by creation, the page asked
	// for, and how many there are in all; with userName set only the one
	// whose UserName equals it once normalised.
	ListUsers(ctx context.Context, org OrgID, userName string, page SCIMPage) ([]SCIMUser, int, error)
	// UpdateUser replaces the stored fields of org's user u.ID other than
	// the platform user, UserName and CreatedAt (UpdatedAt stamped) and
	// returns it. ErrNotFound if org has no such user.
	UpdateUser(ctx context.Context, u SCIMUser) (SCIMUser, error)
	// DeleteUser removes org's user id with its group memberships and
	// grants. ErrNotFound if org has no such user.
	DeleteUser(ctx context.Context, org OrgID, id SCIMUserID) error

	// CreateGroup stores g (times stamped). ErrInvalid (see
	// SCIMGroup.Validate); ErrConflict when org already has the ID or the
	// DisplayName; ErrNotFound for an unknown org.
	CreateGroup(ctx context.Context, g SCIMGroup) (SCIMGroup, error)
	// GetGroup returns org's group id, or ErrNotFound.
	GetGroup(ctx context.Context, org OrgID, id SCIMGroupID) (SCIMGroup, error)
	// ListGroups returns org's groups ordered by creation, the page asked
	// for, and how many there are in all; with displayName set only the
	// one with exactly that DisplayName.
	ListGroups(ctx context.Context, org OrgID, displayName string, page SCIMPage) ([]SCIMGroup, int, error)
	// UpdateGroup replaces DisplayName and ExternalID of org's group g.ID
	// (UpdatedAt stamped). ErrNotFound if org has no such group;
	// ErrConflict for a DisplayName another group of org has.
	UpdateGroup(ctx context.Context, g SCIMGroup) (SCIMGroup, error)
	// DeleteGroup removes org's group id with its members and mappings.
	// ErrNotFound if org has no such group.
	DeleteGroup(ctx context.Context, org OrgID, id SCIMGroupID) error
	// GroupMembers lists the users of org's group id, in ID order.
	GroupMembers(ctx context.Context, org OrgID, id SCIMGroupID) ([]SCIMUserID, error)
	// UserGroups lists org's groups the user is in, in ID order.
	UserGroups(ctx context.Context, org OrgID, user SCIMUserID) ([]SCIMGroup, error)
	// AddMember puts org's user in org's group (nothing if it is there).
	// ErrNotFound if either is not org's.
	AddMember(ctx context.Context, org OrgID, group SCIMGroupID, user SCIMUserID) error
	// RemoveMember takes user out of org's group; nothing if it was not in
	// it.
	RemoveMember(ctx context.Context, org OrgID, group SCIMGroupID, user SCIMUserID) error

	// CreateMapping stores m (CreatedAt stamped). ErrInvalid for an
	// invalid role; ErrNotFound when the group is not org's or the shop
	// is not a shop of org; ErrConflict when the group is already mapped
	// to the shop.
	CreateMapping(ctx context.Context, m SCIMMapping) (SCIMMapping, error)
	// ListMappings returns org's mappings, oldest first.
	ListMappings(ctx context.Context, org OrgID) ([]SCIMMapping, error)
	// DeleteMapping removes org's mapping id. ErrNotFound if org has none.
	DeleteMapping(ctx context.Context, org OrgID, id SCIMMappingID) (SCIMMapping, error)

	// Grants lists the memberships SCIM granted org's user, by shop ID.
	Grants(ctx context.Context, org OrgID, user SCIMUserID) ([]SCIMGrant, error)
	// SetGrant records (or changes the role of) a membership SCIM
	// granted. ErrNotFound when the user is not org's or the shop is not
	// a shop of org.
	SetGrant(ctx context.Context, g SCIMGrant) error
	// DeleteGrant forgets the grant of org's user in shop; nothing if
	// there is none.
	DeleteGrant(ctx context.Context, org OrgID, user SCIMUserID, shop ShopID) error
}
