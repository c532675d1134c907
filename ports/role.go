package ports

// Role is a member's role in one shop. Roles are data: the five defaults
// below are rows the stores seed, and a membership refers to one by name.
// What each role may do is the permission matrix of core/access.
type Role string

// The default roles, from most to least privileged.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleTech   Role = "tech"
	RoleSales  Role = "sales"
	RoleViewer Role = "viewer"
)

// DefaultRoles lists the seeded roles, most privileged first.
func DefaultRoles() []Role {
	return []Role{RoleOwner, RoleAdmin, RoleTech, RoleSales, RoleViewer}
}

// Valid reports whether r is one of the default roles.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleTech, RoleSales, RoleViewer:
		return true
	}
	return false
}

// ValidateRole returns an error matching ErrInvalid unless r is Valid.
func ValidateRole(r Role) error {
	if !r.Valid() {
		return Invalid("role", "must be one of owner, admin, tech, sales, viewer")
	}
	return nil
}
