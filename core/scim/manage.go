package scim

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// requireOwner is the guard of the management use cases: the caller's
// scope (access.ShopRead in a shop of the org) and their own org role
// holding access.OrgMembersManage — an org owner — or a system scope (the
// CLI). Org power is not lent to impersonating operators nor gained
// through HQ access.
// RequireOwner answers whether the caller may manage the org's
// provisioning (tokens and mappings): nil for an org owner or a system
// scope, else the refusal the management use cases give. The HTTP layer
// asks it before saying that a malformed ID names nothing, so that a
// non-owner learns nothing from the answer.
func (s *Service) RequireOwner(ctx context.Context) error {
	_, err := s.requireOwner(ctx)
	return err
}

func (s *Service) requireOwner(ctx context.Context) (access.Scope, error) {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return access.Scope{}, err
	}
	if sc.System != "" {
		return sc, nil
	}
	if sc.User.IsZero() || sc.Impersonator != "" || sc.HQ {
		return access.Scope{}, fmt.Errorf("scim: managing provisioning needs the caller's own org role: %w", ports.ErrForbidden)
	}
	var m ports.OrgMember
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		m, err = tx.OrgMembers().Get(ctx, sc.Org, sc.User)
		return err
	}, ports.ReadOnly())
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return access.Scope{}, fmt.Errorf("scim: not an owner of this org: %w", ports.ErrForbidden)
	case err != nil:
		return access.Scope{}, fmt.Errorf("scim: read org role: %w", err)
	case !access.OrgAllows(m.Role, access.OrgMembersManage):
		return access.Scope{}, fmt.Errorf("scim: org role %q cannot manage provisioning: %w", m.Role, ports.ErrForbidden)
	}
	return sc, nil
}

// auditIn appends change by sc to the log of sc's shop in its own unit of
// work: SCIM rows are global, so the change cannot share the shop's unit
// of work; its event follows it.
func (s *Service) auditIn(ctx context.Context, sc access.Scope, change audit.Change) error {
	return s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := audit.AppendBy(ctx, tx, s.clock, sc, change)
		return err
	})
}

// CreateToken makes a new SCIM token for the caller's org and returns it
// with its secret, which is shown this once and kept only as its
// SHA-256. Audited as "scim.token.created" in the caller's shop.
func (s *Service) CreateToken(ctx context.Context) (ports.SCIMToken, string, error) {
	sc, err := s.requireOwner(ctx)
	if err != nil {
		return ports.SCIMToken{}, "", err
	}
	secret := newToken()
	var tok ports.SCIMToken
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		tok, err = tx.SCIM().CreateToken(ctx, ports.SCIMToken{ID: ports.NewSCIMTokenID(), OrgID: sc.Org, TokenHash: hashToken(secret), CreatedBy: sc.User})
		return err
	})
	if err != nil {
		return ports.SCIMToken{}, "", fmt.Errorf("scim: create token: %w", err)
	}
	if err := s.auditIn(ctx, sc, audit.Change{Action: "scim.token.created", Target: "scim_token:" + tok.ID.String(),
		After: map[string]string{"org": sc.Org.String()}}); err != nil {
		return ports.SCIMToken{}, "", fmt.Errorf("scim: create token: %w", err)
	}
	return tok, secret, nil
}

// ListTokens lists the caller's org's tokens, revoked ones too, newest
// first (their hashes included: the caller shows none of them).
func (s *Service) ListTokens(ctx context.Context) ([]ports.SCIMToken, error) {
	sc, err := s.requireOwner(ctx)
	if err != nil {
		return nil, err
	}
	var out []ports.SCIMToken
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.SCIM().ListTokens(ctx, sc.Org)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("scim: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes the caller's org's token id at once: the next
// request with it is refused. ErrNotFound for a revoked token or another
// org's. Audited as "scim.token.revoked".
func (s *Service) RevokeToken(ctx context.Context, id ports.SCIMTokenID) error {
	sc, err := s.requireOwner(ctx)
	if err != nil {
		return err
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.SCIM().RevokeToken(ctx, sc.Org, id, s.clock.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("scim: revoke token: %w", err)
	}
	if err := s.auditIn(ctx, sc, audit.Change{Action: "scim.token.revoked", Target: "scim_token:" + id.String(),
		After: map[string]string{"org": sc.Org.String()}}); err != nil {
		return fmt.Errorf("scim: revoke token: %w", err)
	}
	return nil
}

// MappingInput maps a SCIM group to a role in a shop of the org.
type MappingInput struct {
	// Group is the SCIM group's id or its displayName.
	Group string
	// Shop is the slug of a shop of the org.
	Shop string
	Role ports.Role
}

// Mapping is a mapping with the names it refers to.
type Mapping struct {
	ports.SCIMMapping
	GroupName string
	ShopSlug  string
}

// CreateMapping maps a group of the caller's org to a role in a shop of
// the org; the group's active members get it at once. ErrNotFound for a
// group or shop that is not the org's; ErrConflict when the group is
// already mapped to the shop. Audited as "scim.mapping.created".
func (s *Service) CreateMapping(ctx context.Context, in MappingInput) (Mapping, error) {
	sc, err := s.requireOwner(ctx)
	if err != nil {
		return Mapping{}, err
	}
	if !in.Role.Valid() {
		return Mapping{}, ports.Invalid("role", "must be one of the roles")
	}
	var out Mapping
	var members []ports.SCIMUserID
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		g, err := findGroup(ctx, tx.SCIM(), sc.Org, in.Group)
		if err != nil {
			return err
		}
		shop, err := tx.Shops().GetBySlug(ctx, in.Shop)
		if err != nil || shop.OrgID != sc.Org {
			return fmt.Errorf("no shop %q in this org: %w", in.Shop, ports.ErrNotFound)
		}
		m, err := tx.SCIM().CreateMapping(ctx, ports.SCIMMapping{ID: ports.NewSCIMMappingID(), OrgID: sc.Org, GroupID: g.ID, ShopID: shop.ID, Role: in.Role})
		if err != nil {
			return err
		}
		out = Mapping{SCIMMapping: m, GroupName: g.DisplayName, ShopSlug: shop.Slug}
		members, err = tx.SCIM().GroupMembers(ctx, sc.Org, g.ID)
		return err
	})
	if err != nil {
		return Mapping{}, fmt.Errorf("scim: create mapping: %w", err)
	}
	if err := s.auditIn(ctx, sc, audit.Change{Action: "scim.mapping.created", Target: "scim_mapping:" + out.ID.String(),
		After: map[string]string{"group": out.GroupID.String(), "shop": out.ShopID.String(), "role": string(out.Role)}}); err != nil {
		return Mapping{}, fmt.Errorf("scim: create mapping: %w", err)
	}
	return out, s.reconcileAll(ctx, sc.Org, members, in2shop(sc))
}

// in2shop is the actor of a change an org owner (or the CLI) made: their
// scope, moved to each shop it reaches.
func in2shop(sc access.Scope) actor {
	return func(shop ports.ShopID) access.Scope {
		v := sc
		v.Shop = shop
		return v
	}
}

// findGroup finds org's group by id or, failing that, by displayName.
func findGroup(ctx context.Context, r ports.SCIMRepo, org ports.OrgID, ref string) (ports.SCIMGroup, error) {
	if id, err := ports.ParseSCIMGroupID(ref); err == nil {
		if g, err := r.GetGroup(ctx, org, id); !errors.Is(err, ports.ErrNotFound) {
			return g, err
		}
	}
	groups, _, err := r.ListGroups(ctx, org, ref, ports.SCIMPage{Limit: 1})
	if err != nil {
		return ports.SCIMGroup{}, err
	}
	if len(groups) == 0 {
		return ports.SCIMGroup{}, fmt.Errorf("no SCIM group %q in this org: %w", ref, ports.ErrNotFound)
	}
	return groups[0], nil
}

// ListMappings lists the caller's org's mappings, oldest first.
func (s *Service) ListMappings(ctx context.Context) ([]Mapping, error) {
	sc, err := s.requireOwner(ctx)
	if err != nil {
		return nil, err
	}
	var out []Mapping
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		list, err := tx.SCIM().ListMappings(ctx, sc.Org)
		if err != nil {
			return err
		}
		for _, m := range list {
			g, err := tx.SCIM().GetGroup(ctx, sc.Org, m.GroupID)
			if err != nil {
				return err
			}
			shop, err := tx.Shops().Get(ctx, m.ShopID)
			if err != nil {
				return err
			}
			out = append(out, Mapping{SCIMMapping: m, GroupName: g.DisplayName, ShopSlug: shop.Slug})
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("scim: list mappings: %w", err)
	}
	return out, nil
}

// DeleteMapping removes the caller's org's mapping id; the memberships it
// gave go. ErrNotFound for another org's. Audited as
// "scim.mapping.deleted".
func (s *Service) DeleteMapping(ctx context.Context, id ports.SCIMMappingID) error {
	sc, err := s.requireOwner(ctx)
	if err != nil {
		return err
	}
	var m ports.SCIMMapping
	var members []ports.SCIMUserID
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if m, err = tx.SCIM().DeleteMapping(ctx, sc.Org, id); err != nil {
			return err
		}
		members, err = tx.SCIM().GroupMembers(ctx, sc.Org, m.GroupID)
		return err
	})
	if err != nil {
		return fmt.Errorf("scim: delete mapping: %w", err)
	}
	if err := s.auditIn(ctx, sc, audit.Change{Action: "scim.mapping.deleted", Target: "scim_mapping:" + id.String(),
		Before: map[string]string{"group": m.GroupID.String(), "shop": m.ShopID.String(), "role": string(m.Role)}}); err != nil {
		return fmt.Errorf("scim: delete mapping: %w", err)
	}
	return s.reconcileAll(ctx, sc.Org, members, in2shop(sc))
}
