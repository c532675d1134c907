package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/ports"
)

// DeleterParts are the pieces NewDeleter builds on.
type DeleterParts struct {
	// Store is required and must delete whole shops (ports.ShopDeleter:
	// the SQLite and Postgres stores, and the server's store handle).
	Store ports.Store
	// Objects is the file storage's object store; nil leaves objects
	// alone. Keys is its key manager, whose keys of a deleted shop are
	// destroyed; nil destroys none.
	Objects ports.ObjectStore
	Keys    ports.KeyManager
	Clock   ports.Clock
	Logger  *slog.Logger
}

// NewDeleter builds the shop deleter for cfg without fx: retention after
// STOCKADE_STRIPE_RETENTION_DAYS (60 by default; LIFE-2) and erasure on
// request (LIFE-3), signing the chain head before a shop's rows go with
// the audit checkpoint key of DataDir unless
// STOCKADE_HOUSEKEEPING_NO_CHECKPOINTS. ErrUnsupported when the store
// cannot delete shops.
func NewDeleter(cfg Config, p DeleterParts) (*housekeeping.Deleter, error) {
	del, ok := p.Store.(ports.ShopDeleter)
	if !ok {
		return nil, fmt.Errorf("retention: the store %T cannot delete shops: %w", p.Store, ports.ErrUnsupported)
	}
	rc := housekeeping.RetentionConfig{Period: cfg.Stripe.Retention()}
	if !cfg.Housekeeping.NoCheckpoints {
		keys, err := LoadAuditKeys(cfg)
		if err != nil {
			return nil, fmt.Errorf("retention: %w", err)
		}
		rc.Signer, rc.Verifiers = keys.Signer, keys.Verifiers
	}
	return housekeeping.NewDeleter(housekeeping.RetentionDeps{Store: p.Store, Deleter: del, Objects: p.Objects, Keys: p.Keys, Clock: p.Clock, Logger: p.Logger}, rc)
}

// WarnerParts are the pieces NewWarner builds on.
type WarnerParts struct {
	Store  ports.Store      // required
	Outbox *authmail.Outbox // required: see NewAuthMailOutbox
	Clock  ports.Clock
	Logger *slog.Logger
}

// NewWarner builds the retention warner for cfg without fx: the Owners of
// a shop cancelled STOCKADE_STRIPE_RETENTION_DAYS ago are mailed at the
// points of STOCKADE_HOUSEKEEPING_RETENTION_WARNINGS before its deletion
// (LIFE-2), through the auth mail outbox, with the shop's address on the
// public host. ErrInvalid for a malformed setting.
func NewWarner(cfg Config, p WarnerParts) (*housekeeping.Warner, error) {
	days, err := cfg.Housekeeping.WarningDays()
	if err != nil {
		return nil, fmt.Errorf("retention warnings: %w", err)
	}
	wc := housekeeping.WarningConfig{Period: cfg.Stripe.Retention(), Days: days}
	if public, err := url.Parse(cfg.HTTP.PublicURL); err == nil && public.Host != "" {
		wc.ShopURL = func(slug string) string { return public.Scheme + "://" + slug + "." + public.Host + "/" }
	}
	return housekeeping.NewWarner(housekeeping.WarningDeps{Store: p.Store, Outbox: p.Outbox, Clock: p.Clock, Logger: p.Logger}, wc)
}

var _ ports.ShopDeleter = (*startedStore)(nil)

// shopDeleter returns the open store as a ports.ShopDeleter.
func (s *startedStore) shopDeleter() (ports.ShopDeleter, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	d, ok := st.(ports.ShopDeleter)
	if !ok {
		return nil, fmt.Errorf("store %T cannot delete shops: %w", st, ports.ErrUnsupported)
	}
	return d, nil
}

// DeletionTables implements ports.ShopDeleter with the open store's; nil
// before it opens.
func (s *startedStore) DeletionTables() []string {
	d, err := s.shopDeleter()
	if err != nil {
		return nil
	}
	return d.DeletionTables()
}

// StartShopDeletion implements ports.ShopDeleter with the open store's.
func (s *startedStore) StartShopDeletion(ctx context.Context, sd ports.ShopDeletion) (ports.ShopDeletion, error) {
	d, err := s.shopDeleter()
	if err != nil {
		return ports.ShopDeletion{}, err
	}
	return d.StartShopDeletion(ctx, sd)
}

// SetDeletionChain implements ports.ShopDeleter with the open store's.
func (s *startedStore) SetDeletionChain(ctx context.Context, shop ports.ShopID, size int64, hash ports.AuditHash, checkpoint string) error {
	d, err := s.shopDeleter()
	if err != nil {
		return err
	}
	return d.SetDeletionChain(ctx, shop, size, hash, checkpoint)
}

// AddDeletedObjects implements ports.ShopDeleter with the open store's.
func (s *startedStore) AddDeletedObjects(ctx context.Context, shop ports.ShopID, n int64) error {
	d, err := s.shopDeleter()
	if err != nil {
		return err
	}
	return d.AddDeletedObjects(ctx, shop, n)
}

// DeleteShopRows implements ports.ShopDeleter with the open store's.
func (s *startedStore) DeleteShopRows(ctx context.Context, shop ports.ShopID, table string, limit int) (int, error) {
	d, err := s.shopDeleter()
	if err != nil {
		return 0, err
	}
	return d.DeleteShopRows(ctx, shop, table, limit)
}

// ShopRows implements ports.ShopDeleter with the open store's.
func (s *startedStore) ShopRows(ctx context.Context, shop ports.ShopID, table string) (int64, error) {
	d, err := s.shopDeleter()
	if err != nil {
		return 0, err
	}
	return d.ShopRows(ctx, shop, table)
}

// FinishShopDeletion implements ports.ShopDeleter with the open store's.
func (s *startedStore) FinishShopDeletion(ctx context.Context, shop ports.ShopID) (ports.ShopDeletion, error) {
	d, err := s.shopDeleter()
	if err != nil {
		return ports.ShopDeletion{}, err
	}
	return d.FinishShopDeletion(ctx, shop)
}

// ShopDeletion implements ports.ShopDeleter with the open store's.
func (s *startedStore) ShopDeletion(ctx context.Context, shop ports.ShopID) (ports.ShopDeletion, error) {
	d, err := s.shopDeleter()
	if err != nil {
		return ports.ShopDeletion{}, err
	}
	return d.ShopDeletion(ctx, shop)
}
