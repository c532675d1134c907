// Package s3 is the ports.ObjectStore on S3-compatible storage — MinIO,
// Cloudflare R2, AWS S3 — through minio-go. Open refuses a bucket that is
// missing (unless asked to create it) or whose policy grants anonymous
// access (STO-1), and, when server-side encryption is configured, one
// without default encryption.
//
// Stores should expire incomplete multipart uploads with a bucket
// lifecycle rule (AbortIncompleteMultipartUpload): an upload of a large
// object cut off mid-way leaves its parts behind, invisible but billed.
package s3

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/stockadehq/stockade/ports"
)

// Store is a ports.ObjectStore on one bucket. It is safe for concurrent
// use and holds no resources beyond minio-go's connection pool.
type Store struct {
	client *minio.Client
	core   minio.Core
	cfg    Config
	clock  ports.Clock
	sse    encrypt.ServerSide // nil without SSE
}

var _ ports.ObjectStore = (*Store)(nil)

// Open connects to the bucket of cfg and checks it: it exists (or is
// created when cfg.CreateBucket), its policy grants nothing to anonymous
// callers (else a *PublicBucketError matching ErrPublicBucket), and with
// cfg.SSE its default encryption is on. An unreachable store is
// ErrUnavailable; bad settings are ErrInvalid.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.validate(true); err != nil {
		return nil, fmt.Errorf("s3: %s: %w", cfg, err)
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = defaultPartSize
	}
	s := &Store{cfg: cfg, clock: cfg.Clock}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if cfg.SSE {
		s.sse = encrypt.NewSSE()
	}
	var err error
	if s.client, err = s.newClient(); err != nil {
		return nil, err
	}
	if err := s.checkBucket(ctx, cfg.CreateBucket); err != nil {
		return nil, err
	}
	if s.cfg.Region == "" {
		// Presigning needs the region; minio-go would look it up per
		// request otherwise.
		region, err := s.client.GetBucketLocation(ctx, cfg.Bucket)
		if err != nil {
			return nil, mapErr(ctx, "bucket location", cfg.Bucket, err)
		}
		s.cfg.Region = region
		if s.client, err = s.newClient(); err != nil {
			return nil, err
		}
	}
	s.core = minio.Core{Client: s.client}
	return s, nil
}

func (s *Store) newClient() (*minio.Client, error) {
	lookup := minio.BucketLookupDNS
	if s.cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(s.cfg.endpoint(), &minio.Options{
		Creds:        credentials.NewStaticV4(s.cfg.AccessKey, s.cfg.SecretKey.Reveal(), s.cfg.SessionToken.Reveal()),
		Secure:       !s.cfg.Insecure,
		Region:       s.cfg.Region,
		BucketLookup: lookup,
		Transport:    s.cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %s: %w", s.cfg, ports.Invalid("endpoint", err.Error()))
	}
	return c, nil
}

// Ping repeats Open's checks (three requests, nothing created): nil, or
// an error matching ErrUnavailable, ErrNotFound (bucket gone),
// ErrPublicBucket (a policy made it public since) or ErrUnsupported. For
// readiness probes.
func (s *Store) Ping(ctx context.Context) error { return s.checkBucket(ctx, false) }

// checkBucket performs Open's start-up checks, creating a missing bucket
// if create.
func (s *Store) checkBucket(ctx context.Context, create bool) error {
	b := s.cfg.Bucket
	ok, err := s.client.BucketExists(ctx, b)
	if err != nil {
		return mapErr(ctx, "check bucket", b, err)
	}
	if !ok {
		if !create {
			return fmt.Errorf("s3: bucket %q does not exist at %s (create it, or set create_bucket=true): %w", b, s.cfg.endpoint(), ports.ErrNotFound)
		}
		if err := s.client.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: s.cfg.Region}); err != nil {
			return mapErr(ctx, "create bucket", b, err)
		}
	}
	policy, err := s.client.GetBucketPolicy(ctx, b)
	if err != nil {
		return mapErr(ctx, "read bucket policy", b, err)
	}
	grants, err := anonymousGrants(policy)
	if err != nil {
		return fmt.Errorf("s3: bucket %q: cannot verify that the bucket is private: %w", b, err)
	}
	if len(grants) > 0 {
		return &PublicBucketError{Bucket: b, Statements: grants}
	}
	if s.cfg.SSE {
		cfg, err := s.client.GetBucketEncryption(ctx, b)
		if err != nil || cfg == nil || len(cfg.Rules) == 0 {
			reason := "none is configured"
			if err != nil {
				reason = mapErr(ctx, "read bucket encryption", b, err).Error()
			}
			return fmt.Errorf("s3: bucket %q: sse=s3 needs the bucket's default encryption on, so that uploads through signed URLs are encrypted too (%s): %w", b, reason, ports.ErrUnsupported)
		}
	}
	return nil
}

// Put implements ports.ObjectStore. Objects up to PartSize go in one
// request; larger ones as a multipart upload holding about one part in
// memory.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ports.ValidateObjectKey(key); err != nil {
		return mapErr(ctx, "put", key, err)
	}
	if size < 0 {
		return mapErr(ctx, "put", key, ports.Invalid("size", "must not be negative"))
	}
	ct, err := ports.NormalizeContentType(contentType)
	if err != nil {
		return mapErr(ctx, "put", key, err)
	}
	if err := ctx.Err(); err != nil {
		return mapErr(ctx, "put", key, err)
	}
	body := &ports.ExactReader{R: r, Size: size}
	var src io.Reader = body
	if size == 0 {
		// minio-go reads nothing for an empty object; check the body is
		// empty before anything is written.
		if _, err := body.Read(make([]byte, 1)); err != io.EOF {
			return fmt.Errorf("s3: put %q: %w", key, body.Err())
		}
		src = strings.NewReader("")
	}
	_, err = s.client.PutObject(ctx, s.cfg.Bucket, key, src, size, minio.PutObjectOptions{
		ContentType:          ct,
		PartSize:             s.cfg.PartSize,
		ServerSideEncryption: s.sse,
	})
	if body.Err() != nil {
		// The body's own failure (size lie, read error), which minio-go
		// may have reported in other words.
		return fmt.Errorf("s3: put %q: %w", key, body.Err())
	}
	return mapErr(ctx, "put", key, err)
}

// Get implements ports.ObjectStore.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ports.ObjectInfo, error) {
	if err := ports.ValidateObjectKey(key); err != nil {
		return nil, ports.ObjectInfo{}, mapErr(ctx, "get", key, err)
	}
	if offset < 0 || length < -1 {
		return nil, ports.ObjectInfo{}, mapErr(ctx, "get", key, ports.Invalid("range", "offset must be >= 0 and length >= -1"))
	}
	if err := ctx.Err(); err != nil {
		return nil, ports.ObjectInfo{}, mapErr(ctx, "get", key, err)
	}
	if length == 0 {
		return s.emptyRange(ctx, key, offset)
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0 && length <= math.MaxInt64-offset:
		_ = opts.SetRange(offset, offset+length-1) // valid: 0 <= offset <= end
	case offset > 0:
		_ = opts.SetRange(offset, 0) // to the end
	}
	rc, oi, h, err := s.core.GetObject(ctx, s.cfg.Bucket, key, opts)
	if err != nil {
		if minio.ToErrorResponse(err).Code == "InvalidRange" {
			return s.emptyRange(ctx, key, offset) // offset at the end, or an empty object
		}
		return nil, ports.ObjectInfo{}, mapErr(ctx, "get", key, err)
	}
	info := objectInfo(key, oi)
	if total, ok := contentRangeTotal(h.Get("Content-Range")); ok {
		info.Size = total
	}
	return rc, info, nil
}

// emptyRange answers a read of nothing at offset: an empty reader if the
// object exists and offset is within or at its end.
func (s *Store) emptyRange(ctx context.Context, key string, offset int64) (io.ReadCloser, ports.ObjectInfo, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, ports.ObjectInfo{}, err
	}
	if offset > info.Size {
		return nil, ports.ObjectInfo{}, mapErr(ctx, "get", key, ports.Invalid("range", fmt.Sprintf("offset %d is beyond the object's %d bytes", offset, info.Size)))
	}
	return io.NopCloser(strings.NewReader("")), info, nil
}

// contentRangeTotal reads the complete length from "bytes a-b/total".
func contentRangeTotal(v string) (int64, bool) {
	_, total, ok := strings.Cut(v, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}

func objectInfo(key string, oi minio.ObjectInfo) ports.ObjectInfo {
	return ports.ObjectInfo{
		Key:         key,
		Size:        oi.Size,
		ContentType: oi.ContentType,
		ETag:        strings.Trim(oi.ETag, `"`),
		ModTime:     oi.LastModified.UTC(),
	}
}

// Stat implements ports.ObjectStore.
func (s *Store) Stat(ctx context.Context, key string) (ports.ObjectInfo, error) {
	if err := ports.ValidateObjectKey(key); err != nil {
		return ports.ObjectInfo{}, mapErr(ctx, "stat", key, err)
	}
	if err := ctx.Err(); err != nil {
		return ports.ObjectInfo{}, mapErr(ctx, "stat", key, err)
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return ports.ObjectInfo{}, mapErr(ctx, "stat", key, err)
	}
	return objectInfo(key, oi), nil
}

// Delete implements ports.ObjectStore; S3 itself treats a missing key as
// deleted.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ports.ValidateObjectKey(key); err != nil {
		return mapErr(ctx, "delete", key, err)
	}
	if err := ctx.Err(); err != nil {
		return mapErr(ctx, "delete", key, err)
	}
	err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{})
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return nil // some S3-compatible stores say so anyway
	}
	return mapErr(ctx, "delete", key, err)
}

// List implements ports.ObjectStore with one ListObjectsV2 request per
// page. S3 does not list content types: List leaves ContentType empty
// (Stat has it). Keys that break ports.ValidateObjectKey (e.g. "dir/"
// markers written by other tools) are skipped.
func (s *Store) List(ctx context.Context, prefix, pageToken string, pageSize int) (ports.ObjectPage, error) {
	if err := ports.ValidateObjectPrefix(prefix); err != nil {
		return ports.ObjectPage{}, mapErr(ctx, "list", prefix, err)
	}
	after, err := ports.ParseObjectPageToken(prefix, pageToken)
	if err != nil {
		return ports.ObjectPage{}, mapErr(ctx, "list", prefix, err)
	}
	if pageSize <= 0 || pageSize > ports.MaxListPageSize {
		pageSize = ports.MaxListPageSize
	}
	if err := ctx.Err(); err != nil {
		return ports.ObjectPage{}, mapErr(ctx, "list", prefix, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's lister when the page is full
	var page ports.ObjectPage
	more := false
	for oi := range s.client.ListObjectsIter(ctx, s.cfg.Bucket, minio.ListObjectsOptions{
		Prefix: prefix, Recursive: true, StartAfter: after, MaxKeys: pageSize + 1,
	}) {
		if oi.Err != nil {
			return ports.ObjectPage{}, mapErr(ctx, "list", prefix, oi.Err)
		}
		if ports.ValidateObjectKey(oi.Key) != nil {
			continue
		}
		if len(page.Objects) == pageSize {
			more = true
			break
		}
		info := objectInfo(oi.Key, oi)
		info.ContentType = ""
		page.Objects = append(page.Objects, info)
	}
	if more {
		page.NextPageToken = ports.ObjectPageToken(page.Objects[pageSize-1].Key)
	}
	return page, nil
}
