package ports

import (
	"context"
	"time"
)

// Membership joins a user to a shop with a role. It is a tenant row.
type Membership struct {
	ShopID    ShopID
	UserID    UserID
	Role      Role
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MembershipRepo keeps the memberships of the unit of work's shop. No method
// takes a shop ID: the shop is the transaction's.
type MembershipRepo interface {
	// Add makes user a member with role. ErrConflict if already a member,
	// ErrNotFound if the user does not exist, ErrInvalid for an unknown role.
	Add(ctx context.Context, user UserID, role Role) (Membership, error)
	// Get returns the user's membership in this shop or ErrNotFound.
	Get(ctx context.Context, user UserID) (Membership, error)
	// List returns the shop's memberships ordered by creation.
	List(ctx context.Context) ([]Membership, error)
	// SetRole changes a member's role. ErrNotFound if not a member,
	// ErrInvalid for an unknown role, ErrLastOwner if it would demote the
	// shop's last Owner (checked atomically: two concurrent demotions of
	// the last two owners cannot both succeed).
	SetRole(ctx context.Context, user UserID, role Role) (Membership, error)
	// Remove ends a membership, deleting the member's sessions and magic
	// links in this shop. ErrNotFound if not a member, ErrLastOwner if it
	// is the shop's last Owner (checked atomically, as SetRole).
	Remove(ctx context.Context, user UserID) error
}
