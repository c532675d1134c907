package access

import "github.com/stockadehq/stockade/ports"

// OrgPermission is something an org (HQ) role may do across the org's
// shops. Org roles are checked by core/tenancy against the org membership
// it reads in the same request; they never grant shop permissions except
// through HQ access.
type OrgPermission string

// The org permissions.
const (
	// OrgHQAccess reaches a child shop's data as HQRole (TEN-6).
	OrgHQAccess OrgPermission = "org.hq_access"
	// OrgShopsManage adds shops to the org and suspends or reactivates
	// them.
	OrgShopsManage OrgPermission = "org.shops_manage"
	// OrgMembersManage adds and removes org admins and owners.
	OrgMembersManage OrgPermission = "org.members_manage"
	// OrgSSOManage configures the org's single sign-on connection and
	// its verified e-mail domains (AUTH-14).
	OrgSSOManage OrgPermission = "org.sso_manage"
)

// HQRole is the shop role an org admin acts with in a child shop reached
// through HQ access: an Admin, never an Owner (owner-only acts such as
// making owners stay with the shop's owners).
const HQRole = ports.RoleAdmin

// OrgAllows reports whether an org role holds perm: owners hold all of
// them, admins all but OrgMembersManage and OrgSSOManage.
func OrgAllows(role ports.OrgRole, perm OrgPermission) bool {
	switch role {
	case ports.OrgOwner:
		return perm == OrgHQAccess || perm == OrgShopsManage || perm == OrgMembersManage || perm == OrgSSOManage
	case ports.OrgAdmin:
		return perm == OrgHQAccess || perm == OrgShopsManage
	}
	return false
}
