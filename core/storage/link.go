package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/ports"
)

// Public links to files (CAP-1): a member with files.read mints a link
// that lets its holder download one file of the shop, nothing else.
const (
	// LinkRecordType is the record type of file links; the record ID is
	// the file ID.
	LinkRecordType = "file"
	// LinkDownload is the one action a file link grants.
	LinkDownload = "download"
)

// LinkKind is the capability.Kind of file links: action LinkDownload,
// minted by members holding access.FilesRead, for ready files of the
// caller's shop only.
func LinkKind() capability.Kind {
	return capability.Kind{
		Type: LinkRecordType, Actions: []string{LinkDownload}, Permission: access.FilesRead,
		Exists: func(ctx context.Context, tx ports.ShopTx, recordID string) error {
			id, err := ports.ParseFileID(recordID)
			if err != nil {
				return err
			}
			f, err := tx.Files().Get(ctx, id)
			if err != nil {
				return fmt.Errorf("file %s: %w", id, err)
			}
			if f.State != ports.FileReady {
				return fmt.Errorf("file %s is still being uploaded: %w", id, ports.ErrNotFound)
			}
			return nil
		},
	}
}

// LinkDownloadURL is DownloadURL for the holder of a file link: the
// caller's scope must be a capability for exactly file id with
// LinkDownload (access.RequireRecord), and the file must still be ready
// in the link's shop. Every refusal, a deleted file included, is
// access.ErrNoCapability.
func (s *Service) LinkDownloadURL(ctx context.Context, id ports.FileID) (Download, error) {
	c, err := access.RequireRecord(ctx, LinkRecordType, id.String(), LinkDownload)
	if err != nil {
		return Download{}, err
	}
	f, err := s.readyFile(ctx, c.Shop, id)
	if err != nil {
		if errors.Is(err, ports.ErrNotFound) {
			return Download{}, access.ErrNoCapability
		}
		return Download{}, err
	}
	return s.signDownload(ctx, c.Shop, f)
}
