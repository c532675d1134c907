package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

func member(role ports.Role) context.Context {
	return access.With(context.Background(), access.Scope{Shop: ports.NewShopID(), User: ports.NewUserID(), Role: role})
}

func TestRequireFailsClosed(t *testing.T) {
	p := access.DefaultPolicy()
	tests := []struct {
		name string
		give context.Context
		perm access.Permission
		want error
	}{
		{"no scope", context.Background(), access.FilesRead, ports.ErrUnauthenticated},
		{"scope without shop", access.With(context.Background(), access.Scope{User: ports.NewUserID(), Role: ports.RoleOwner}), access.FilesRead, ports.ErrUnauthenticated},
		{"scope without user or system", access.With(context.Background(), access.Scope{Shop: ports.NewShopID(), Role: ports.RoleOwner}), access.FilesRead, ports.ErrUnauthenticated},
		{"unknown permission, owner", member(ports.RoleOwner), access.Permission("quotes.send"), ports.ErrForbidden},
		{"unknown role", member(ports.Role("root")), access.FilesRead, ports.ErrForbidden},
		{"viewer deletes", member(ports.RoleViewer), access.FilesDelete, ports.ErrForbidden},
		{"admin makes owners", member(ports.RoleAdmin), access.MembersOwners, ports.ErrForbidden},
		{"system scope, unknown permission", access.System(context.Background(), ports.NewShopID(), ports.OrgID{}, "cli"), access.Permission("quotes.send"), ports.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Require(tt.give, tt.perm)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestRequireReturnsTheScope(t *testing.T) {
	ctx := member(ports.RoleTech)
	sc, err := access.DefaultPolicy().Require(ctx, access.FilesUpload)
	require.NoError(t, err)
	want, _ := access.From(ctx)
	require.Equal(t, want, sc)
	_, err = (*access.Policy)(nil).Require(ctx, access.FilesUpload)
	require.NoError(t, err, "the nil policy is the default matrix")
}

func TestNewPolicyRegistersAppPermissions(t *testing.T) {
	const send access.Permission = "quotes.send"
	p, err := access.NewPolicy(access.Grant{Permission: send, Roles: []ports.Role{ports.RoleOwner, ports.RoleSales}})
	require.NoError(t, err)
	require.True(t, p.Allows(ports.RoleSales, send))
	require.False(t, p.Allows(ports.RoleTech, send))
	require.True(t, p.Allows(ports.RoleOwner, access.FilesDelete), "defaults kept")
	_, err = p.Require(member(ports.RoleTech), send)
	require.ErrorIs(t, err, ports.ErrForbidden)

	for _, bad := range []access.Grant{
		{Permission: "Quotes.Send", Roles: []ports.Role{ports.RoleOwner}},
		{Permission: "quotes", Roles: []ports.Role{ports.RoleOwner}},
		{Permission: ".send", Roles: []ports.Role{ports.RoleOwner}},
		{Permission: "quotes.send", Roles: []ports.Role{"root"}},
	} {
		_, err := access.NewPolicy(bad)
		require.ErrorIs(t, err, ports.ErrInvalid, "%+v", bad)
	}
}

func TestExactPolicyWithNoGrantsDeniesEverything(t *testing.T) {
	p, err := access.ExactPolicy()
	require.NoError(t, err)
	for _, perm := range access.DefaultPolicy().Permissions() {
		for _, r := range ports.DefaultRoles() {
			_, err := p.Require(member(r), perm)
			require.True(t, errors.Is(err, ports.ErrForbidden), "%s %s: %v", r, perm, err)
		}
	}
}

func TestOrgAllows(t *testing.T) {
	require.True(t, access.OrgAllows(ports.OrgOwner, access.OrgMembersManage))
	require.False(t, access.OrgAllows(ports.OrgAdmin, access.OrgMembersManage))
	require.True(t, access.OrgAllows(ports.OrgAdmin, access.OrgHQAccess))
	require.False(t, access.OrgAllows(ports.OrgRole("guest"), access.OrgHQAccess))
}
