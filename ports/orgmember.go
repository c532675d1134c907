package ports

import (
	"context"
	"time"
)

// OrgRole is a user's role in an org (HQ). Org roles are separate from
// shop roles: an org admin is not a member of the org's shops and reaches
// them only through HQ access (TEN-6), which is audited in each shop's log.
type OrgRole string

// The org roles. Both may use HQ access; only owners manage the org's
// admins.
const (
	OrgOwner OrgRole = "owner"
	OrgAdmin OrgRole = "admin"
)

// ValidateOrgRole returns ErrInvalid unless r is OrgOwner or OrgAdmin.
func ValidateOrgRole(r OrgRole) error {
	if r != OrgOwner && r != OrgAdmin {
		return Invalid("org_role", "must be owner or admin")
	}
	return nil
}

// OrgMember gives a user a role in an org. It is an org-level row.
type OrgMember struct {
	OrgID     OrgID
	UserID    UserID
	Role      OrgRole
	CreatedAt time.Time
}

// OrgMemberRepo keeps org memberships. It is part of the global unit of
// work: org rows are not tenant rows.
type OrgMemberRepo interface {
	// Add gives user role in org (CreatedAt stamped). ErrConflict if the
	// user already has a role there, ErrNotFound for an unknown org or
	// user, ErrInvalid for an unknown role.
	Add(ctx context.Context, org OrgID, user UserID, role OrgRole) (OrgMember, error)
	// Get returns the user's role in org or ErrNotFound.
	Get(ctx context.Context, org OrgID, user UserID) (OrgMember, error)
	// List returns the org's members ordered by creation.
	List(ctx context.Context, org OrgID) ([]OrgMember, error)
	// Remove ends the user's org role. ErrNotFound if there is none;
	// ErrConflict (wrapping ErrLastOwner) if it is the org's last owner.
	Remove(ctx context.Context, org OrgID, user UserID) error
}
