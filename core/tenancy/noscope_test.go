package tenancy_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// untouchable is a store that fails the test if anything reaches it.
type untouchable struct{ t *testing.T }

func (s untouchable) InShop(context.Context, ports.ShopID, func(context.Context, ports.ShopTx) error, ...ports.TxOption) error {
	s.t.Error("InShop reached without a scope")
	return ports.ErrUnavailable
}

func (s untouchable) Global(context.Context, func(context.Context, ports.GlobalTx) error, ...ports.TxOption) error {
	s.t.Error("Global reached without a scope")
	return ports.ErrUnavailable
}
func (untouchable) Ping(context.Context) error { return nil }
func (untouchable) Close() error               { return nil }

type noHasher struct{}

func (noHasher) Hash(context.Context, string) (string, error) { return "", ports.ErrUnsupported }
func (noHasher) Verify(context.Context, string, string) (bool, bool, error) {
	return false, false, ports.ErrUnsupported
}

type noPolicy struct{}

func (noPolicy) Check(string, string) error { return nil }

// TestUseCasesFailClosedWithoutAScope calls every tenancy use case that
// acts for a caller with a context that carries no scope: each must refuse
// with ErrUnauthenticated before it touches the store.
func TestUseCasesFailClosedWithoutAScope(t *testing.T) {
	st := untouchable{t}
	keys, err := auth.NewKeyring(auth.Key{ID: "k", Secret: make([]byte, 32)})
	require.NoError(t, err)
	mail, err := authmail.New(authmail.Key{ID: "k", Secret: make([]byte, 32)})
	require.NoError(t, err)
	a, err := auth.New(auth.Deps{Store: st, Hasher: noHasher{}, Policy: noPolicy{}, Keys: keys, Mail: mail}, auth.Config{})
	require.NoError(t, err)
	svc, err := tenancy.New(tenancy.Deps{Store: st, Auth: a, Mail: mail}, tenancy.Config{})
	require.NoError(t, err)
	ctx := context.Background()
	user := ports.NewUserID()
	calls := map[string]func() error{
		"CreateOrg": func() error {
			_, _, err := svc.CreateOrg(ctx, tenancy.NewOrg{Name: "Org", Slug: "org-x"})
			return err
		},
		"CheckNewOrg": func() error {
			_, err := svc.CheckNewOrg(ctx, tenancy.NewOrg{Name: "Org", Slug: "org-x"})
			return err
		},
		"AddShop":         func() error { _, err := svc.AddShop(ctx, tenancy.NewShop{Slug: "shop-x", Name: "X"}); return err },
		"OrgShops":        func() error { _, err := svc.OrgShops(ctx); return err },
		"Shop":            func() error { _, err := svc.Shop(ctx); return err },
		"Rename":          func() error { _, err := svc.Rename(ctx, "New name"); return err },
		"SetShopStatus":   func() error { _, err := svc.SetShopStatus(ctx, "shop-x", ports.ShopSuspended); return err },
		"ListMembers":     func() error { _, err := svc.ListMembers(ctx); return err },
		"AddMember":       func() error { _, err := svc.AddMember(ctx, "a@example.test", ports.RoleTech); return err },
		"ChangeRole":      func() error { _, err := svc.ChangeRole(ctx, user, ports.RoleTech); return err },
		"RemoveMember":    func() error { return svc.RemoveMember(ctx, user) },
		"ListInvitations": func() error { _, err := svc.ListInvitations(ctx); return err },
		"RevokeInvitation": func() error {
			return svc.RevokeInvitation(ctx, ports.NewInvitationID())
		},
		"Invite": func() error {
			_, err := svc.Invite(ctx, tenancy.InviteInput{Email: "a@example.test", Role: ports.RoleTech, LinkPrefix: "https://x.example.test/?t="})
			return err
		},
		"EnterHQ": func() error {
			return svc.EnterHQ(ctx, "shop-x", "GET /", func(context.Context, ports.Shop) error {
				t.Error("served without a scope")
				return nil
			})
		},
		"ListOrgMembers": func() error { _, err := svc.ListOrgMembers(ctx); return err },
		"SetOrgRole":     func() error { return svc.SetOrgRole(ctx, "a@example.test", ports.OrgAdmin) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, call(), ports.ErrUnauthenticated)
		})
	}
}
