package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

func quoteLink(shop ports.ShopID) access.Capability {
	return access.Capability{
		ID: ports.NewCapabilityID(), Shop: shop, RecordType: "quote", RecordID: "Q-1",
		Actions: []string{"accept", "view"}, ExpiresAt: time.Now().Add(time.Hour),
	}
}

func TestRequireRefusesEveryCapabilityScope(t *testing.T) {
	shop := ports.NewShopID()
	c := quoteLink(shop)
	plain := access.CapabilityScope(c)
	withUser := plain
	withUser.User, withUser.Role = ports.NewUserID(), ports.RoleOwner
	withSystem := plain
	withSystem.System = "cli"
	p := access.DefaultPolicy()
	for name, sc := range map[string]access.Scope{"plain": plain, "with a user and role": withUser, "with a system name": withSystem} {
		for _, perm := range p.Permissions() {
			_, err := p.Require(access.With(context.Background(), sc), perm)
			require.ErrorIs(t, err, ports.ErrUnauthenticated, "%s capability scope, %s", name, perm)
		}
	}
	_, err := p.RequireAll(access.WithCapability(context.Background(), c), access.ShopRead)
	require.ErrorIs(t, err, ports.ErrUnauthenticated)
}

func TestRequireRecordAllowsExactlyTheRecordAndItsActions(t *testing.T) {
	shop := ports.NewShopID()
	c := quoteLink(shop)
	ctx := access.WithCapability(context.Background(), c)
	for _, action := range []string{"view", "accept"} {
		sc, err := access.RequireRecord(ctx, "quote", "Q-1", action)
		require.NoError(t, err, action)
		assert.Equal(t, shop, sc.Shop)
		assert.Equal(t, "capability:"+c.ID.String(), sc.Actor())
		assert.Equal(t, "capability", sc.Kind())
		assert.True(t, sc.User.IsZero())
		assert.Empty(t, sc.Role)
	}

	c.Actions[0] = "pay" // the scope holds a copy
	_, err := access.RequireRecord(ctx, "quote", "Q-1", "accept")
	require.NoError(t, err, "changing the caller's Capability after the fact changes nothing")
	_, err = access.RequireRecord(ctx, "quote", "Q-1", "pay")
	require.ErrorIs(t, err, access.ErrNoCapability)
}

func TestRequireRecordFailsClosed(t *testing.T) {
	shop, other := ports.NewShopID(), ports.NewShopID()
	good := quoteLink(shop)
	scope := func(edit func(*access.Scope)) context.Context {
		sc := access.CapabilityScope(good)
		edit(&sc)
		return access.With(context.Background(), sc)
	}
	valid := scope(func(*access.Scope) {})
	tests := []struct {
		name                   string
		ctx                    context.Context
		recordType, id, action string
	}{
		{"no scope", context.Background(), "quote", "Q-1", "view"},
		{"a member's scope", member(ports.RoleOwner), "quote", "Q-1", "view"},
		{"a system scope", access.System(context.Background(), shop, ports.OrgID{}, "cli"), "quote", "Q-1", "view"},
		{"another record of the type", valid, "quote", "Q-2", "view"},
		{"a record ID differing in case", valid, "quote", "q-1", "view"},
		{"a record ID with a suffix", valid, "quote", "Q-1 ", "view"},
		{"a prefix of the record ID", valid, "quote", "Q-", "view"},
		{"the same ID of another type", valid, "invoice", "Q-1", "view"},
		{"another action", valid, "quote", "Q-1", "pay"},
		{"an action differing in case", valid, "quote", "Q-1", "View"},
		{"no action", valid, "quote", "Q-1", ""},
		{"no record type", valid, "", "Q-1", "view"},
		{"no record id", valid, "quote", "", "view"},
		{"the scope moved to another shop", scope(func(sc *access.Scope) { sc.Shop = other }), "quote", "Q-1", "view"},
		{"a scope without shop", scope(func(sc *access.Scope) { sc.Shop = ports.ShopID{} }), "quote", "Q-1", "view"},
		{"a capability without ID", scope(func(sc *access.Scope) { c := *sc.Capability; c.ID = ports.CapabilityID{}; sc.Capability = &c }), "quote", "Q-1", "view"},
		{"mixed with a user", scope(func(sc *access.Scope) { sc.User = ports.NewUserID() }), "quote", "Q-1", "view"},
		{"mixed with a role", scope(func(sc *access.Scope) { sc.Role = ports.RoleOwner }), "quote", "Q-1", "view"},
		{"mixed with a system name", scope(func(sc *access.Scope) { sc.System = "cli" }), "quote", "Q-1", "view"},
		{"mixed with an impersonator", scope(func(sc *access.Scope) { sc.Impersonator = "operator:x" }), "quote", "Q-1", "view"},
		{"mixed with HQ", scope(func(sc *access.Scope) { sc.HQ = true }), "quote", "Q-1", "view"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := access.RequireRecord(tt.ctx, tt.recordType, tt.id, tt.action)
			require.ErrorIs(t, err, ports.ErrNotFound)
			require.Equal(t, access.ErrNoCapability, err, "one answer for every refusal")
			require.Equal(t, access.Scope{}, sc)
		})
	}
}
