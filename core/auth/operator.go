package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// ShopBySlug returns the shop with slug, or ErrNotFound.
func (s *Service) ShopBySlug(ctx context.Context, slug string) (ports.Shop, error) {
	var shop ports.Shop
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.Shops().GetBySlug(ctx, slug)
		return err
	}, ports.ReadOnly())
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Shop{}, fmt.Errorf("no shop with slug %q: %w", slug, ports.ErrNotFound)
	}
	if err != nil {
		return ports.Shop{}, fmt.Errorf("shop %q: %w", slug, err)
	}
	return shop, nil
}

// AddMember makes user a member of the shop with slug, with role, on an
// operator's behalf, and audits it in the shop's log in the same unit of
// work, with member.added (via "operator") for the shop's webhooks and,
// after the commit, its hooks. ErrNotFound for an unknown shop or user,
// ErrConflict if already a member. (Membership management proper belongs
// to core/tenancy; this is the bootstrap path the CLI needs.)
func (s *Service) AddMember(ctx context.Context, slug string, user ports.UserID, role ports.Role, operator string) (ports.Shop, error) {
	shop, err := s.ShopBySlug(ctx, slug)
	if err != nil {
		return ports.Shop{}, err
	}
	var ev published
	err = s.store.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Add(ctx, user, role); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, Client{}, event{actor: operator, action: "membership.added", target: "user:" + user.String(), outcome: ports.OutcomeSuccess, after: map[string]string{"role": string(role)}}); err != nil {
			return err
		}
		return s.memberAdded(ctx, tx, &ev, user, role)
	})
	if err != nil {
		return ports.Shop{}, fmt.Errorf("add member: %w", err)
	}
	s.events.After(ctx, ev)
	return shop, nil
}

// UserByEmail returns the user with email, or ErrNotFound; for operators.
func (s *Service) UserByEmail(ctx context.Context, email string) (ports.User, error) {
	var user ports.User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		user, err = tx.Users().GetByEmail(ctx, email)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.User{}, fmt.Errorf("user %s: %w", ports.NormalizeEmail(email), err)
	}
	return user, nil
}
