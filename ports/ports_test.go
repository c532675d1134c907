package ports_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func TestParseShopID(t *testing.T) {
	id := ports.NewShopID()
	got, err := ports.ParseShopID(id.String())
	require.NoError(t, err)
	assert.Equal(t, id, got)
	for _, give := range []string{"", "nope", "00000000-0000-0000-0000-000000000000", "{" + id.String() + "}", "urn:uuid:" + id.String(), strings.ToUpper(id.String()) + "x"} {
		_, err := ports.ParseShopID(give)
		assert.ErrorIs(t, err, ports.ErrInvalid, give)
	}
}

func TestNewIDsAreVersion7AndDistinct(t *testing.T) {
	a, b := ports.NewShopID(), ports.NewShopID()
	assert.NotEqual(t, a, b)
	assert.Equal(t, 7, int(a.Version()))
	assert.False(t, a.IsZero())
	assert.True(t, ports.ShopID{}.IsZero())
}

func TestValidateSlug(t *testing.T) {
	tests := []struct {
		give string
		ok   bool
	}{
		{"bobs-plumbing", true}, {"abc", true}, {"a1-b2", true}, {strings.Repeat("a", 63), true},
		{"ab", false}, {strings.Repeat("a", 64), false}, {"-abc", false}, {"abc-", false},
		{"ABC", false}, {"a.b.c", false}, {"a_bc", false}, {"xn--bcher", true}, {"bü-cher", false},
	}
	for _, tt := range tests {
		err := ports.ValidateSlug(tt.give)
		if tt.ok {
			assert.NoError(t, err, tt.give)
		} else {
			assert.ErrorIs(t, err, ports.ErrInvalid, tt.give)
		}
	}
}

func TestInvalidErrorMatchesErrInvalidOnly(t *testing.T) {
	err := ports.Invalid("email", "bad")
	var ie *ports.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "email", ie.Field)
	assert.ErrorIs(t, err, ports.ErrInvalid)
	assert.False(t, errors.Is(err, ports.ErrNotFound))
}

func TestEnterUnitOfWorkRefusesNesting(t *testing.T) {
	ctx, err := ports.EnterUnitOfWork(context.Background())
	require.NoError(t, err)
	assert.True(t, ports.InUnitOfWork(ctx))
	_, err = ports.EnterUnitOfWork(ctx)
	assert.ErrorIs(t, err, ports.ErrNestedUnitOfWork)
}

func TestRoles(t *testing.T) {
	for _, r := range ports.DefaultRoles() {
		assert.NoError(t, ports.ValidateRole(r))
	}
	assert.Len(t, ports.DefaultRoles(), 5)
	assert.ErrorIs(t, ports.ValidateRole("root"), ports.ErrInvalid)
}

func TestAuditQueryPageLimit(t *testing.T) {
	tests := []struct{ give, want int }{{0, 100}, {-5, 100}, {1, 1}, {1000, 1000}, {1001, 1000}}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ports.AuditQuery{Limit: tt.give}.PageLimit(), tt.give)
	}
}

func TestDirectoryQueryPageLimit(t *testing.T) {
	tests := []struct{ give, want int }{{0, 100}, {-5, 100}, {1, 1}, {1000, 1000}, {1001, 1000}}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ports.OrgQuery{Limit: tt.give}.PageLimit(), tt.give)
		assert.Equal(t, tt.want, ports.ShopQuery{Limit: tt.give}.PageLimit(), tt.give)
		assert.Equal(t, tt.want, ports.UserQuery{Limit: tt.give}.PageLimit(), tt.give)
	}
}
