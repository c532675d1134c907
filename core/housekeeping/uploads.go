package housekeeping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// MinUploadGrace is the shortest Config.UploadGrace: longer than a signed
// upload URL lives (storage.UploadURLExpiry), with room for the upload
// and its Finalize.
const MinUploadGrace = time.Hour

// maxPendingPerPass bounds the pending uploads one pass deletes in one
// shop; the next pass takes the rest.
const maxPendingPerPass = ports.MaxFilePageSize

// staleStaging deletes shop's staging objects (what signed PUTs wrote,
// see storage.StagingKey) last written before cutoff and returns how
// many. A staging object that old belongs to no upload that can still
// finalize: its URL expired long ago, and Finalize would have moved it.
func (s *Sweeper) staleStaging(ctx context.Context, shop ports.ShopID, cutoff time.Time) (int, error) {
	prefix := storage.StagingPrefix(shop)
	n := 0
	for token := ""; ; {
		page, err := s.objects.List(ctx, prefix, token, ports.MaxListPageSize)
		if err != nil {
			return n, fmt.Errorf("list staging objects: %w", err)
		}
		for _, o := range page.Objects {
			if !o.ModTime.Before(cutoff) {
				continue
			}
			if err := s.objects.Delete(ctx, o.Key); err != nil {
				return n, fmt.Errorf("delete staging object: %w", err)
			}
			n++
		}
		if token = page.NextPageToken; token == "" {
			return n, nil
		}
	}
}

// filesTx is the part of a unit of work stalePending needs.
type filesTx interface{ Files() ports.FileRepo }

// stalePending deletes, in the unit of work tx, up to maxPendingPerPass
// of its shop's pending files created before cutoff: uploads that were
// never finalized or whose server stopped half-way. It returns them, so
// that their objects can be deleted once the deletion has committed.
func stalePending(ctx context.Context, tx filesTx, cutoff time.Time) ([]ports.File, error) {
	files, err := tx.Files().List(ctx, ports.FileQuery{State: ports.FilePending, Limit: maxPendingPerPass})
	if err != nil {
		return nil, err
	}
	var gone []ports.File
	for _, f := range files {
		if !f.CreatedAt.Before(cutoff) {
			break // oldest first
		}
		if err := tx.Files().Delete(ctx, f.ID); err != nil && !errors.Is(err, ports.ErrNotFound) {
			return nil, err
		}
		gone = append(gone, f)
	}
	return gone, nil
}

// deleteUploadObjects deletes what the deleted pending files may have
// left in the object store: their staging object, their object, and the
// copies a Finalize cut off made (keys starting with the object's key).
func (s *Sweeper) deleteUploadObjects(ctx context.Context, shop ports.ShopID, files []ports.File) error {
	var errs []error
	for _, f := range files {
		keys := []string{storage.StagingKey(shop, f.ID)}
		page, err := s.objects.List(ctx, f.ObjectKey, "", ports.MaxListPageSize)
		if err != nil {
			errs = append(errs, err)
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		for _, k := range keys {
			if err := s.objects.Delete(ctx, k); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete objects of pending uploads: %w", err)
	}
	return nil
}

// sweepPartial deletes what interrupted writes left in the object store,
// when it has such leftovers (ports.PartialSweeper).
func (s *Sweeper) sweepPartial(ctx context.Context, cutoff time.Time) (int, error) {
	p, ok := s.objects.(ports.PartialSweeper)
	if !ok {
		return 0, nil
	}
	n, err := p.SweepPartial(ctx, cutoff)
	if err != nil {
		return n, fmt.Errorf("housekeeping: partial objects: %w", err)
	}
	return n, nil
}
