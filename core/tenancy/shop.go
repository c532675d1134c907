package tenancy

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// Shop returns the caller's shop (access.ShopRead).
func (s *Service) Shop(ctx context.Context) (ports.Shop, error) {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return ports.Shop{}, err
	}
	var shop ports.Shop
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		shop, err = tx.ThisShop().Get(ctx)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.Shop{}, fmt.Errorf("read shop: %w", err)
	}
	return shop, nil
}

// Rename sets the caller's shop's display name (access.ShopSettings); the
// change, its "shop.renamed" audit event and its shop.renamed webhooks
// commit together, and hooks get shop.renamed after the commit.
func (s *Service) Rename(ctx context.Context, name string) (ports.Shop, error) {
	sc, err := s.policy.Require(ctx, access.ShopSettings)
	if err != nil {
		return ports.Shop{}, err
	}
	name = strings.TrimSpace(name)
	if err := ports.ValidateName("name", name); err != nil {
		return ports.Shop{}, err
	}
	var shop ports.Shop
	var ev events.Event
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.ThisShop().Get(ctx)
		if err != nil {
			return err
		}
		if shop, err = tx.ThisShop().Rename(ctx, name); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, sc, record{action: "shop.renamed", target: "shop:" + sc.Shop.String(),
			before: map[string]string{"name": before.Name}, after: map[string]string{"name": shop.Name}}); err != nil {
			return err
		}
		ev, err = s.events.Record(ctx, tx, events.ShopRenamed{Name: shop.Name, PreviousName: before.Name})
		return err
	})
	if err != nil {
		return ports.Shop{}, fmt.Errorf("rename shop: %w", err)
	}
	s.events.After(ctx, ev)
	return shop, nil
}

// SetShopStatus suspends or reactivates a shop of the caller's org by
// slug (access.OrgShopsManage: an org owner or admin, acting from any
// shop of the org — a suspended shop's own host serves nothing). The
// change and its "shop.suspended" or "shop.reactivated" event commit
// together in the target shop's log, with the target shop's webhooks of
// the same type; hooks get it after the commit. ErrNotFound for a shop of
// another org.
func (s *Service) SetShopStatus(ctx context.Context, slug string, status ports.ShopStatus) (ports.Shop, error) {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return ports.Shop{}, err
	}
	if err := ports.ValidateShopStatus(status); err != nil {
		return ports.Shop{}, err
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgShopsManage); err != nil {
		return ports.Shop{}, err
	}
	target, err := s.orgShop(ctx, sc, slug)
	if err != nil {
		return ports.Shop{}, err
	}
	action := "shop.reactivated"
	var payload events.Payload = events.ShopReactivated{Slug: target.Slug}
	if status == ports.ShopSuspended {
		action = "shop.suspended"
		payload = events.ShopSuspended{Slug: target.Slug}
	}
	var shop ports.Shop
	var ev events.Event
	err = s.store.InShop(ctx, target.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if shop, err = tx.ThisShop().SetStatus(ctx, status); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, sc, record{action: action, target: "shop:" + target.ID.String(),
			before: map[string]string{"status": string(target.Status)}, after: map[string]string{"status": string(status)}}); err != nil {
			return err
		}
		ev, err = s.events.Record(ctx, tx, payload)
		return err
	})
	if err != nil {
		return ports.Shop{}, fmt.Errorf("set shop status: %w", err)
	}
	s.events.After(ctx, ev)
	return shop, nil
}

// orgShop finds the shop with slug in the caller's org; ErrNotFound for
// an unknown slug or a shop of another org (indistinguishable).
func (s *Service) orgShop(ctx context.Context, sc access.Scope, slug string) (ports.Shop, error) {
	var shop ports.Shop
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.Shops().GetBySlug(ctx, strings.ToLower(strings.TrimSpace(slug)))
		return err
	}, ports.ReadOnly())
	if err == nil && shop.OrgID != sc.Org {
		err = ports.ErrNotFound
	}
	if err != nil {
		return ports.Shop{}, fmt.Errorf("shop %q: %w", slug, err)
	}
	return shop, nil
}
