package capability

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// MintInput asks for a link to one record of the caller's shop.
type MintInput struct {
	RecordType string
	RecordID   string
	// Actions the link grants: a non-empty subset of the kind's actions.
	Actions []string
	// TTL is the link's lifetime: zero is Config.DefaultTTL; at most
	// Config.MaxTTL.
	TTL time.Duration
}

// Minted is a new link. Token is shown once: it is not stored and cannot
// be read again.
type Minted struct {
	Capability ports.Capability
	Token      string
}

// Mint creates a link to a record of the caller's shop (access.LinksManage
// and the kind's permission). ErrInvalid for an unregistered record type,
// a malformed record ID, no actions or one the kind does not offer, or a
// TTL that is negative or above Config.MaxTTL; ErrNotFound when the kind
// finds no such record in the caller's shop. The link and its
// "capability.created" event commit together.
func (s *Service) Mint(ctx context.Context, in MintInput) (Minted, error) {
	sc, k, err := s.require(ctx, in.RecordType)
	if err != nil {
		return Minted{}, err
	}
	if err := ports.ValidateRecordID(in.RecordID); err != nil {
		return Minted{}, err
	}
	actions := ports.NormalizeActions(in.Actions)
	if len(actions) == 0 {
		return Minted{}, ports.Invalid("actions", "name at least one action")
	}
	for _, a := range actions {
		if !slices.Contains(k.Actions, a) {
			return Minted{}, ports.Invalid("actions", fmt.Sprintf("%q links offer %v", k.Type, k.Actions))
		}
	}
	ttl := in.TTL
	switch {
	case ttl == 0:
		ttl = s.cfg.DefaultTTL
	case ttl < 0 || ttl > s.cfg.MaxTTL:
		return Minted{}, ports.Invalid("ttl", fmt.Sprintf("must be more than 0 and at most %s", s.cfg.MaxTTL))
	}
	token, hash := newToken()
	var c ports.Capability
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if k.Exists != nil {
			if err := k.Exists(ctx, tx, in.RecordID); err != nil {
				return err
			}
		}
		var err error
		c, err = tx.Capabilities().Create(ctx, ports.Capability{
			ID: ports.NewCapabilityID(), TokenHash: hash, RecordType: k.Type, RecordID: in.RecordID,
			Actions: actions, CreatedBy: sc.User, ExpiresAt: s.clock.Now().Add(ttl),
		})
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, "capability.created", c, false, true)
	})
	if err != nil {
		return Minted{}, fmt.Errorf("mint link: %w", err)
	}
	return Minted{Capability: c, Token: token}, nil
}

// List returns the links of one record of the caller's shop, newest
// first — all of them, or with activeOnly those usable now
// (access.LinksManage and the kind's permission). No token is ever
// returned. ErrInvalid for an unregistered record type.
func (s *Service) List(ctx context.Context, recordType, recordID string, activeOnly bool) ([]ports.Capability, error) {
	sc, _, err := s.require(ctx, recordType)
	if err != nil {
		return nil, err
	}
	if err := ports.ValidateRecordID(recordID); err != nil {
		return nil, err
	}
	var at time.Time
	if activeOnly {
		at = s.clock.Now()
	}
	var out []ports.Capability
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Capabilities().ListByRecord(ctx, recordType, recordID, at)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	for i := range out {
		out[i].TokenHash = nil
	}
	return out, nil
}

// Revoke ends an active link of the caller's shop now (access.LinksManage
// and its kind's permission); the change and its "capability.revoked"
// event commit together. ErrNotFound unless the link is active (or for
// another shop's).
func (s *Service) Revoke(ctx context.Context, id ports.CapabilityID) (ports.Capability, error) {
	sc, err := s.policy.Require(ctx, access.LinksManage)
	if err != nil {
		return ports.Capability{}, err
	}
	var c ports.Capability
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		got, err := tx.Capabilities().Get(ctx, id)
		if err != nil {
			return err
		}
		// The kind's permission too: a member who may not read a record
		// may not withdraw its links either. A link of a kind no longer
		// registered needs LinksManage only.
		if k, ok := s.kinds[got.RecordType]; ok && k.Permission != "" {
			if _, err := s.policy.Require(ctx, k.Permission); err != nil {
				return err
			}
		}
		if c, err = tx.Capabilities().Revoke(ctx, id, s.clock.Now()); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, "capability.revoked", c, true, false)
	})
	if err != nil {
		return ports.Capability{}, fmt.Errorf("revoke link: %w", err)
	}
	c.TokenHash = nil
	return c, nil
}

// RevokeRecord ends every active link of one record of the caller's shop
// (for an app deleting or closing the record) and returns how many, with
// one "capability.revoked" event each in the same unit of work.
// access.LinksManage and the kind's permission; ErrInvalid for an
// unregistered record type.
func (s *Service) RevokeRecord(ctx context.Context, recordType, recordID string) (int, error) {
	sc, _, err := s.require(ctx, recordType)
	if err != nil {
		return 0, err
	}
	if err := ports.ValidateRecordID(recordID); err != nil {
		return 0, err
	}
	n := 0
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		now := s.clock.Now()
		active, err := tx.Capabilities().ListByRecord(ctx, recordType, recordID, now)
		if err != nil {
			return err
		}
		for _, c := range active {
			got, err := tx.Capabilities().Revoke(ctx, c.ID, now)
			if err != nil {
				return err
			}
			if err := s.appendAudit(ctx, tx, sc, "capability.revoked", got, true, false); err != nil {
				return err
			}
		}
		n = len(active)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("revoke links of %s %s: %w", recordType, recordID, err)
	}
	return n, nil
}

// Sweep deletes the caller's shop's links that expired before now,
// revoked or not, and returns how many (access.LinksManage; meant for a
// system scope: a job or the CLI). One "capability.swept" event records
// the count when any were deleted.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	sc, err := s.policy.Require(ctx, access.LinksManage)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if n, err = tx.Capabilities().DeleteExpired(ctx, s.clock.Now()); err != nil || n == 0 {
			return err
		}
		after, err := jsonCount(n)
		if err != nil {
			return err
		}
		_, err = audit.AppendBy(ctx, tx, s.clock, sc, audit.Change{
			Action: "capability.swept", Target: "shop:" + sc.Shop.String(), After: after,
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep links: %w", err)
	}
	return n, nil
}
