package ports

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"
)

// Object key limits. Keys are validated once, here, by ValidateObjectKey;
// every ObjectStore calls it and so agrees on what a key is.
const (
	// MaxObjectKeyLen is the longest key in bytes (S3's limit).
	MaxObjectKeyLen = 1024
	// MaxObjectKeySegment is the longest slash-separated segment in bytes,
	// so that a file-system store can map a segment to a file name with a
	// short suffix under the usual 255-byte NAME_MAX.
	MaxObjectKeySegment = 250
	// MaxListPageSize is the largest page List returns (S3's limit); a
	// non-positive or larger pageSize asks for this many.
	MaxListPageSize = 1000
	// MinSignedURLExpiry and MaxSignedURLExpiry bound SignedURL's expiry
	// (S3's limits for SigV4 presigned URLs).
	MinSignedURLExpiry = time.Second
	MaxSignedURLExpiry = 7 * 24 * time.Hour
	// DefaultContentType is stored when Put is given no content type.
	DefaultContentType = "application/octet-stream"
)

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key         string
	Size        int64  // the whole object's size in bytes, also for range reads
	ContentType string // as given to Put, or DefaultContentType
	// ETag is an opaque version tag without quotes: it changes whenever the
	// content changes and is equal for reads of the same version. It is not
	// a content hash callers may compute themselves (S3 multipart ETags
	// are not).
	ETag string
	// ModTime is when this version was written, in UTC. Resolution is the
	// store's (S3: one second).
	ModTime time.Time
}

// ObjectPage is one page of List.
type ObjectPage struct {
	Objects []ObjectInfo // in ascending byte order of Key
	// NextPageToken is passed to List to continue after this page; ""
	// when there is nothing more.
	NextPageToken string
}

// SignedURLOptions shape what a signed URL allows. Every field is covered
// by the signature: a holder cannot change it.
type SignedURLOptions struct {
	// ContentType: for GET, the Content-Type the response is served with
	// (overriding the stored one); for PUT, the content type the upload
	// must declare and is stored with. Empty: GET serves the stored type,
	// PUT stores what the request declares.
	ContentType string
	// ContentDisposition (GET only) is the Content-Disposition the response
	// is served with, e.g. `attachment; filename="invoice.pdf"`.
	ContentDisposition string
	// ContentLength (PUT only), when positive, is the exact size the
	// upload must have; a body of another length is refused.
	ContentLength int64
}

// ObjectStore keeps blobs under string keys. It is the port
// behind file storage (STO-1): an S3-compatible bucket or a local directory.
// Objects are private; the only way to hand one to a browser is SignedURL.
// The core tenant-prefixes every key (STO-2); stores know nothing of shops.
//
// The contract every method keeps, checked by porttest.TestObjectStore:
//   - Keys are checked with ValidateObjectKey first: a bad key returns an
//     error matching ErrInvalid and touches nothing.
//   - A missing key returns an error matching ErrNotFound.
//   - A dependency that cannot be reached returns ErrUnavailable.
//   - A cancelled or expired ctx returns an error matching ctx.Err() and
//     leaves no partial object.
//   - Writes are atomic: a reader sees the whole old version or the whole
//     new one, never a mixture, a truncated body or a missing object
//     during an overwrite.
//   - Implementations are safe for concurrent use. Of concurrent Puts to
//     one key, one wins whole.
//
// Callers must not keep a key that is the "directory" of another ("a"
// beside "a/b"): MinIO stores both but lists only "a". The core's keys
// (shops/{shop}/…/{id}) never do.
type ObjectStore interface {
	// Put stores size bytes read from r under key, replacing any object
	// there. size is known up front: if r yields fewer or more bytes, Put
	// returns an error matching ErrInvalid and leaves the key as it was.
	// An error reading r is returned wrapped. contentType must parse as a
	// media type; "" stores DefaultContentType.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens length bytes of key starting at offset; length -1 reads to
	// the end. A range reaching past the end is cut at the end; offset
	// equal to the size reads nothing; offset beyond the size, a negative
	// offset or a length below -1 is ErrInvalid. The ObjectInfo describes
	// the whole object. The reader sees the version current when Get
	// returned, whatever is written afterwards; the caller must Close it.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)
	// Stat describes key without reading it.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Delete removes key. Deleting a missing key is not an error, so that
	// Delete is idempotent and can be retried.
	Delete(ctx context.Context, key string) error
	// List returns up to pageSize objects whose keys start with prefix, in
	// ascending byte order, after the position pageToken names ("" = the
	// start). prefix is matched byte-wise ("a/b" matches "a/bc/d"); it is
	// "" or a key prefix that passes ValidateObjectPrefix. A token is only
	// meaningful with the prefix it was issued for; a malformed token is
	// ErrInvalid. Objects written or deleted while paging may or may not
	// appear, but no object present throughout is skipped or repeated.
	// Listed ObjectInfos may leave ContentType empty (S3 does not list
	// it); Stat has it.
	List(ctx context.Context, prefix, pageToken string, pageSize int) (ObjectPage, error)
	// Move makes dst hold src's object (its bytes and content type),
	// replacing any object at dst, then deletes src. Readers of dst see
	// the whole old or the whole new object. If src is written while it
	// moves, dst gets one whole version. Once Move returns, nothing
	// written to src afterwards (by Put or a signed PUT URL for src)
	// reaches dst: this is how a checked upload is promoted from the key
	// its uploader may write to a key nobody outside may write to (STO-3).
	// dst's ModTime is the time of the move or of src's write. ErrNotFound
	// when src is missing (dst is unchanged); ErrInvalid for a bad key or
	// src equal to dst. Of two concurrent Moves of one src, one may fail
	// with ErrNotFound.
	Move(ctx context.Context, src, dst string) error
	// SignedURL returns an absolute URL that lets its holder perform method
	// (http.MethodGet or http.MethodPut) on key, with no other credential,
	// until expiry from now by the store's clock. expiry must lie within
	// [MinSignedURLExpiry, MaxSignedURLExpiry]. A PUT through the URL has
	// Put's semantics and must send Content-Length, and Content-Type equal
	// to opts.ContentType when that is set. The key need not exist yet.
	// The server refuses (4xx) an expired URL and one whose method, key,
	// options or signature was altered. ErrInvalid for another method, a
	// bad key or options; ErrUnsupported if the store cannot sign URLs.
	SignedURL(ctx context.Context, method, key string, expiry time.Duration, opts SignedURLOptions) (string, error)
}

// PartialSweeper is implemented by object stores whose interrupted
// writes leave leftovers that no key names (the localfs store's
// temporary files of a crashed Put). S3-compatible stores leave
// incomplete multipart uploads instead, which a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) expires. Housekeeping calls
// SweepPartial when the store implements it.
type PartialSweeper interface {
	// SweepPartial deletes the leftovers of writes begun before before
	// and returns how many it deleted. Writes in progress that began
	// earlier may be cut off, so callers pass a time well in the past.
	SweepPartial(ctx context.Context, before time.Time) (int, error)
}

// ValidateMove checks Move's keys the way every store does: both valid
// keys, and different. The error matches ErrInvalid. For adapters.
func ValidateMove(src, dst string) error {
	if err := ValidateObjectKey(src); err != nil {
		return err
	}
	if err := ValidateObjectKey(dst); err != nil {
		return err
	}
	if src == dst {
		return Invalid("object key", "a move needs two different keys")
	}
	return nil
}

// ValidateObjectKey checks key against the rules every ObjectStore keeps:
// 1 to MaxObjectKeyLen bytes of UTF-8, relative (no leading "/"), split by
// "/" into segments that are non-empty (so no trailing or doubled "/"),
// not "." or "..", at most MaxObjectKeySegment bytes, and free of
// backslashes and control characters (NUL included). Such a key cannot
// name anything outside a store's root on any file system, and survives a
// URL path unchanged after escaping. The error matches ErrInvalid.
func ValidateObjectKey(key string) error {
	switch {
	case key == "":
		return Invalid("object key", "must not be empty")
	case strings.HasSuffix(key, "/"):
		return Invalid("object key", "must not end with /")
	}
	return validateKeyPath("object key", key)
}

// ValidateObjectPrefix checks a List prefix: "" (everything) or a string
// that ValidateObjectKey would accept once a final segment is completed;
// it may end with "/". The error matches ErrInvalid.
func ValidateObjectPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if p, ok := strings.CutSuffix(prefix, "/"); ok {
		if p == "" {
			return Invalid("object prefix", "must not start with /")
		}
		return validateKeyPath("object prefix", p)
	}
	// A partial last segment such as "shops/ab" is fine; "." and ".." only
	// name a traversal when a "/" follows, which would make them a whole
	// segment and is checked above.
	dir, last, found := cutLast(prefix, "/")
	if !found {
		return validateChars("object prefix", prefix)
	}
	if err := validateKeyPath("object prefix", dir); err != nil {
		return err
	}
	return validateChars("object prefix", last)
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// validateKeyPath checks a non-empty path of complete segments.
func validateKeyPath(field, p string) error {
	if len(p) > MaxObjectKeyLen {
		return Invalid(field, fmt.Sprintf("must be at most %d bytes", MaxObjectKeyLen))
	}
	if strings.HasPrefix(p, "/") {
		return Invalid(field, "must be relative (no leading /)")
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "":
			return Invalid(field, "must not contain an empty segment (//)")
		case seg == "." || seg == "..":
			return Invalid(field, "must not contain . or .. segments")
		case len(seg) > MaxObjectKeySegment:
			return Invalid(field, fmt.Sprintf("segments must be at most %d bytes", MaxObjectKeySegment))
		}
	}
	return validateChars(field, p)
}

func validateChars(field, s string) error {
	if len(s) > MaxObjectKeyLen {
		return Invalid(field, fmt.Sprintf("must be at most %d bytes", MaxObjectKeyLen))
	}
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8")
	}
	for _, r := range s {
		switch {
		case r == '\\':
			return Invalid(field, "must not contain a backslash")
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// NormalizeContentType checks a content type given to Put or SignedURL and
// returns it, or DefaultContentType for "". It must parse as a media type
// (mime.ParseMediaType) and be at most 255 bytes; the error matches
// ErrInvalid. For adapters.
func NormalizeContentType(ct string) (string, error) {
	if ct == "" {
		return DefaultContentType, nil
	}
	if err := validateHeaderValue("content type", ct); err != nil {
		return "", err
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") {
		return "", Invalid("content type", "must be a media type such as text/plain")
	}
	return ct, nil
}

// ValidateSignedURL checks SignedURL's arguments the way every store does.
// ErrInvalid when the
// method is not GET or PUT, the key is bad, expiry is out of range, an
// option does not apply to the method, or a header value is malformed.
// For adapters.
func ValidateSignedURL(method, key string, expiry time.Duration, opts SignedURLOptions) error {
	if method != "GET" && method != "PUT" {
		return Invalid("method", "must be GET or PUT")
	}
	if err := ValidateObjectKey(key); err != nil {
		return err
	}
	if expiry < MinSignedURLExpiry || expiry > MaxSignedURLExpiry {
		return Invalid("expiry", fmt.Sprintf("must be between %v and %v", MinSignedURLExpiry, MaxSignedURLExpiry))
	}
	if opts.ContentType != "" {
		if _, err := NormalizeContentType(opts.ContentType); err != nil {
			return err
		}
	}
	switch method {
	case "GET":
		if opts.ContentLength != 0 {
			return Invalid("content length", "applies to PUT only")
		}
		if opts.ContentDisposition != "" {
			if err := validateHeaderValue("content disposition", opts.ContentDisposition); err != nil {
				return err
			}
			if _, _, err := mime.ParseMediaType(opts.ContentDisposition); err != nil {
				return Invalid("content disposition", `must look like attachment; filename="name.pdf"`)
			}
		}
	case "PUT":
		if opts.ContentDisposition != "" {
			return Invalid("content disposition", "applies to GET only")
		}
		if opts.ContentLength < 0 {
			return Invalid("content length", "must not be negative")
		}
	}
	return nil
}

func validateHeaderValue(field, v string) error {
	if len(v) > 255 {
		return Invalid(field, "must be at most 255 bytes")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			return Invalid(field, "must be printable ASCII")
		}
	}
	return nil
}

// ObjectPageToken returns a List page token that continues after key: the
// key, base64url-encoded. Stores whose listing can start after a key use
// it, so tokens look alike everywhere. For adapters.
func ObjectPageToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// ParseObjectPageToken returns the key an ObjectPageToken continues after,
// or "" for the empty token. ErrInvalid unless token encodes a valid key
// that starts with prefix. For adapters.
func ParseObjectPageToken(prefix, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || ValidateObjectKey(string(b)) != nil || !strings.HasPrefix(string(b), prefix) {
		return "", Invalid("page token", "malformed, or issued for another prefix")
	}
	return string(b), nil
}
