package access

import (
	"fmt"
	"slices"
	"sort"

	"github.com/stockadehq/stockade/ports"
)

// Permission is one thing a role may do in a shop, named "area.verb".
// Stockade's own are the constants below; an embedding app registers its
// own with NewPolicy.
type Permission string

// Stockade's permissions. The default matrix (README "Roles and
// permissions") grants them as DefaultGrants says.
const (
	ShopRead      Permission = "shop.read"      // see the shop's profile
	ShopSettings  Permission = "shop.settings"  // rename the shop
	MembersRead   Permission = "members.read"   // list members
	MembersManage Permission = "members.manage" // change a member's role, remove a member
	MembersOwners Permission = "members.owners" // make or unmake an Owner (with members.manage or members.invite)
	// MembersSessions ends another member's sessions.
	MembersSessions Permission = "members.sessions"
	InvitesManage   Permission = "invites.manage" // invite, list and revoke invitations
	FilesRead       Permission = "files.read"     // list files, get download links
	FilesUpload     Permission = "files.upload"   // upload and finalize
	FilesDelete     Permission = "files.delete"   // delete a file
	AuditRead       Permission = "audit.read"     // query and export the audit log
	JobsRead        Permission = "jobs.read"      // see the shop's background jobs
	JobsRetry       Permission = "jobs.retry"     // put a dead job back in the queue
	AccountSelf     Permission = "account.self"   // my own session, sessions and password
	// LinksManage mints, lists and revokes public capability links
	// (CAP-1). Minting a link to a record also needs the permission its
	// kind names (files.read for a file).
	LinksManage Permission = "links.manage"
	// MessagingSend enqueues SMS and e-mail to the shop's contacts (the
	// consent registry still decides whether each may go).
	MessagingSend Permission = "messaging.send"
	// MessagingRead lists contacts, their consent and the outbox.
	MessagingRead Permission = "messaging.read"
	// MessagingManage records consent changes for a contact (source
	// "admin"), edits the messaging settings and retries messages.
	MessagingManage Permission = "messaging.manage"
	// BillingRead sees the shop's plan, subscription, card brand and last
	// four digits, and Connect status (BIL).
	BillingRead Permission = "billing.read"
	// BillingManage starts a subscription, opens the billing portal,
	// changes the card and onboards the shop to Connect (BIL).
	BillingManage Permission = "billing.manage"
	// WebhooksManage lists, creates, disables and deletes the shop's
	// outbound webhook endpoints; creating one shows its signing secret
	// once.
	WebhooksManage Permission = "webhooks.manage"
	// ShopExport exports the whole shop as one verifiable archive (LIFE-1):
	// every tenant row, every file decrypted, the audit chain.
	ShopExport Permission = "shop.export"
)

// Grant gives a permission to roles.
type Grant struct {
	Permission Permission
	Roles      []ports.Role
}

var (
	all      = []ports.Role{ports.RoleOwner, ports.RoleAdmin, ports.RoleTech, ports.RoleSales, ports.RoleViewer}
	staff    = []ports.Role{ports.RoleOwner, ports.RoleAdmin, ports.RoleTech, ports.RoleSales}
	managers = []ports.Role{ports.RoleOwner, ports.RoleAdmin}
	owners   = []ports.Role{ports.RoleOwner}
)

// DefaultGrants is Stockade's permission matrix. Viewers only read;
// techs and sales staff also upload and send customers links; owners and
// admins manage the shop; only owners make owners.
func DefaultGrants() []Grant {
	return []Grant{
		{ShopRead, all},
		{ShopSettings, managers},
		{MembersRead, all},
		{MembersManage, managers},
		{MembersOwners, owners},
		{MembersSessions, managers},
		{InvitesManage, managers},
		{FilesRead, all},
		{FilesUpload, staff},
		{FilesDelete, managers},
		{AuditRead, managers},
		{JobsRead, managers},
		{JobsRetry, managers},
		{AccountSelf, all},
		{LinksManage, staff},
		{MessagingSend, staff},
		{MessagingRead, []ports.Role{ports.RoleOwner, ports.RoleAdmin, ports.RoleSales}},
		{MessagingManage, managers},
		{BillingRead, owners},
		{BillingManage, owners},
		{WebhooksManage, managers},
		{ShopExport, owners},
	}
}

// Policy is an immutable permission matrix: which role holds which
// permission. It is safe for concurrent use. The nil *Policy is the
// default matrix.
type Policy struct {
	grants map[Permission]map[ports.Role]bool
}

// DefaultPolicy returns the default matrix (DefaultGrants).
func DefaultPolicy() *Policy {
	p, err := ExactPolicy(DefaultGrants()...)
	if err != nil {
		panic(err) // the default grants are valid by construction; a test proves it
	}
	return p
}

// NewPolicy returns the default matrix extended by grants: an app's own
// permissions, or more roles for a Stockade permission. Grants only add.
// ErrInvalid for a malformed permission name or an unknown role.
func NewPolicy(grants ...Grant) (*Policy, error) {
	return ExactPolicy(append(DefaultGrants(), grants...)...)
}

// ExactPolicy returns a matrix of exactly grants: what is not granted is
// denied, and with no grants every permission is denied. For apps that
// define their own matrix (and for tests that prove every route consults
// the guard).
func ExactPolicy(grants ...Grant) (*Policy, error) {
	p := &Policy{grants: map[Permission]map[ports.Role]bool{}}
	for _, g := range grants {
		if err := validPermission(g.Permission); err != nil {
			return nil, err
		}
		roles := p.grants[g.Permission]
		if roles == nil {
			roles = map[ports.Role]bool{}
			p.grants[g.Permission] = roles
		}
		for _, r := range g.Roles {
			if err := ports.ValidateRole(r); err != nil {
				return nil, fmt.Errorf("grant %s: %w", g.Permission, err)
			}
			roles[r] = true
		}
	}
	return p, nil
}

// validPermission accepts "area.verb" names: 3 to 64 bytes of a-z, 0-9,
// '_', '-' and '.', with at least one inner dot.
func validPermission(p Permission) error {
	s := string(p)
	if len(s) < 3 || len(s) > 64 {
		return ports.Invalid("permission", "must be 3 to 64 bytes")
	}
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		case c == '.' && i > 0 && i < len(s)-1:
			dot = true
		default:
			return ports.Invalid("permission", fmt.Sprintf("%q must be lower-case area.verb", s))
		}
	}
	if !dot {
		return ports.Invalid("permission", fmt.Sprintf("%q must be area.verb", s))
	}
	return nil
}

func (p *Policy) matrix() map[Permission]map[ports.Role]bool {
	if p == nil {
		return DefaultPolicy().grants
	}
	return p.grants
}

// Allows reports whether role holds perm. Unknown permissions and roles
// are denied.
func (p *Policy) Allows(role ports.Role, perm Permission) bool {
	return p.matrix()[perm][role]
}

// Permissions lists every permission the policy knows, sorted.
func (p *Policy) Permissions() []Permission {
	m := p.matrix()
	out := make([]Permission, 0, len(m))
	for perm := range m {
		out = append(out, perm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Roles lists the roles holding perm, most privileged first.
func (p *Policy) Roles(perm Permission) []ports.Role {
	var out []ports.Role
	for _, r := range ports.DefaultRoles() {
		if p.matrix()[perm][r] {
			out = append(out, r)
		}
	}
	return slices.Clip(out)
}
