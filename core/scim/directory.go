package scim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// UserInput is a user resource as the identity provider sends it.
type UserInput struct {
	UserName    string // the e-mail address; required
	ExternalID  string
	GivenName   string
	FamilyName  string
	DisplayName string
	Active      bool
}

// User is a user resource with the groups it is in.
type User struct {
	ports.SCIMUser
	Groups []ports.SCIMGroup
}

// GroupInput is a group resource as the identity provider sends it.
type GroupInput struct {
	DisplayName string // required
	ExternalID  string
	Members     []ports.SCIMUserID
}

// Member is a group member as a group resource lists it.
type Member struct {
	ID       ports.SCIMUserID
	UserName string
}

// Group is a group resource with its members.
type Group struct {
	ports.SCIMGroup
	Members []Member
}

// GroupPatch is a change to a group: nil fields stay as they are. Add and
// Remove change the members; Replace, when set, replaces them first.
type GroupPatch struct {
	DisplayName *string
	ExternalID  *string
	Replace     *[]ports.SCIMUserID
	Add         []ports.SCIMUserID
	Remove      []ports.SCIMUserID
}

// MaxPage is the most resources one list answer holds.
const MaxPage = 200

// ErrUserNameChanged: a request tried to give a user another userName.
// The link to a platform user is by address and never moves: the org
// removes the user and provisions the new address instead. It matches
// ports.ErrInvalid.
var ErrUserNameChanged = ports.Invalid("userName", "cannot be changed; delete the user and provision the new address")

// platformName is the name a new platform user gets from in.
func platformName(in UserInput) string {
	if n := strings.TrimSpace(in.DisplayName); n != "" {
		return n
	}
	if n := strings.TrimSpace(in.GivenName + " " + in.FamilyName); n != "" {
		return n
	}
	local, _, _ := strings.Cut(ports.NormalizeEmail(in.UserName), "@")
	return local
}

// CreateUser provisions in for c's org: the platform user with the
// address when there is one — linked, gaining nothing but what the org's
// groups map — or a new platform user without a password and without a
// proven mailbox (AUTH-16: it signs in by a magic link, an invitation or
// single sign-on). ErrConflict when the org already has the address;
// ErrInvalid for a malformed one.
func (s *Service) CreateUser(ctx context.Context, c Caller, in UserInput) (User, error) {
	email := ports.NormalizeEmail(in.UserName)
	if err := ports.ValidateEmail(email); err != nil {
		return User{}, ports.Invalid("userName", "must be an e-mail address")
	}
	var out ports.SCIMUser
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		user, err := tx.Users().GetByEmail(ctx, email)
		if errors.Is(err, ports.ErrNotFound) {
			user, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: email, Name: platformName(in)})
		}
		if err != nil {
			return err
		}
		out, err = tx.SCIM().CreateUser(ctx, ports.SCIMUser{ID: ports.NewSCIMUserID(), OrgID: c.Org, UserID: user.ID, UserName: email,
			ExternalID: in.ExternalID, GivenName: in.GivenName, FamilyName: in.FamilyName, DisplayName: in.DisplayName, Active: in.Active})
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("scim: create user: %w", err)
	}
	return User{SCIMUser: out, Groups: []ports.SCIMGroup{}}, nil
}

// GetUser returns c's org's user id. ErrNotFound for another org's.
func (s *Service) GetUser(ctx context.Context, c Caller, id ports.SCIMUserID) (User, error) {
	var out User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = userOf(ctx, tx.SCIM(), c.Org, id)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return User{}, fmt.Errorf("scim: get user: %w", err)
	}
	return out, nil
}

func userOf(ctx context.Context, r ports.SCIMRepo, org ports.OrgID, id ports.SCIMUserID) (User, error) {
	u, err := r.GetUser(ctx, org, id)
	if err != nil {
		return User{}, err
	}
	groups, err := r.UserGroups(ctx, org, id)
	if err != nil {
		return User{}, err
	}
	return User{SCIMUser: u, Groups: groups}, nil
}

// ListUsers returns a page of c's org's users, with userName set only the
// one with that address, and how many match in all.
func (s *Service) ListUsers(ctx context.Context, c Caller, userName string, page ports.SCIMPage) ([]User, int, error) {
	page.Limit = min(max(page.Limit, 0), MaxPage)
	var out []User
	var total int
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		users, n, err := tx.SCIM().ListUsers(ctx, c.Org, userName, page)
		if err != nil {
			return err
		}
		total = n
		for _, u := range users {
			groups, err := tx.SCIM().UserGroups(ctx, c.Org, u.ID)
			if err != nil {
				return err
			}
			out = append(out, User{SCIMUser: u, Groups: groups})
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return nil, 0, fmt.Errorf("scim: list users: %w", err)
	}
	return out, total, nil
}

// ReplaceUser sets c's org's user id to in (userName must stay the same:
// ErrUserNameChanged) and brings its memberships in line: an inactive
// user is deprovisioned. ErrNotFound for another org's user.
func (s *Service) ReplaceUser(ctx context.Context, c Caller, id ports.SCIMUserID, in UserInput) (User, error) {
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.SCIM().GetUser(ctx, c.Org, id)
		if err != nil {
			return err
		}
		if in.UserName != "" && ports.NormalizeEmail(in.UserName) != u.UserName {
			return ErrUserNameChanged
		}
		u.ExternalID, u.GivenName, u.FamilyName, u.DisplayName, u.Active = in.ExternalID, in.GivenName, in.FamilyName, in.DisplayName, in.Active
		_, err = tx.SCIM().UpdateUser(ctx, u)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("scim: replace user: %w", err)
	}
	if err := s.reconcile(ctx, c.Org, id, false, c.scope); err != nil {
		return User{}, err
	}
	return s.GetUser(ctx, c, id)
}

// DeleteUser deprovisions c's org's user id — its memberships in the
// org's shops go, with its sessions there — and removes it from the
// directory. The platform user stays. ErrNotFound for another org's user.
func (s *Service) DeleteUser(ctx context.Context, c Caller, id ports.SCIMUserID) error {
	if err := s.reconcile(ctx, c.Org, id, true, c.scope); err != nil {
		return err
	}
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.SCIM().DeleteUser(ctx, c.Org, id)
	})
	if err != nil {
		return fmt.Errorf("scim: delete user: %w", err)
	}
	return nil
}

// CreateGroup creates a group of c's org with in's members, who get what
// the group is mapped to. ErrConflict for a displayName the org has;
// ErrNotFound for a member that is not the org's user.
func (s *Service) CreateGroup(ctx context.Context, c Caller, in GroupInput) (Group, error) {
	g := ports.SCIMGroup{ID: ports.NewSCIMGroupID(), OrgID: c.Org, DisplayName: in.DisplayName, ExternalID: in.ExternalID}
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if _, err := tx.SCIM().CreateGroup(ctx, g); err != nil {
			return err
		}
		for _, m := range in.Members {
			if err := tx.SCIM().AddMember(ctx, c.Org, g.ID, m); err != nil {
				return fmt.Errorf("member %s: %w", m, err)
			}
		}
		return nil
	})
	if err != nil {
		return Group{}, fmt.Errorf("scim: create group: %w", err)
	}
	if err := s.reconcileAll(ctx, c.Org, in.Members, c.scope); err != nil {
		return Group{}, err
	}
	return s.GetGroup(ctx, c, g.ID)
}

// GetGroup returns c's org's group id with its members. ErrNotFound for
// another org's.
func (s *Service) GetGroup(ctx context.Context, c Caller, id ports.SCIMGroupID) (Group, error) {
	var out Group
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		g, err := tx.SCIM().GetGroup(ctx, c.Org, id)
		if err != nil {
			return err
		}
		out, err = groupOf(ctx, tx.SCIM(), g)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return Group{}, fmt.Errorf("scim: get group: %w", err)
	}
	return out, nil
}

func groupOf(ctx context.Context, r ports.SCIMRepo, g ports.SCIMGroup) (Group, error) {
	ids, err := r.GroupMembers(ctx, g.OrgID, g.ID)
	if err != nil {
		return Group{}, err
	}
	out := Group{SCIMGroup: g, Members: make([]Member, 0, len(ids))}
	for _, id := range ids {
		u, err := r.GetUser(ctx, g.OrgID, id)
		if err != nil {
			return Group{}, err
		}
		out.Members = append(out.Members, Member{ID: id, UserName: u.UserName})
	}
	return out, nil
}

// ListGroups returns a page of c's org's groups, with displayName set
// only the one of that name, and how many match in all.
func (s *Service) ListGroups(ctx context.Context, c Caller, displayName string, page ports.SCIMPage) ([]Group, int, error) {
	page.Limit = min(max(page.Limit, 0), MaxPage)
	var out []Group
	var total int
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		groups, n, err := tx.SCIM().ListGroups(ctx, c.Org, displayName, page)
		if err != nil {
			return err
		}
		total = n
		for _, g := range groups {
			full, err := groupOf(ctx, tx.SCIM(), g)
			if err != nil {
				return err
			}
			out = append(out, full)
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return nil, 0, fmt.Errorf("scim: list groups: %w", err)
	}
	return out, total, nil
}

// ReplaceGroup sets c's org's group id to in, members included.
func (s *Service) ReplaceGroup(ctx context.Context, c Caller, id ports.SCIMGroupID, in GroupInput) (Group, error) {
	members := append([]ports.SCIMUserID{}, in.Members...)
	return s.PatchGroup(ctx, c, id, GroupPatch{DisplayName: &in.DisplayName, ExternalID: &in.ExternalID, Replace: &members})
}

// PatchGroup applies p to c's org's group id and brings the memberships
// of everyone who joined or left in line. ErrNotFound for another org's
// group, or a member that is not the org's user; nothing changes then.
func (s *Service) PatchGroup(ctx context.Context, c Caller, id ports.SCIMGroupID, p GroupPatch) (Group, error) {
	var touched []ports.SCIMUserID
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		r := tx.SCIM()
		g, err := r.GetGroup(ctx, c.Org, id)
		if err != nil {
			return err
		}
		if p.DisplayName != nil || p.ExternalID != nil {
			if p.DisplayName != nil {
				g.DisplayName = *p.DisplayName
			}
			if p.ExternalID != nil {
				g.ExternalID = *p.ExternalID
			}
			if _, err := r.UpdateGroup(ctx, g); err != nil {
				return err
			}
		}
		before, err := r.GroupMembers(ctx, c.Org, id)
		if err != nil {
			return err
		}
		if p.Replace != nil {
			for _, m := range before {
				if !slices.Contains(*p.Replace, m) {
					if err := r.RemoveMember(ctx, c.Org, id, m); err != nil {
						return err
					}
					touched = append(touched, m)
				}
			}
			for _, m := range *p.Replace {
				if err := r.AddMember(ctx, c.Org, id, m); err != nil {
					return fmt.Errorf("member %s: %w", m, err)
				}
				touched = append(touched, m)
			}
		}
		for _, m := range p.Add {
			if err := r.AddMember(ctx, c.Org, id, m); err != nil {
				return fmt.Errorf("member %s: %w", m, err)
			}
			touched = append(touched, m)
		}
		for _, m := range p.Remove {
			if _, err := r.GetUser(ctx, c.Org, m); err != nil {
				return fmt.Errorf("member %s: %w", m, err)
			}
			if err := r.RemoveMember(ctx, c.Org, id, m); err != nil {
				return err
			}
			touched = append(touched, m)
		}
		return nil
	})
	if err != nil {
		return Group{}, fmt.Errorf("scim: change group: %w", err)
	}
	if err := s.reconcileAll(ctx, c.Org, touched, c.scope); err != nil {
		return Group{}, err
	}
	return s.GetGroup(ctx, c, id)
}

// DeleteGroup removes c's org's group id with its mappings; its members
// lose what it gave them.
func (s *Service) DeleteGroup(ctx context.Context, c Caller, id ports.SCIMGroupID) error {
	var members []ports.SCIMUserID
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if members, err = tx.SCIM().GroupMembers(ctx, c.Org, id); err != nil {
			return err
		}
		return tx.SCIM().DeleteGroup(ctx, c.Org, id)
	})
	if err != nil {
		return fmt.Errorf("scim: delete group: %w", err)
	}
	return s.reconcileAll(ctx, c.Org, members, c.scope)
}

// reconcileAll reconciles each distinct user of ids.
func (s *Service) reconcileAll(ctx context.Context, org ports.OrgID, ids []ports.SCIMUserID, by actor) error {
	seen := map[ports.SCIMUserID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if err := s.reconcile(ctx, org, id, false, by); err != nil {
			return err
		}
	}
	return nil
}
