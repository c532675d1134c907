package storage

import (
	"context"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"

	"github.com/stockadehq/stockade/ports"
)

// ListQuery selects a page of the caller's shop's ready files, oldest
// first.
type ListQuery struct {
	Kind  string       // optional
	After ports.FileID // the last file of the previous page; zero starts at the oldest
	Limit int          // see ports.FileQuery.Limit
}

// List returns a page of the caller's shop's ready files. ErrInvalid for
// an unknown kind; ErrNotFound for an After that is not one of the shop's
// files.
func (s *Service) List(ctx context.Context, q ListQuery) ([]ports.File, error) {
	c, err := s.policy.Require(ctx, access.FilesRead)
	if err != nil {
		return nil, err
	}
	if q.Kind != "" {
		if _, err := s.rule(q.Kind); err != nil {
			return nil, err
		}
	}
	var out []ports.File
	err = s.store.InShop(ctx, c.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Files().List(ctx, ports.FileQuery{Kind: q.Kind, State: ports.FileReady, After: q.After, Limit: q.Limit})
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("storage: list files: %w", err)
	}
	return out, nil
}

// Delete removes a file of the caller's shop (owner and admin only): the
// row, the revocation of its public links and the "file.deleted" audit
// event commit together (AUD-2), then the object is deleted, and
// whatever a signed PUT left in the file's staging key. If that last step fails the file is gone for
// every reader and the error (wrapping the store's) reports the leftover
// object; retrying Delete then answers ErrNotFound. ErrNotFound for a file
// of another shop.
func (s *Service) Delete(ctx context.Context, id ports.FileID) error {
	c, err := s.policy.Require(ctx, access.FilesDelete)
	if err != nil {
		return err
	}
	var f ports.File
	err = s.store.InShop(ctx, c.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if f, err = tx.Files().Get(ctx, id); err != nil {
			return err
		}
		if err := tx.Files().Delete(ctx, id); err != nil {
			return err
		}
		// Public links to the file die with it (CAP-1).
		if _, err := tx.Capabilities().RevokeRecord(ctx, LinkRecordType, id.String(), s.clock.Now()); err != nil {
			return err
		}
		_, err = audit.AppendBy(ctx, tx, s.clock, c, fileChange("file.deleted", f, describe(f), nil))
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: delete file %s: %w", id, err)
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.objects.Delete(ctx, f.ObjectKey); err != nil {
		return fmt.Errorf("storage: file %s deleted, its object %s was not: %w", id, f.ObjectKey, errors.Join(ErrObjectLeft, err))
	}
	// What a signed PUT left in the staging key (before Finalize, or
	// through the URL after it) goes too; it was never the file's content.
	if err := s.objects.Delete(ctx, StagingKey(c.Shop, id)); err != nil {
		return fmt.Errorf("storage: file %s deleted, its staging object was not: %w", id, errors.Join(ErrObjectLeft, err))
	}
	return nil
}

// ErrObjectLeft marks a Delete whose row is gone but whose object could
// not be deleted.
var ErrObjectLeft = errors.New("object left behind")
