// Package tenancy holds the use cases that create and shape tenants: orgs,
// shops and their first members.
package tenancy

import (
	"context"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// NewShop is a shop to create in a new org of the same name.
type NewShop struct {
	Slug  string
	Name  string
	Owner ports.UserID // optional: becomes the shop's first Owner
	Actor string       // who asks, for the audit log, e.g. "operator:cli"
}

// CreateShop creates an org and its first shop and, when Owner is set,
// makes that user the shop's Owner, auditing the creation in the new
// shop's log. The directory rows commit first; the membership and its
// audit event commit together in the shop's unit of work. ErrInvalid for
// a bad slug or name, ErrConflict for a taken slug, ErrNotFound for an
// unknown owner (the shop then exists without an owner: add one later).
func CreateShop(ctx context.Context, store ports.Store, clock ports.Clock, in NewShop) (ports.Shop, error) {
	slug := strings.ToLower(strings.TrimSpace(in.Slug))
	name := strings.TrimSpace(in.Name)
	if err := ports.ValidateSlug(slug); err != nil {
		return ports.Shop{}, err
	}
	if err := ports.ValidateName("name", name); err != nil {
		return ports.Shop{}, err
	}
	var shop ports.Shop
	err := store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: name})
		if err != nil {
			return err
		}
		shop, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: slug, Name: name, Status: ports.ShopActive})
		return err
	})
	if err != nil {
		return ports.Shop{}, fmt.Errorf("create shop: %w", err)
	}
	err = store.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		if !in.Owner.IsZero() {
			if _, err := tx.Memberships().Add(ctx, in.Owner, ports.RoleOwner); err != nil {
				return err
			}
		}
		_, err := tx.Audit().Append(ctx, ports.AuditEvent{
			ID: ports.NewEventID(), Time: clock.Now(), Actor: in.Actor,
			Action: "shop.created", Target: "shop:" + shop.ID.String(), Outcome: ports.OutcomeSuccess,
		})
		return err
	})
	if err != nil {
		return shop, fmt.Errorf("shop %s created, first owner not added: %w", shop.Slug, err)
	}
	return shop, nil
}
