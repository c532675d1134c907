package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/minio/minio-go/v7"

	"github.com/stockadehq/stockade/ports"
)

// maxCopySize is the largest object one CopyObject request copies (S3's
// limit); larger ones are copied part by part with ComposeObject.
const maxCopySize = 5 << 30

// Move implements ports.ObjectStore with a server-side copy of the version
// of src that Stat saw (x-amz-copy-source-if-match on every request, so a
// multipart copy never mixes versions), then a delete of src. The bytes do
// not pass through this process. A copy is atomic for readers of dst. If
// src is overwritten between the Stat and the copy, the copy is refused
// and Move starts again, a few times.
func (s *Store) Move(ctx context.Context, src, dst string) error {
	if err := ports.ValidateMove(src, dst); err != nil {
		return mapErr(ctx, "move", src, err)
	}
	var err error
	for range 3 {
		if err = s.copyOnce(ctx, src, dst); err == nil || !errors.Is(err, errSourceChanged) {
			break
		}
	}
	if errors.Is(err, errSourceChanged) {
		return fmt.Errorf("s3: move %q: %w", src, err)
	}
	if err != nil {
		return err
	}
	return mapErr(ctx, "move", src, s.client.RemoveObject(ctx, s.cfg.Bucket, src, minio.RemoveObjectOptions{}))
}

var errSourceChanged = errors.New("the source changed during the copy")

// copyOnce copies the current version of src to dst.
func (s *Store) copyOnce(ctx context.Context, src, dst string) error {
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, src, minio.StatObjectOptions{})
	if err != nil {
		return mapErr(ctx, "move", src, err)
	}
	from := minio.CopySrcOptions{Bucket: s.cfg.Bucket, Object: src, MatchETag: oi.ETag}
	to := minio.CopyDestOptions{Bucket: s.cfg.Bucket, Object: dst, Encryption: s.sse}
	if oi.Size <= maxCopySize {
		_, err = s.client.CopyObject(ctx, to, from)
	} else {
		_, err = s.client.ComposeObject(ctx, to, from)
	}
	if code := minio.ToErrorResponse(err).Code; code == "PreconditionFailed" {
		return errSourceChanged
	}
	return mapErr(ctx, "move", src, err)
}
