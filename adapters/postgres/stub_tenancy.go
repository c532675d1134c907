package postgres

// Placeholders while the tenancy repositories are written (issue 5); each
// is replaced by its real file and this file is deleted.

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Invitations() ports.InvitationRepo { return invitationsStub{} }
func (t *shopTx) ThisShop() ports.ThisShopRepo      { return thisShopStub{} }
func (t *globalTx) OrgMembers() ports.OrgMemberRepo { return orgMembersStub{} }

type invitationsStub struct{}

func (invitationsStub) Create(context.Context, ports.Invitation) (ports.Invitation, error) {
	return ports.Invitation{}, ports.ErrUnsupported
}
func (invitationsStub) Get(context.Context, ports.InvitationID) (ports.Invitation, error) {
	return ports.Invitation{}, ports.ErrUnsupported
}
func (invitationsStub) List(context.Context, time.Time) ([]ports.Invitation, error) {
	return nil, ports.ErrUnsupported
}
func (invitationsStub) Accept(context.Context, []byte, ports.UserID, time.Time) (ports.Invitation, error) {
	return ports.Invitation{}, ports.ErrUnsupported
}
func (invitationsStub) Revoke(context.Context, ports.InvitationID, time.Time) (ports.Invitation, error) {
	return ports.Invitation{}, ports.ErrUnsupported
}
func (invitationsStub) DeleteExpired(context.Context, time.Time) (int, error) {
	return 0, ports.ErrUnsupported
}

type thisShopStub struct{}

func (thisShopStub) Get(context.Context) (ports.Shop, error) {
	return ports.Shop{}, ports.ErrUnsupported
}
func (thisShopStub) Rename(context.Context, string) (ports.Shop, error) {
	return ports.Shop{}, ports.ErrUnsupported
}
func (thisShopStub) SetStatus(context.Context, ports.ShopStatus) (ports.Shop, error) {
	return ports.Shop{}, ports.ErrUnsupported
}

type orgMembersStub struct{}

func (orgMembersStub) Add(context.Context, ports.OrgID, ports.UserID, ports.OrgRole) (ports.OrgMember, error) {
	return ports.OrgMember{}, ports.ErrUnsupported
}
func (orgMembersStub) Get(context.Context, ports.OrgID, ports.UserID) (ports.OrgMember, error) {
	return ports.OrgMember{}, ports.ErrUnsupported
}
func (orgMembersStub) List(context.Context, ports.OrgID) ([]ports.OrgMember, error) {
	return nil, ports.ErrUnsupported
}
func (orgMembersStub) Remove(context.Context, ports.OrgID, ports.UserID) error {
	return ports.ErrUnsupported
}
