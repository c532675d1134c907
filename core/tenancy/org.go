package tenancy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// NewOrg is an org to create with its first shop.
type NewOrg struct {
	Name     string // the org's name
	Slug     string // the first shop's slug (its host label)
	ShopName string // the first shop's name; empty means Name
	// Owner becomes the org's owner and the first shop's Owner. For a
	// signed-in caller it must be zero: the caller is the owner. For a
	// system scope (the CLI) it may be zero: the shop then starts without
	// an owner.
	Owner ports.UserID
}

// CreateOrg creates an org and its first shop; the creator becomes the
// org's owner and the shop's Owner (TEN-5). Callers: a signed-in member of
// any shop (self-serve: the new org is theirs; access.AccountSelf in the
// current shop), or a system scope (ports.ShopID may be zero). The
// directory rows commit first, then the owner's membership and the
// "shop.created" audit event commit together in the new shop's unit of
// work. ErrInvalid for a bad or reserved slug or a bad name, ErrConflict
// for a taken slug, ErrNotFound for an unknown owner.
func (s *Service) CreateOrg(ctx context.Context, in NewOrg) (ports.Org, ports.Shop, error) {
	sc, ok := access.From(ctx)
	switch {
	case ok && sc.System != "":
	case ok && !sc.User.IsZero():
		if _, err := s.policy.Require(ctx, access.AccountSelf); err != nil {
			return ports.Org{}, ports.Shop{}, err
		}
		if sc.Impersonator != "" || sc.HQ {
			return ports.Org{}, ports.Shop{}, fmt.Errorf("create org: only for the user themself: %w", ports.ErrForbidden)
		}
		if !in.Owner.IsZero() && in.Owner != sc.User {
			return ports.Org{}, ports.Shop{}, ports.Invalid("owner", "is the caller")
		}
		in.Owner = sc.User
	default:
		return ports.Org{}, ports.Shop{}, fmt.Errorf("create org: no caller scope: %w", ports.ErrUnauthenticated)
	}
	name := strings.TrimSpace(in.Name)
	if err := ports.ValidateName("name", name); err != nil {
		return ports.Org{}, ports.Shop{}, err
	}
	shopName := strings.TrimSpace(in.ShopName)
	if shopName == "" {
		shopName = name
	}
	slug, err := s.cleanSlug(in.Slug, shopName)
	if err != nil {
		return ports.Org{}, ports.Shop{}, err
	}
	var org ports.Org
	var shop ports.Shop
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if !in.Owner.IsZero() {
			if _, err := tx.Users().Get(ctx, in.Owner); err != nil {
				return fmt.Errorf("owner: %w", err)
			}
		}
		if org, err = tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: name}); err != nil {
			return err
		}
		if shop, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: slug, Name: shopName, Status: ports.ShopActive}); err != nil {
			return err
		}
		if !in.Owner.IsZero() {
			_, err = tx.OrgMembers().Add(ctx, org.ID, in.Owner, ports.OrgOwner)
		}
		return err
	})
	if errors.Is(err, ports.ErrConflict) {
		return ports.Org{}, ports.Shop{}, slugTaken(slug)
	}
	if err != nil {
		return ports.Org{}, ports.Shop{}, fmt.Errorf("create org: %w", err)
	}
	if err := s.seedShop(ctx, sc, shop, in.Owner); err != nil {
		return org, shop, err
	}
	return org, shop, nil
}

// NewShop is a shop to add to the caller's org.
type NewShop struct {
	Slug string
	Name string
}

// AddShop adds a shop to the caller's org; the caller becomes its Owner.
// The caller needs access.OrgShopsManage in the org (an org owner or
// admin). ErrInvalid, ErrConflict as CreateOrg.
func (s *Service) AddShop(ctx context.Context, in NewShop) (ports.Shop, error) {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return ports.Shop{}, err
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgShopsManage); err != nil {
		return ports.Shop{}, err
	}
	name := strings.TrimSpace(in.Name)
	if err := ports.ValidateName("name", name); err != nil {
		return ports.Shop{}, err
	}
	slug, err := s.cleanSlug(in.Slug, name)
	if err != nil {
		return ports.Shop{}, err
	}
	var shop ports.Shop
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: sc.Org, Slug: slug, Name: name, Status: ports.ShopActive})
		return err
	})
	if errors.Is(err, ports.ErrConflict) {
		return ports.Shop{}, slugTaken(slug)
	}
	if err != nil {
		return ports.Shop{}, fmt.Errorf("add shop: %w", err)
	}
	return shop, s.seedShop(ctx, sc, shop, sc.User)
}

// seedShop makes owner (when set) the new shop's Owner and audits the
// creation in the shop's own log, in one unit of work, which also records
// shop.created and (with an owner) member.added; hooks get them after it
// commits.
func (s *Service) seedShop(ctx context.Context, sc access.Scope, shop ports.Shop, owner ports.UserID) error {
	var created, added events.Event
	err := s.store.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		if !owner.IsZero() {
			if _, err := tx.Memberships().Add(ctx, owner, ports.RoleOwner); err != nil {
				return err
			}
		}
		if err := s.appendAudit(ctx, tx, sc, record{
			action: "shop.created", target: "shop:" + shop.ID.String(),
			after: map[string]string{"slug": shop.Slug, "name": shop.Name, "owner": idOrEmpty(owner)},
		}); err != nil {
			return err
		}
		var err error
		if created, err = s.events.Record(ctx, tx, events.ShopCreated{Org: shop.OrgID.String(), Slug: shop.Slug, Name: shop.Name, Owner: idOrEmpty(owner)}); err != nil {
			return err
		}
		added = events.Event{}
		if !owner.IsZero() {
			added, err = s.events.Record(ctx, tx, events.MemberAdded{User: owner.String(), Role: string(ports.RoleOwner), Via: "shop_created"})
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("shop %s created, first owner not added: %w", shop.Slug, err)
	}
	s.events.After(ctx, created, added)
	return nil
}

func idOrEmpty(u ports.UserID) string {
	if u.IsZero() {
		return ""
	}
	return u.String()
}

// cleanSlug lower-cases and validates a slug; an empty one is derived from
// name.
func cleanSlug(slug, name string) (string, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	if slug == "" {
		var b strings.Builder
		for _, r := range strings.ToLower(name) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				b.WriteRune(r)
			case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
				b.WriteByte('-')
			}
		}
		slug = strings.Trim(b.String(), "-")
		if len(slug) > 63 {
			slug = strings.Trim(slug[:63], "-")
		}
	}
	if err := ports.ValidateSlug(slug); err != nil {
		return "", err
	}
	return slug, nil
}

// OrgShops lists the shops of the caller's org, for HQ (an org owner or
// admin: access.OrgHQAccess).
func (s *Service) OrgShops(ctx context.Context) ([]ports.Shop, error) {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return nil, err
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgHQAccess); err != nil {
		return nil, err
	}
	var out []ports.Shop
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.Shops().ListByOrg(ctx, sc.Org)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list org shops: %w", err)
	}
	return out, nil
}
