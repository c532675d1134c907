package scim_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/scim"
	"github.com/stockadehq/stockade/ports"
)

// untouchable is a store that fails the test if anything reaches it.
type untouchable struct{ t *testing.T }

func (s untouchable) InShop(context.Context, ports.ShopID, func(context.Context, ports.ShopTx) error, ...ports.TxOption) error {
	s.t.Error("InShop reached")
	return ports.ErrUnavailable
}

func (s untouchable) Global(context.Context, func(context.Context, ports.GlobalTx) error, ...ports.TxOption) error {
	s.t.Error("Global reached")
	return ports.ErrUnavailable
}
func (untouchable) Ping(context.Context) error { return nil }
func (untouchable) Close() error               { return nil }

// TestManagementFailsClosedWithoutAScope: every org owner's use case
// refuses a context without a scope with ErrUnauthenticated before it
// touches the store.
func TestManagementFailsClosedWithoutAScope(t *testing.T) {
	svc, err := scim.New(scim.Deps{Store: untouchable{t}})
	require.NoError(t, err)
	ctx := context.Background()
	calls := map[string]func() error{
		"CreateToken":  func() error { _, _, err := svc.CreateToken(ctx); return err },
		"ListTokens":   func() error { _, err := svc.ListTokens(ctx); return err },
		"RevokeToken":  func() error { return svc.RevokeToken(ctx, ports.NewSCIMTokenID()) },
		"ListMappings": func() error { _, err := svc.ListMappings(ctx); return err },
		"DeleteMapping": func() error {
			return svc.DeleteMapping(ctx, ports.NewSCIMMappingID())
		},
		"CreateMapping": func() error {
			_, err := svc.CreateMapping(ctx, scim.MappingInput{Group: "g", Shop: "s", Role: ports.RoleTech})
			return err
		},
	}
	for name, call := range calls {
		require.ErrorIs(t, call(), ports.ErrUnauthenticated, name)
	}
}

// TestAuthenticateRefusesMalformedTokensWithoutAQuery: a token without the
// prefix, or of the wrong length, is refused before the store is asked.
func TestAuthenticateRefusesMalformedTokensWithoutAQuery(t *testing.T) {
	svc, err := scim.New(scim.Deps{Store: untouchable{t}})
	require.NoError(t, err)
	for _, tok := range []string{"", "stk_scim_", "stk_scim_short", "Bearer stk_scim_x", "ghp_" + string(make([]byte, 43))} {
		_, err := svc.Authenticate(context.Background(), tok)
		require.ErrorIs(t, err, ports.ErrUnauthenticated, "%q", tok)
	}
}
